#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "queue.h"

json_t *
queue_plan_obj(const struct act *a)
{
	return json_pack("{s:s,s:s,s:s,s:O,s:O,s:s?,s:O?,s:I}",
	    "customer", a->customer ? a->customer->name : "",
	    "target", a->target_name, "verb", a->verb,
	    "params", a->params, "before", a->before ? a->before : json_null(),
	    "change", a->change, "restore", a->restore,
	    "undo_of", (json_int_t)a->undo_of);
}

void
queue_plan_hash(struct act *a)
{
	json_t	*o = queue_plan_obj(a);
	char	*s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);

	sha256_hex(s, strlen(s), a->plan_hash);
	free(s);
	json_decref(o);
}

int
queue_insert(struct store *s, struct act *a, int step_no, int stop_on_fail,
    const char *actor)
{
	char	ts[32];
	int	r;

	fmt_time(time(NULL), ts);
	r = store_exec(s, "INSERT INTO actions(run_id, incident, customer, "
	    "step, step_no, stop_on_fail, target, verb, params, restore, "
	    "undo_of, state, before, change, plan_hash, approval_required, "
	    "approvals_needed, requested_by, requested_uid, message, "
	    "updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    "isssiissjjisjssiisiss", a->run_id, a->incident, a->customer->name,
	    a->step, (int64_t)step_no, (int64_t)stop_on_fail, a->target_name,
	    a->verb, a->params,
	    a->restore, a->undo_of, act_state_name(a->state), a->before,
	    a->change, a->plan_hash, (int64_t)a->approval_required,
	    (int64_t)a->approvals_needed, a->requested_by, a->requested_uid,
	    a->msg[0] ? a->msg : NULL, ts);
	if (r != 0)
		return r;
	a->id = sqlite3_last_insert_rowid(s->db);
	return journal_append(s, actor, a->incident, a->id, "queued",
	    json_pack("{s:s,s:s,s:s,s:O,s:O?,s:s?,s:s,s:b,s:i,s:I,s:O?,"
	    "s:s?}",
	    "state", act_state_name(a->state), "verb", a->verb,
	    "target", a->target_name, "params", a->params,
	    "before", a->before, "change", a->change,
	    "plan_hash", a->plan_hash, "approval_required",
	    a->approval_required, "approvals_needed", a->approvals_needed,
	    "undo_of", (json_int_t)a->undo_of, "restore", a->restore,
	    "message", a->msg[0] ? a->msg : NULL));
}

int
queue_transition(struct store *s, struct act *a, enum act_state to,
    const char *actor, const char *event, json_t *extra)
{
	enum act_state	 from = a->state;
	json_t		*p;
	char		 ts[32];
	int		 r;

	if (!act_transition_ok(from, to)) {
		json_decref(extra);
		return -EPERM;
	}
	fmt_time(time(NULL), ts);
	r = store_exec(s, "UPDATE actions SET state=?, before=?, change=?, "
	    "plan_hash=?, observed=?, message=?, updated_at=? WHERE id=?",
	    "sjsssssi", act_state_name(to), a->before, a->change,
	    a->plan_hash, NULL, a->msg[0] ? a->msg : NULL, ts, a->id);
	if (r == 0 && a->observed)
		r = store_exec(s, "UPDATE actions SET observed=? WHERE id=?",
		    "ji", a->observed, a->id);
	if (r != 0) {
		json_decref(extra);
		return r;
	}
	a->state = to;
	p = json_pack("{s:s,s:s}", "from", act_state_name(from), "to",
	    act_state_name(to));
	if (extra) {
		(void)json_object_update(p, extra);
		json_decref(extra);
	}
	return journal_append(s, actor, a->incident, a->id, event, p);
}

int
queue_load(struct store *s, const struct config *cfg, int64_t id,
    struct act **ret)
{
	sqlite3_stmt	*st;
	struct act	*a;
	char		*cust;
	int		 rc;

