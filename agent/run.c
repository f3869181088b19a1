/*
 * run: plan (read-only), run (queue), undo, and the read side of the
 * queue (queue, show, run status).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "driver.h"
#include "journal.h"
#include "queue.h"
#include "runbook.h"

struct prepared {
	struct runbook	 *rb;
	struct customer	 *cu;
	struct act	**v;
	size_t		  n;
	const char	 *incident;
};

static void
prepared_free(struct prepared *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		act_free(p->v[i]);
	free(p->v);
	runbook_free(p->rb);
}

/* Parses, authorises, expands and checks.  NULL on success. */
static json_t *
prepare(struct agent *ag, const struct caller *c, json_t *req,
    struct prepared *p)
{
	const char	*file = json_string_value(json_object_get(req,
	    "runbook_name"));
	const char	*text = json_string_value(json_object_get(req,
	    "runbook_text"));
	json_t		*given = json_object_get(req, "params"), *e;
	json_t		*empty = NULL;
	char		 err[1024];
	size_t		 i;
	int		 r;

	memset(p, 0, sizeof(*p));
	p->incident = json_string_value(json_object_get(req, "incident"));
	if (file == NULL || text == NULL)
		return reply_err(EXIT_USAGE, "no runbook given");
	if (strlen(text) != json_string_length(json_object_get(req,
	    "runbook_text")) || strlen(text) > RUNBOOK_MAX_BYTES)
		return reply_err(EXIT_USAGE, "%s: not a text file of at most "
		    "%d bytes", file, RUNBOOK_MAX_BYTES);
	if ((p->cu = incident_customer(ag, p->incident, &e)) == NULL)
		return e;
	if ((e = require_role(ag, c, p->cu, ROLE_OPERATOR, p->incident)))
		return e;
	if (runbook_parse(file, text, &p->rb, err, sizeof(err)) != 0)
		return reply_err(EXIT_USAGE, "%s", err);
	if (given == NULL)
		given = empty = json_object();
	if (!json_is_object(given))
		return reply_err(EXIT_USAGE, "bad parameters");
	r = runbook_expand(p->rb, p->cu, given, (size_t)ag->cfg->max_actions,
	    &p->v, &p->n, err, sizeof(err));
	json_decref(empty);
	if (r != 0)
		return reply_err(EXIT_USAGE, "%s", err);
	for (i = 0; i < p->n; i++) {
		p->v[i]->incident = xstrdup(p->incident);
		p->v[i]->incident_info = queue_incident_info(ag->store,
		    p->incident);
		p->v[i]->requested_by = xstrdup(c->actor);
		p->v[i]->requested_uid = (int64_t)c->uid;
	}
	queue_isolation_pending(p->v, p->n);
	(void)exec_check(ag, p->v, p->n);
	return NULL;
}

static json_t *
plan_json(const struct act *a)
{
	return json_pack("{s:s,s:s,s:s,s:O,s:O?,s:s?,s:s,s:s?,s:b}",
	    "step", a->step, "target", a->target_name, "verb", a->verb,
	    "params", a->params, "before", a->before, "change", a->change,
	    "outcome", act_outcome_name(a),
	    "message", a->msg[0] ? a->msg : NULL,
	    "approval_required", a->approval_required);
}

json_t *
h_plan(struct agent *ag, const struct caller *c, json_t *req)
{
	struct prepared	 p;
	json_t		*e, *rep, *list;
	size_t		 i;

	if ((e = prepare(ag, c, req, &p)) != NULL) {
		prepared_free(&p);
		return e;
	}
	rep = reply_ok();
	list = json_array();
	for (i = 0; i < p.n; i++)
		(void)json_array_append_new(list, plan_json(p.v[i]));
	(void)json_object_set_new(rep, "actions", list);
	(void)json_object_set_new(rep, "runbook_sha256",
	    json_string(p.rb->sha));
	prepared_free(&p);
	return rep;
}

/* Queues acts in one transaction: the record lands whole or not at all. */
static int
enqueue(struct agent *ag, const struct caller *c, struct act **v, size_t n,
    int64_t run_id, const int *step_no, const int *stop)
{
	const struct customer *cu = v[0]->customer;
	int		 needed, r = 0;
	size_t		 i;

	needed = cu->two_leads_above > 0 &&
	    (int64_t)n > cu->two_leads_above ? 2 : 1;
	for (i = 0; i < n && r == 0; i++) {
		struct act *a = v[i];

		a->run_id = run_id;
		a->state = ST_PLANNED;
		a->approvals_needed = a->approval_required ? needed : 0;
		if ((r = queue_insert(ag->store, a, step_no[i], stop[i],
		    c->actor)) != 0)
			break;
		if (a->outcome == ACT_FAIL)
			r = queue_transition(ag->store, a, ST_FAILED,
			    c->actor, "failed", json_pack("{s:s}", "error",
			    a->msg));
		else if (a->approval_required)
			r = queue_transition(ag->store, a, ST_AWAITING,
			    c->actor, "awaiting_approval", json_pack("{s:i}",
			    "approvals_needed", a->approvals_needed));
		else
			r = queue_transition(ag->store, a, ST_APPROVED,
			    c->actor, "approved", json_pack("{s:s}", "by",
			    "runbook: approval = \"none\""));
	}
	return r;
}

static json_t *
run_counts(struct agent *ag, int64_t run_id)
{
	sqlite3_stmt	*st;
	json_t		*o = json_object();

	st = store_q(ag->store, "SELECT state, COUNT(*) FROM actions WHERE "
	    "run_id=? GROUP BY state", "i", run_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)json_object_set_new(o,
		    (const char *)sqlite3_column_text(st, 0),
		    json_integer(sqlite3_column_int64(st, 1)));
	(void)sqlite3_reset(st);
	return o;
}

json_t *
h_run(struct agent *ag, const struct caller *c, json_t *req)
{
	struct prepared	 p;
	json_t		*e, *rep, *ids;
	char		 ts[32];
	int		*step_no = NULL, *stop = NULL;
	int64_t		 run_id;
	size_t		 i, k;
	int		 r;

	if ((e = prepare(ag, c, req, &p)) != NULL) {
		prepared_free(&p);
		return e;
	}
	for (i = 0; i < p.n; i++)
		if (p.v[i]->outcome == ACT_REFUSED) {
			e = refuse(ag, c, p.incident, 0, "run refused: %s "
			    "(remove it from the run)", p.v[i]->msg);
			prepared_free(&p);
			return e;
		}
	step_no = xcalloc(p.n, sizeof(int));
	stop = xcalloc(p.n, sizeof(int));
	for (i = 0; i < p.n; i++)
		for (k = 0; k < p.rb->nsteps; k++)
			if (strcmp(p.rb->steps[k].name, p.v[i]->step) == 0) {
				step_no[i] = (int)k;
				stop[i] = p.rb->steps[k].stop_on_fail;
			}
	fmt_time(time(NULL), ts);
	if ((r = store_begin(ag->store)) != 0)
		goto fail;
	r = store_exec(ag->store, "INSERT INTO runs(incident, runbook, "
	    "runbook_sha, requested_by, requested_uid, created_at, total, "
	    "started) VALUES(?,?,?,?,?,?,?,?)", "ssssisii", p.incident,
	    p.rb->file, p.rb->sha, c->actor, (int64_t)c->uid, ts,
	    (int64_t)p.n, (int64_t)time(NULL));
	run_id = sqlite3_last_insert_rowid(ag->store->db);
	if (r == 0)
		r = journal_append(ag->store, c->actor, p.incident, 0,
		    "run_requested", json_pack("{s:I,s:s,s:s,s:I,s:O}",
		    "run", (json_int_t)run_id, "runbook", p.rb->file,
		    "runbook_sha256", p.rb->sha, "actions", (json_int_t)p.n,
		    "params", json_object_get(req, "params")));
	if (r == 0)
		r = enqueue(ag, c, p.v, p.n, run_id, step_no, stop);
	if (r != 0 || (r = store_commit(ag->store)) != 0) {
		store_rollback(ag->store);
		goto fail;
	}
	ag->work_pending = 1;
	rep = reply_ok();
	ids = json_array();
	for (i = 0; i < p.n && i < 1000; i++)
		(void)json_array_append_new(ids, json_integer(p.v[i]->id));
	(void)json_object_set_new(rep, "run", json_integer(run_id));
	(void)json_object_set_new(rep, "actions", ids);
	(void)json_object_set_new(rep, "total", json_integer((json_int_t)p.n));
	(void)json_object_set_new(rep, "states", run_counts(ag, run_id));
	free(step_no);
	free(stop);
	prepared_free(&p);
	return rep;
fail:
	free(step_no);
	free(stop);
	prepared_free(&p);
	return reply_err(EXIT_FAILED, "cannot queue the run: %s",
	    store_errmsg(ag->store));
}