	st = store_q(s, "SELECT run_id, incident, customer, step, target, "
	    "verb, params, restore, undo_of, state, before, change, "
	    "plan_hash, approval_required, approvals_needed, requested_by, "
	    "requested_uid, observed, message, updated_at FROM actions "
	    "WHERE id=?",
	    "i", id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	a = act_new();
	a->id = id;
	a->run_id = sqlite3_column_int64(st, 0);
	a->incident = store_col_str(st, 1);
	cust = store_col_str(st, 2);
	a->step = store_col_str(st, 3);
	a->target_name = store_col_str(st, 4);
	a->verb = store_col_str(st, 5);
	a->params = store_col_json(st, 6);
	a->restore = store_col_json(st, 7);
	a->undo_of = sqlite3_column_int64(st, 8);
	if (act_state_parse((const char *)sqlite3_column_text(st, 9),
	    &a->state) != 0)
		a->state = ST_UNKNOWN;
	a->before = store_col_json(st, 10);
	a->change = store_col_str(st, 11);
	if (sqlite3_column_text(st, 12))
		(void)snprintf(a->plan_hash, sizeof(a->plan_hash), "%s",
		    (const char *)sqlite3_column_text(st, 12));
	a->approval_required = sqlite3_column_int(st, 13);
	a->approvals_needed = sqlite3_column_int(st, 14);
	a->requested_by = store_col_str(st, 15);
	a->requested_uid = sqlite3_column_int64(st, 16);
	a->observed = store_col_json(st, 17);
	if (sqlite3_column_text(st, 18))
		(void)snprintf(a->msg, sizeof(a->msg), "%s",
		    (const char *)sqlite3_column_text(st, 18));
	if (sqlite3_column_text(st, 19) == NULL || parse_time(
	    (const char *)sqlite3_column_text(st, 19), &a->state_since) != 0)
		a->state_since = 0;
	(void)sqlite3_reset(st);
	if (a->params == NULL)
		a->params = json_object();
	a->incident_info = queue_incident_info(s, a->incident);
	if (cust && (a->customer = config_customer(cfg, cust)) != NULL)
		a->target = config_target(a->customer, a->target_name);
	/* The row keeps the customer's name even if config dropped it. */
	free(cust);
	*ret = a;
	return 0;
}

/*
 * Isolations in force for the incident: succeeded, not themselves undos,
 * and with no undo that is queued, running or done (a release in flight
 * already counts as released).
 */
static json_t *
isolated_hosts(struct store *s, const char *incident)
{
	sqlite3_stmt	*st;
	json_t		*arr = json_array(), *p;
	const char	*h;

	/* '+' keeps SQLite on the (incident, verb) index: picking the
	 * state or undo_of index instead scans nearly every action. */
	st = store_q(s, "SELECT a.id, a.params FROM actions a WHERE "
	    "a.incident=? AND a.verb=? AND +a.state='succeeded' AND "
	    "+a.undo_of=0 AND NOT EXISTS (SELECT 1 FROM actions u WHERE "
	    "u.undo_of=a.id AND u.state NOT IN ('failed','rejected',"
	    "'expired')) ORDER BY a.id", "ss", incident, QUEUE_ISOLATE_VERB);
	while (sqlite3_step(st) == SQLITE_ROW) {
		p = store_col_json(st, 1);
		h = json_string_value(json_object_get(p, "host"));
		if (h == NULL)
			h = json_string_value(json_object_get(p, "ip"));
		if (h != NULL)
			(void)json_array_append_new(arr, json_pack("{s:I,s:s}",
			    "action", (json_int_t)sqlite3_column_int64(st, 0),
			    "host", h));
		json_decref(p);
	}
	(void)sqlite3_reset(st);
	return arr;
}

json_t *
queue_incident_info(struct store *s, const char *incident)
{
	sqlite3_stmt	*st;
	json_t		*o = NULL, *rec;

	if (incident == NULL)
		return NULL;
	st = store_q(s, "SELECT aware_at, record FROM incidents WHERE id=?",
	    "s", incident);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rec = store_col_json(st, 1);
		o = json_pack("{s:s,s:s?,s:O?,s:O?}", "id", incident,
		    "aware_at", (const char *)sqlite3_column_text(st, 0),
		    "occurred_from", json_object_get(rec, "occurred_from"),
		    "occurred_to", json_object_get(rec, "occurred_to"));
		json_decref(rec);
	}
	(void)sqlite3_reset(st);
	if (o != NULL)
		(void)json_object_set_new(o, "isolated_hosts",
		    isolated_hosts(s, incident));
	return o;
}

/* The host an isolation act names: its host param, else its ip param. */
static const char *
isolate_host_of(const struct act *a)
{
	const char	*h = act_param(a, "host");

	return h ? h : act_param(a, "ip");
}

void
queue_isolation_pending(struct act **v, size_t n)
{
	json_t		*given = NULL, *acc = json_array();
	const char	*step = NULL, *st;
	size_t		 i;

	/* Acts come in step order.  One list per step, shared by its acts
	 * and never changed once handed out: a fan-out of thousands of
	 * isolations costs one copy per step, not one per act. */
	for (i = 0; i < n; i++) {
		st = v[i]->step ? v[i]->step : "";
		if (given == NULL || strcmp(step, st) != 0) {
			json_decref(given);
			given = json_deep_copy(acc);
			step = st;
		}
		if (v[i]->incident_info == NULL)
			v[i]->incident_info = json_object();
		(void)json_object_set(v[i]->incident_info,
		    "isolation_pending", given);
		if (strcmp(v[i]->verb, QUEUE_ISOLATE_VERB) == 0 &&
		    isolate_host_of(v[i]) != NULL)
			(void)json_array_append_new(acc, json_string(
			    isolate_host_of(v[i])));
	}
	json_decref(given);
	json_decref(acc);
}

int
queue_parse_id(const char *s, int64_t *ret)
{
	char		*end;
	long long	 v;

	if (*s == 'A' || *s == 'a')
		s++;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

json_t *
queue_act_json(const struct act *a)
{
	return json_pack("{s:I,s:I,s:s,s:s?,s:s,s:s,s:s,s:O,s:O?,s:s?,"
	    "s:O?,s:s,s:b,s:i,s:s?,s:I,s:s?,s:O?,s:I}",
	    "id", (json_int_t)a->id, "run", (json_int_t)a->run_id,
	    "incident", a->incident, "customer",
	    a->customer ? a->customer->name : NULL, "step", a->step,
	    "target", a->target_name, "verb", a->verb, "params", a->params,
	    "before", a->before, "change", a->change,
	    "observed", a->observed, "state", act_state_name(a->state),
	    "approval_required", a->approval_required,
	    "approvals_needed", a->approvals_needed,
	    "requested_by", a->requested_by,
	    "requested_uid", (json_int_t)a->requested_uid,
	    "message", a->msg[0] ? a->msg : NULL, "restore", a->restore,
	    "undo_of", (json_int_t)a->undo_of);
}