static json_t *
load_visible(struct agent *ag, const struct caller *c, json_t *req,
    enum role need, struct act **ret)
{
	const char	*ids = json_string_value(json_object_get(req,
	    "action"));
	int64_t		 id;
	json_t		*e;

	*ret = NULL;
	if (ids == NULL || queue_parse_id(ids, &id) != 0)
		return reply_err(EXIT_USAGE, "bad action id '%s'",
		    ids ? ids : "");
	if (queue_load(ag->store, ag->cfg, id, ret) != 0)
		return reply_err(EXIT_USAGE, "no action A%lld",
		    (long long)id);
	if ((*ret)->customer == NULL)
		return reply_err(EXIT_USAGE, "action A%lld belongs to a "
		    "customer no longer configured", (long long)id);
	if ((e = require_role_for(ag, c, (*ret)->customer, need,
	    (*ret)->incident, (*ret)->id)) != NULL) {
		act_free(*ret);
		*ret = NULL;
		return e;
	}
	return NULL;
}

json_t *
h_undo(struct agent *ag, const struct caller *c, json_t *req)
{
	struct act	*orig, *u = NULL;
	sqlite3_stmt	*st;
	json_t		*e, *rep;
	int		 pending, stepno = 0, stop = 1, r;

	if ((e = load_visible(ag, c, req, ROLE_OPERATOR, &orig)) != NULL)
		return e;
	if (orig->state != ST_SUCCEEDED || orig->undo_of) {
		e = reply_err(EXIT_REFUSED, "A%lld is %s%s; only a succeeded "
		    "action can be undone", (long long)orig->id,
		    act_state_name(orig->state), orig->undo_of ?
		    " (an undo itself)" : "");
		goto out;
	}
	if (orig->before == NULL || driver_verb(orig->verb, NULL) == NULL ||
	    driver_verb(orig->verb, NULL)->undo == NULL) {
		e = reply_err(EXIT_REFUSED, "A%lld has no captured state to "
		    "restore", (long long)orig->id);
		goto out;
	}
	st = store_q(ag->store, "SELECT COUNT(*) FROM actions WHERE "
	    "undo_of=? AND state NOT IN ('failed','rejected','expired')",
	    "i", orig->id);
	pending = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	(void)sqlite3_reset(st);
	if (pending) {
		e = reply_err(EXIT_REFUSED, "A%lld already has an undo "
		    "queued", (long long)orig->id);
		goto out;
	}
	u = act_new();
	u->verb = xstrdup(orig->verb);
	u->target = orig->target;
	u->target_name = xstrdup(orig->target_name);
	u->customer = orig->customer;
	u->incident = xstrdup(orig->incident);
	u->incident_info = json_incref(orig->incident_info);
	u->step = xasprintf("undo A%lld", (long long)orig->id);
	u->params = json_incref(orig->params);
	u->restore = json_incref(orig->before);
	u->undo_of = orig->id;
	u->approval_required = orig->approval_required;
	u->requested_by = xstrdup(c->actor);
	u->requested_uid = (int64_t)c->uid;
	(void)exec_check(ag, &u, 1);
	if (u->outcome == ACT_REFUSED) {
		e = refuse(ag, c, u->incident, orig->id, "undo refused: %s",
		    u->msg);
		goto out;
	}
	if ((r = store_begin(ag->store)) == 0) {
		r = enqueue(ag, c, &u, 1, orig->run_id, &stepno, &stop);
		if (r != 0 || (r = store_commit(ag->store)) != 0)
			store_rollback(ag->store);
	}
	if (r != 0) {
		e = reply_err(EXIT_FAILED, "cannot queue the undo: %s",
		    store_errmsg(ag->store));
		goto out;
	}
	ag->work_pending = 1;
	rep = reply_ok();
	(void)json_object_set_new(rep, "action", queue_act_json(u));
	e = rep;
out:
	act_free(u);
	act_free(orig);
	return e;
}

/*
 * `cordon retry RUN --failed`: a new run holding one new action per
 * failed action of RUN not retried before (same step, target, verb and
 * parameters), each freshly checked and under the step's approval policy.
 * The new action's message and the original's "retried" journal entry
 * link the two; the original stays failed, as it happened.
 */
#define RETRY_MAX	10000

json_t *
h_retry(struct agent *ag, const struct caller *c, json_t *req)
{
	json_int_t	  run = json_integer_value(json_object_get(req, "run"));
	sqlite3_stmt	 *st;
	struct customer	 *cu;
	struct act	**v = NULL, *o = NULL;
	json_t		 *e = NULL, *rep, *ids, *from;
	char		 *inc = NULL, *rb = NULL, *sha = NULL, ts[32];
	int64_t		 *orig = NULL, new_run;
	int		 *step_no = NULL, *stop = NULL, r;
	size_t		  n = 0, cap = 0, i;

	st = store_q(ag->store, "SELECT incident, runbook, runbook_sha FROM "
	    "runs WHERE id=?", "i", (int64_t)run);
	if (sqlite3_step(st) == SQLITE_ROW) {
		inc = store_col_str(st, 0);
		rb = store_col_str(st, 1);
		sha = store_col_str(st, 2);
	}
	(void)sqlite3_reset(st);
	if (inc == NULL) {
		e = reply_err(EXIT_USAGE, "no run %lld", (long long)run);
		goto out;
	}
	if ((cu = incident_customer(ag, inc, &e)) == NULL ||
	    (e = require_role(ag, c, cu, ROLE_OPERATOR, inc)) != NULL)
		goto out;
	st = store_q(ag->store, "SELECT id, step_no, stop_on_fail FROM "
	    "actions a WHERE run_id=? AND state='failed' AND NOT EXISTS "
	    "(SELECT 1 FROM journal j WHERE j.action=a.id AND "
	    "j.event='retried') ORDER BY step_no, target, id", "i",
	    (int64_t)run);
	while (sqlite3_step(st) == SQLITE_ROW && n < RETRY_MAX) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			orig = xreallocarray(orig, cap, sizeof(*orig));
			step_no = xreallocarray(step_no, cap, sizeof(*step_no));
			stop = xreallocarray(stop, cap, sizeof(*stop));
		}
		orig[n] = sqlite3_column_int64(st, 0);
		step_no[n] = sqlite3_column_int(st, 1);
		stop[n++] = sqlite3_column_int(st, 2);
	}
	(void)sqlite3_reset(st);
	if (n == 0) {
		e = reply_err(EXIT_USAGE, "run %lld has no failed action left "
		    "to retry", (long long)run);
		goto out;
	}
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		struct act *u;

		if (queue_load(ag->store, ag->cfg, orig[i], &o) != 0) {
			e = reply_err(EXIT_FAILED, "cannot load A%lld",
			    (long long)orig[i]);
			goto out;
		}
		if (o->customer == NULL) {
			e = reply_err(EXIT_USAGE, "A%lld belongs to a customer "
			    "no longer configured", (long long)o->id);
			goto out;
		}
		u = v[i] = act_new();
		u->verb = xstrdup(o->verb);
		u->target = o->target;
		u->target_name = xstrdup(o->target_name);
		u->customer = o->customer;
		u->incident = xstrdup(o->incident);
		u->incident_info = json_incref(o->incident_info);
		u->step = xstrdup(o->step);
		u->params = json_incref(o->params);
		u->restore = json_incref(o->restore);
		u->undo_of = o->undo_of;
		u->approval_required = o->approval_required;
		u->requested_by = xstrdup(c->actor);
		u->requested_uid = (int64_t)c->uid;
		act_free(o);
		o = NULL;
	}
	(void)exec_check(ag, v, n);
	for (i = 0; i < n; i++) {
		if (v[i]->outcome == ACT_REFUSED) {
			e = refuse(ag, c, inc, orig[i], "retry refused: %s",
			    v[i]->msg);
			goto out;
		}
		if (v[i]->outcome != ACT_FAIL)
			(void)snprintf(v[i]->msg, sizeof(v[i]->msg),
			    "retry of A%lld", (long long)orig[i]);
	}
	fmt_time(time(NULL), ts);
	from = json_array();
	for (i = 0; i < n; i++)
		(void)json_array_append_new(from, json_integer(orig[i]));
	if ((r = store_begin(ag->store)) != 0) {
		json_decref(from);
		goto fail;
	}
	r = store_exec(ag->store, "INSERT INTO runs(incident, runbook, "
	    "runbook_sha, requested_by, requested_uid, created_at, total, "
	    "started) VALUES(?,?,?,?,?,?,?,?)", "ssssisii", inc, rb, sha,
	    c->actor, (int64_t)c->uid, ts, (int64_t)n, (int64_t)time(NULL));
	new_run = sqlite3_last_insert_rowid(ag->store->db);
	if (r == 0)
		r = journal_append(ag->store, c->actor, inc, 0,
		    "run_requested", json_pack("{s:I,s:s,s:s,s:I,s:I,s:o}",
		    "run", (json_int_t)new_run, "runbook", rb,
		    "runbook_sha256", sha, "actions", (json_int_t)n,
		    "retry_of_run", run, "retry_of", from));
	else
		json_decref(from);
	if (r == 0)
		r = enqueue(ag, c, v, n, new_run, step_no, stop);
	for (i = 0; i < n && r == 0; i++)
		r = journal_append(ag->store, c->actor, inc, orig[i],
		    "retried", json_pack("{s:I,s:I}", "by_action",
		    (json_int_t)v[i]->id, "run", (json_int_t)new_run));
	if (r != 0 || (r = store_commit(ag->store)) != 0) {
		store_rollback(ag->store);
		goto fail;
	}
	ag->work_pending = 1;
	rep = reply_ok();
	ids = json_array();
	for (i = 0; i < n; i++)
		(void)json_array_append_new(ids, json_pack("{s:I,s:I,s:s}",
		    "id", (json_int_t)v[i]->id, "retry_of",
		    (json_int_t)orig[i], "target", v[i]->target_name));
	(void)json_object_set_new(rep, "run", json_integer(new_run));
	(void)json_object_set_new(rep, "retry_of_run", json_integer(run));
	(void)json_object_set_new(rep, "incident", json_string(inc));
	(void)json_object_set_new(rep, "actions", ids);
	(void)json_object_set_new(rep, "total", json_integer((json_int_t)n));
	(void)json_object_set_new(rep, "states", run_counts(ag, new_run));
	e = rep;
	goto out;
fail:
	e = reply_err(EXIT_FAILED, "cannot queue the retry: %s",
	    store_errmsg(ag->store));
out:
	act_free(o);
	for (i = 0; v && i < n; i++)
		act_free(v[i]);
	free(v);
	free(orig);
	free(step_no);
	free(stop);
	free(inc);
	free(rb);
	free(sha);
	return e;
}

json_t *
h_queue(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*inc = json_string_value(json_object_get(req,
	    "incident"));
	json_int_t	 run = json_integer_value(json_object_get(req, "run"));
	int		 all = json_is_true(json_object_get(req, "all"));
	sqlite3_stmt	*st;
	json_t		*rep = reply_ok(), *list = json_array();

	st = store_q(ag->store, "SELECT id, run_id, incident, customer, step, "
	    "target, verb, params, state, change, message, requested_by, "
	    "approvals_needed, undo_of, (SELECT COUNT(DISTINCT approver_uid) "
	    "FROM approvals p WHERE p.action=a.id AND p.plan_hash="
	    "a.plan_hash) FROM actions a WHERE (?1 IS NULL OR incident=?1) "
	    "AND (?2 = 0 OR run_id=?2) AND (?3 = 1 OR state IN ('planned',"
	    "'awaiting_approval','approved','running','unknown')) "
	    "ORDER BY id", "sii", inc, (int64_t)run, (int64_t)all);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct customer *cu = config_customer(ag->cfg,
		    (const char *)sqlite3_column_text(st, 3));
		json_t *params = store_col_json(st, 7);

		if (cu == NULL || config_role(cu, c->uid) < ROLE_AUDITOR) {
			json_decref(params);
			continue;
		}
		(void)json_array_append_new(list, json_pack(
		    "{s:I,s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:s?,s:s?,s:s,s:i,"
		    "s:i,s:I}",
		    "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "run", (json_int_t)sqlite3_column_int64(st, 1),
		    "incident", sqlite3_column_text(st, 2),
		    "customer", sqlite3_column_text(st, 3),
		    "step", sqlite3_column_text(st, 4),
		    "target", sqlite3_column_text(st, 5),
		    "params", params ? params : json_object(),
		    "verb", sqlite3_column_text(st, 6),
		    "change", sqlite3_column_text(st, 9),
		    "message", sqlite3_column_text(st, 10),
		    "state", sqlite3_column_text(st, 8),
		    "approvals_needed", sqlite3_column_int(st, 12),
		    "approvals", sqlite3_column_int(st, 14),
		    "undo_of", (json_int_t)sqlite3_column_int64(st, 13)));
	}
	(void)sqlite3_reset(st);
	(void)json_object_set_new(rep, "actions", list);
	return rep;
}

json_t *
h_show(struct agent *ag, const struct caller *c, json_t *req)
{
	struct act	*a;
	sqlite3_stmt	*st;
	json_t		*e, *rep, *apps = json_array(), *jl = json_array();

	if ((e = load_visible(ag, c, req, ROLE_AUDITOR, &a)) != NULL) {
		json_decref(apps);
		json_decref(jl);
		return e;
	}
	st = store_q(ag->store, "SELECT approver, at_text, plan_hash FROM "
	    "approvals WHERE action=? ORDER BY id", "i", a->id);
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)json_array_append_new(apps, json_pack("{s:s,s:s,s:s,"
		    "s:b}", "approver", sqlite3_column_text(st, 0),
		    "at", sqlite3_column_text(st, 1),
		    "plan_hash", sqlite3_column_text(st, 2), "current",
		    strcmp((const char *)sqlite3_column_text(st, 2),
		    a->plan_hash) == 0));
	(void)sqlite3_reset(st);
	st = store_q(ag->store, "SELECT seq, ts, actor, event, payload FROM "
	    "journal WHERE action=? ORDER BY seq", "i", a->id);
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)json_array_append_new(jl, json_pack("{s:I,s:s,s:s,s:s,"
		    "s:o?}", "seq", (json_int_t)sqlite3_column_int64(st, 0),
		    "ts", sqlite3_column_text(st, 1),
		    "actor", sqlite3_column_text(st, 2),
		    "event", sqlite3_column_text(st, 3),
		    "payload", store_col_json(st, 4)));
	(void)sqlite3_reset(st);
	rep = reply_ok();
	(void)json_object_set_new(rep, "action", queue_act_json(a));
	(void)json_object_set_new(rep, "plan", queue_plan_obj(a));
	(void)json_object_set_new(rep, "plan_hash",
	    json_string(a->plan_hash));
	(void)json_object_set_new(rep, "approvals", apps);
	(void)json_object_set_new(rep, "journal", jl);
	act_free(a);
	return rep;
}

json_t *
h_run_status(struct agent *ag, const struct caller *c, json_t *req)
{
	json_int_t	 run = json_integer_value(json_object_get(req, "run"));
	sqlite3_stmt	*st;
	struct customer	*cu;
	json_t		*rep, *e;
	char		*inc = NULL;
	int64_t		 total = 0, started = 0;

	st = store_q(ag->store, "SELECT incident, total, started FROM runs "
	    "WHERE id=?", "i", (int64_t)run);
	if (sqlite3_step(st) == SQLITE_ROW) {
		inc = store_col_str(st, 0);
		total = sqlite3_column_int64(st, 1);
		started = sqlite3_column_int64(st, 2);
	}
	(void)sqlite3_reset(st);
	if (inc == NULL)
		return reply_err(EXIT_USAGE, "no run %lld", (long long)run);
	if ((cu = incident_customer(ag, inc, &e)) == NULL ||
	    (e = require_role(ag, c, cu, ROLE_AUDITOR, inc)) != NULL) {
		free(inc);
		return e;
	}
	rep = reply_ok();
	(void)json_object_set_new(rep, "run", json_integer(run));
	(void)json_object_set_new(rep, "incident", json_string(inc));
	(void)json_object_set_new(rep, "total", json_integer(total));
	(void)json_object_set_new(rep, "started", json_integer(started));
	(void)json_object_set_new(rep, "states", run_counts(ag, run));
	free(inc);
	return rep;
}
