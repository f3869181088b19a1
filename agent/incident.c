/*
 * incident: the breach-register record every action belongs to.  Ids are
 * INC-YEAR-NNNN, numbered per year; the GDPR Art. 33 clock starts at
 * aware_at (72 clock hours to tell the authority).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "checkpoint.h"
#include "deadline.h"
#include "journal.h"
#include "register.h"
#include "tz.h"

#define TITLE_MAX 512
#define CLOCK_SKEW_S	300	/* how far ahead a given time may be */

/* The customer's configured deadlines for one incident (deadline.h). */
static json_t *
rule_deadlines(const struct customer *cu, const json_t *record,
    const char *aware_at, const char *opened_at, time_t now)
{
	json_t	*rec = record ? json_copy((json_t *)record) : json_object();
	json_t	*a;

	(void)json_object_set_new(rec, "aware_at", json_string(aware_at));
	(void)json_object_set_new(rec, "opened_at", json_string(opened_at));
	a = deadlines_eval(&cu->deadlines, rec, now);
	json_decref(rec);
	return a;
}

struct customer *
incident_customer(struct agent *ag, const char *id, json_t **ret_err)
{
	sqlite3_stmt	*st;
	struct customer	*cu = NULL;

	*ret_err = NULL;
	if (id == NULL) {
		*ret_err = reply_err(EXIT_USAGE, "--incident is required");
		return NULL;
	}
	st = store_q(ag->store, "SELECT customer FROM incidents WHERE id=?",
	    "s", id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cu = config_customer(ag->cfg,
		    (const char *)sqlite3_column_text(st, 0));
		if (cu == NULL)
			*ret_err = reply_err(EXIT_USAGE, "incident '%s' "
			    "belongs to customer '%s', which the config no "
			    "longer has", id,
			    (const char *)sqlite3_column_text(st, 0));
	} else
		*ret_err = reply_err(EXIT_USAGE, "no incident '%s'", id);
	(void)sqlite3_reset(st);
	return cu;
}

json_t *
h_incident_open(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*cust = json_string_value(json_object_get(req,
	    "customer"));
	const char	*title = json_string_value(json_object_get(req,
	    "title"));
	const char	*aware = json_string_value(json_object_get(req,
	    "aware_at")), *p;
	struct customer	*cu;
	sqlite3_stmt	*st;
	json_t		*e, *rec;
	time_t		 now = time(NULL), at = now;
	struct tm	 tm;
	char		 id[32], ts[32], ats[32], due[32], err[256];
	char		 given[TZ_GIVEN_MAX] = "";
	int64_t		 num = 1;
	int		 r;

	if (cust == NULL || title == NULL || *title == '\0')
		return reply_err(EXIT_USAGE, "--customer and --title are "
		    "required");
	if (strlen(title) > TITLE_MAX)
		return reply_err(EXIT_USAGE, "title is longer than %d bytes",
		    TITLE_MAX);
	/* As register values: no control characters but \n and \t. */
	for (p = title; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') ||
		    *p == 0x7f)
			return reply_err(EXIT_USAGE, "title holds a control "
			    "character");
	if ((cu = config_customer(ag->cfg, cust)) == NULL)
		return reply_err(EXIT_USAGE, "no customer '%s'", cust);
	if ((e = require_role(ag, c, cu, ROLE_OPERATOR, NULL)) != NULL)
		return e;
	if (aware && tz_time(aware, TZ_NO_RESOLVE, &at, given, err,
	    sizeof(err)) != 0)
		return reply_err(EXIT_USAGE, "--aware-at: %s", err);
	if (at > now + CLOCK_SKEW_S)
		return reply_err(EXIT_USAGE, "--aware-at is in the future");
	(void)gmtime_r(&now, &tm);
	if (store_begin(ag->store) != 0)
		return reply_err(EXIT_FAILED, "store busy");
	st = store_q(ag->store, "SELECT COALESCE(MAX(num), 0) + 1 FROM "
	    "incidents WHERE year=?", "i", (int64_t)tm.tm_year + 1900);
	if (sqlite3_step(st) == SQLITE_ROW)
		num = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	(void)snprintf(id, sizeof(id), "INC-%d-%04lld", tm.tm_year + 1900,
	    (long long)num);
	fmt_time(now, ts);
	fmt_time(at, ats);
	fmt_time(at + 72 * 3600, due);
	/* The time as given (offset, zone) is kept beside the UTC one. */
	rec = given[0] ? json_pack("{s:{s:s}}", "given", "aware_at", given) :
	    json_object();
	r = store_exec(ag->store, "INSERT INTO incidents(id, year, num, "
	    "customer, title, aware_at, opened_at, opened_by, record) "
	    "VALUES(?,?,?,?,?,?,?,?,?)", "siisssssj", id,
	    (int64_t)tm.tm_year + 1900, num, cu->name, title, ats, ts,
	    c->actor, rec);
	if (r == 0)
		r = journal_append(ag->store, c->actor, id, 0,
		    "incident_opened", json_pack("{s:s,s:s,s:s,s:s*,s:s}",
		    "customer", cu->name, "title", title, "aware_at", ats,
		    "aware_at_given", given[0] ? given : NULL,
		    "authority_due", due));
	json_decref(rec);
	if (r != 0 || store_commit(ag->store) != 0) {
		store_rollback(ag->store);
		return reply_err(EXIT_FAILED, "cannot record incident: %s",
		    store_errmsg(ag->store));
	}
	checkpoint_state_change(ag, cu->name);
	e = reply_ok();
	(void)json_object_set_new(e, "incident", json_string(id));
	(void)json_object_set_new(e, "authority_due", json_string(due));
	return e;
}

json_t *
h_incident_list(struct agent *ag, const struct caller *c, json_t *req)
{
	sqlite3_stmt	*st;
	json_t		*rep = reply_ok(), *list = json_array();
	time_t		 at, now = time(NULL);

	(void)req;
	st = store_q(ag->store, "SELECT id, customer, title, aware_at, "
	    "opened_at, opened_by, (SELECT COUNT(*) FROM actions a WHERE "
	    "a.incident = i.id), record FROM incidents i ORDER BY year, num",
	    "");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char	*cust = (const char *)sqlite3_column_text(st,
		    1);
		struct customer	*cu = config_customer(ag->cfg, cust);
		const char	*aw = (const char *)sqlite3_column_text(st, 3);
		json_int_t	 left = 0;
		json_t		*rec;

		if (cu == NULL || config_role(cu, c->uid) < ROLE_AUDITOR)
			continue;
		if (parse_time(aw, &at) != 0)
			at = now;
		left = (json_int_t)(at + ART33_SECONDS - now);
		rec = store_col_json(st, 7);
		(void)json_array_append_new(list, json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:o}",
		    "id", sqlite3_column_text(st, 0), "customer", cust,
		    "title", sqlite3_column_text(st, 2), "aware_at", aw,
		    "opened_at", sqlite3_column_text(st, 4),
		    "opened_by", sqlite3_column_text(st, 5),
		    "actions", (json_int_t)sqlite3_column_int64(st, 6),
		    "authority_seconds_left", left, "authority_state",
		    register_art33_name(register_art33(rec, at, now)),
		    "deadlines", rule_deadlines(cu, rec, aw, (const char *)
		    sqlite3_column_text(st, 4), now)));
		json_decref(rec);
	}
	(void)sqlite3_reset(st);
	(void)json_object_set_new(rep, "incidents", list);
	return rep;
}

/* The incident row a handler works on; NULL + *ret_err if not allowed. */
struct inc {
	char		*id;
	struct customer	*cu;
	char		*title;
	char		*aware_at;
	char		*opened_at;
	char		*opened_by;
	char		*closed_at;
	json_t		*record;
	time_t		 aware;
};

static void
inc_free(struct inc *i)
{
	if (i == NULL)
		return;
	free(i->id);
	free(i->title);
	free(i->aware_at);
	free(i->opened_at);
	free(i->opened_by);
	free(i->closed_at);
	json_decref(i->record);
	free(i);
}

static struct inc *
inc_load(struct agent *ag, const struct caller *c, const char *id,
    enum role need, json_t **ret_err)
{
	sqlite3_stmt	*st;
	struct inc	*i;

	if ((*ret_err = NULL, id == NULL)) {
		*ret_err = reply_err(EXIT_USAGE, "no incident given");
		return NULL;
	}
	st = store_q(ag->store, "SELECT id, customer, title, aware_at, "
	    "opened_at, opened_by, closed_at, record FROM incidents "
	    "WHERE id=?", "s", id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		*ret_err = reply_err(EXIT_USAGE, "no incident '%s'", id);
		return NULL;
	}
	i = xcalloc(1, sizeof(*i));
	i->id = store_col_str(st, 0);
	i->cu = config_customer(ag->cfg, (const char *)sqlite3_column_text(st,
	    1));
	i->title = store_col_str(st, 2);
	i->aware_at = store_col_str(st, 3);
	i->opened_at = store_col_str(st, 4);
	i->opened_by = store_col_str(st, 5);
	i->closed_at = store_col_str(st, 6);
	i->record = store_col_json(st, 7);
	(void)sqlite3_reset(st);
	if (i->record == NULL)
		i->record = json_object();
	if (parse_time(i->aware_at, &i->aware) != 0)
		i->aware = 0;
	if (i->cu == NULL)
		*ret_err = reply_err(EXIT_USAGE, "incident '%s' belongs to a "
		    "customer the config no longer has", id);
	else
		*ret_err = require_role(ag, c, i->cu, need, id);
	if (*ret_err) {
		inc_free(i);
		return NULL;
	}
	return i;
}

/*
 * rec.given[key] keeps a time as it was given (offset, zone) beside the
 * UTC value in rec[key]; the journaled change says both, old and new.
 */
static void
keep_given(json_t *rec, json_t *change, const char *key, const char *given)
{
	json_t	*g = json_object_get(rec, "given");
	json_t	*old = g ? json_object_get(g, key) : NULL;

	if (old != NULL)
		(void)json_object_set(change, "old_given", old);
	if (given[0] != '\0')
		(void)json_object_set_new(change, "new_given",
		    json_string(given));
	if (!json_is_object(g)) {
		if (given[0] == '\0')
			return;
		g = json_object();
		(void)json_object_set_new(rec, "given", g);
	}
	if (given[0] != '\0')
		(void)json_object_set_new(g, key, json_string(given));
	else
		(void)json_object_del(g, key);
}

json_t *
h_incident_update(struct agent *ag, const struct caller *c, json_t *req)
{
	const char		*key;
	const struct field	*f;
	struct field		 rule_field = { NULL, F_TIME, NULL,
	    "deadlines" };
	struct inc		*i;
	json_t			*e, *sets = json_object_get(req, "set");
	json_t			*v, *nv, *changes = json_object(), *rec = NULL;
	char			 err[256], ats[32], given[TZ_GIVEN_MAX];
	time_t			 t, aware, now = time(NULL);
	int			 r;

	if ((i = inc_load(ag, c, json_string_value(json_object_get(req,
	    "incident")), ROLE_OPERATOR, &e)) == NULL)
		goto fail;
	if (!json_is_object(sets) || json_object_size(sets) == 0) {
		e = reply_err(EXIT_USAGE, "nothing to update (--set "
		    "FIELD=VALUE)");
		goto fail;
	}
	rec = json_deep_copy(i->record);
	aware = i->aware;
	json_object_foreach(sets, key, v) {
		if (!json_is_string(v)) {
			e = reply_err(EXIT_USAGE, "'%s': not a string", key);
			goto fail;
		}
		if (strcmp(key, "aware_at") == 0) {
			if (tz_time(json_string_value(v), TZ_NO_RESOLVE, &t,
			    given, err, sizeof(err)) != 0) {
				e = reply_err(EXIT_USAGE, "'aware_at': %s",
				    err);
				goto fail;
			}
			if (t > now + CLOCK_SKEW_S) {
				e = reply_err(EXIT_USAGE, "'aware_at' is in "
				    "the future");
				goto fail;
			}
			fmt_time(t, ats);
			aware = t;
			(void)json_object_set_new(changes, key, json_pack(
			    "{s:s,s:s}", "old", i->aware_at, "new", ats));
			keep_given(rec, json_object_get(changes, key), key,
			    given);
			continue;
		}
		if ((f = register_field(key)) == NULL &&
		    deadlines_has_field(&i->cu->deadlines, key)) {
			/* A time field the customer's deadline rules add. */
			rule_field.name = key;
			f = &rule_field;
		}
		if (f == NULL) {
			e = reply_err(EXIT_USAGE, "unknown field '%s' (see "
			    "'cordon incident fields')", key);
			goto fail;
		}
		given[0] = '\0';
		if (f->type == F_TIME && *json_string_value(v) != '\0') {
			if (tz_time(json_string_value(v), TZ_NO_RESOLVE, &t,
			    given, err, sizeof(err)) != 0) {
				e = reply_err(EXIT_USAGE, "'%s': %s", key,
				    err);
				goto fail;
			}
			/* A time to come would stop its clock early. */
			if (t > now + CLOCK_SKEW_S) {
				e = reply_err(EXIT_USAGE, "'%s' is in the "
				    "future", key);
				goto fail;
			}
			fmt_time(t, ats);
			nv = json_string(ats);
		} else if (register_value(f, json_string_value(v), &nv, err,
		    sizeof(err)) != 0) {
			e = reply_err(EXIT_USAGE, "%s", err);
			goto fail;
		}
		(void)json_object_set_new(changes, key, json_pack("{s:O?,s:O}",
		    "old", json_object_get(rec, key), "new", nv));
		(void)json_object_set_new(rec, key, nv);
		if (f->type == F_TIME)
			keep_given(rec, json_object_get(changes, key), key,
			    given);
	}
	/*
	 * Art. 33(1): a late notification must say why it is late.  Checked
	 * on the record as it would be, whatever moved: an earlier aware_at
	 * or a cleared reasons_for_delay makes a notification late too.
	 */
	if (register_art33(rec, aware, now) == A33_LATE_UNEXPLAINED) {
		e = refuse(ag, c, i->id, 0, "the authority was notified after "
		    "the 72-hour deadline: record reasons_for_delay in the "
		    "same update (GDPR Art. 33(1))");
		goto fail;
	}
	fmt_time(aware, ats);
	if ((r = store_begin(ag->store)) == 0) {
		r = store_exec(ag->store, "UPDATE incidents SET record=?, "
		    "aware_at=? WHERE id=?", "jss", rec, ats, i->id);
		if (r == 0)
			r = journal_append(ag->store, c->actor, i->id, 0,
			    "incident_updated", json_pack("{s:O}", "changes",
			    changes));
		if (r != 0 || (r = store_commit(ag->store)) != 0)
			store_rollback(ag->store);
	}
	if (r != 0) {
		e = reply_err(EXIT_FAILED, "cannot record the update: %s",
		    store_errmsg(ag->store));
		goto fail;
	}
	checkpoint_state_change(ag, i->cu->name);
	e = reply_ok();
	(void)json_object_set_new(e, "changes", changes);
	(void)json_object_set_new(e, "warnings", register_warnings(rec,
	    aware, time(NULL)));
	json_decref(rec);
	inc_free(i);
	return e;
fail:
	json_decref(changes);
	json_decref(rec);
	inc_free(i);
	return e;
}

/* The authority notified, or a decision not to with its reasoning. */
static int
authority_decided(const json_t *rec)
{
	const json_t	*d = json_object_get(rec, "authority_decision");
	const json_t	*why = json_object_get(rec, "authority_reasoning");
	const json_t	*at = json_object_get(rec, "authority_notified_at");

	if (at != NULL && !json_is_null(at))
		return 1;
	return json_is_string(d) && strcmp(json_string_value(d),
	    "not_notify") == 0 && json_is_string(why) &&
	    *json_string_value(why) != '\0';
}

json_t *
h_incident_close(struct agent *ag, const struct caller *c, json_t *req)
{
	struct inc	*i;
	json_t		*e;
	char		 ts[32];
	int		 r;

	if ((i = inc_load(ag, c, json_string_value(json_object_get(req,
	    "incident")), ROLE_LEAD, &e)) == NULL)
		return e;
	if (i->closed_at) {
		e = reply_err(EXIT_USAGE, "%s was closed at %s", i->id,
		    i->closed_at);
		inc_free(i);
		return e;
	}
	/* Art. 33: closed means the authority question was answered. */
	if (!authority_decided(i->record)) {
		e = refuse(ag, c, i->id, 0, "no authority decision recorded: "
		    "set authority_notified_at, or authority_decision="
		    "not_notify with authority_reasoning, before closing "
		    "(GDPR Art. 33(1), 33(5))");
		inc_free(i);
		return e;
	}
	fmt_time(time(NULL), ts);
	if ((r = store_begin(ag->store)) == 0) {
		r = store_exec(ag->store, "UPDATE incidents SET closed_at=? "
		    "WHERE id=?", "ss", ts, i->id);
		if (r == 0)
			r = journal_append(ag->store, c->actor, i->id, 0,
			    "incident_closed", json_pack("{s:s}", "closed_at",
			    ts));
		if (r != 0 || (r = store_commit(ag->store)) != 0)
			store_rollback(ag->store);
	}
	if (r == 0)
		checkpoint_state_change(ag, i->cu->name);
	inc_free(i);
	return r == 0 ? reply_ok() : reply_err(EXIT_FAILED, "cannot close");
}

/* The corrective measures: what cordon did for this incident. */
static json_t *
measures(struct agent *ag, const char *id)
{
	sqlite3_stmt	*st;
	json_t		*a = json_array();

	st = store_q(ag->store, "SELECT id, verb, target, params, state, "
	    "updated_at, message, undo_of FROM actions WHERE incident=? "
	    "AND state IN ('succeeded','failed','undone','unknown') "
	    "ORDER BY id", "s", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:o?,"
		    "s:s,s:s,s:s?,s:I}", "action",
		    (json_int_t)sqlite3_column_int64(st, 0),
		    "verb", sqlite3_column_text(st, 1),
		    "target", sqlite3_column_text(st, 2),
		    "params", store_col_json(st, 3),
		    "state", sqlite3_column_text(st, 4),
		    "at", sqlite3_column_text(st, 5),
		    "message", sqlite3_column_text(st, 6),
		    "undo_of", (json_int_t)sqlite3_column_int64(st, 7)));
	(void)sqlite3_reset(st);
	return a;
}

json_t *
h_incident_show(struct agent *ag, const struct caller *c, json_t *req)
{
	struct inc	*i;
	json_t		*e;
	char		 due[32];

	if ((i = inc_load(ag, c, json_string_value(json_object_get(req,
	    "incident")), ROLE_AUDITOR, &e)) == NULL)
		return e;
	fmt_time(i->aware + ART33_SECONDS, due);
	e = reply_ok();
	(void)json_object_set_new(e, "incident", json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:O,s:I}", "id", i->id,
	    "customer", i->cu->name, "title", i->title, "aware_at",
	    i->aware_at, "opened_at", i->opened_at, "opened_by", i->opened_by,
	    "closed_at", i->closed_at, "record", i->record,
	    "authority_seconds_left", (json_int_t)(i->aware + ART33_SECONDS -
	    time(NULL))));
	(void)json_object_set_new(json_object_get(e, "incident"),
	    "authority_due", json_string(due));
	(void)json_object_set_new(json_object_get(e, "incident"),
	    "authority_state", json_string(register_art33_name(
	    register_art33(i->record, i->aware, time(NULL)))));
	(void)json_object_set_new(e, "measures", measures(ag, i->id));
	(void)json_object_set_new(e, "warnings", register_warnings(i->record,
	    i->aware, time(NULL)));
	(void)json_object_set_new(e, "deadlines", rule_deadlines(i->cu,
	    i->record, i->aware_at, i->opened_at, time(NULL)));
	inc_free(i);
	return e;
}

/* Rule deadlines of one incident that fall within the window, into list. */
static int
due_rules(const struct customer *cu, sqlite3_stmt *st, const json_t *rec,
    time_t now, json_int_t hours, json_t *list)
{
	json_t	*dl, *d;
	size_t	 k;
	int	 overdue = 0;

	dl = rule_deadlines(cu, rec, (const char *)sqlite3_column_text(st, 3),
	    (const char *)sqlite3_column_text(st, 5), now);
	json_array_foreach(dl, k, d) {
		json_int_t left = json_integer_value(json_object_get(d,
		    "seconds_left"));

		if (strcmp(json_string_value(json_object_get(d, "state")),
		    "open") != 0 || left > hours * 3600)
			continue;
		overdue |= left < 0;
		(void)json_array_append_new(list, json_pack(
		    "{s:s,s:s,s:s,s:s,s:O,s:I,s:b,s:O}", "incident",
		    sqlite3_column_text(st, 0), "customer", cu->name, "title",
		    sqlite3_column_text(st, 2), "what", json_string_value(
		    json_object_get(d, "name")), "due", json_object_get(d,
		    "due"), "seconds_left", left, "overdue", left < 0,
		    "done_when", json_object_get(d, "done_when")));
	}
	json_decref(dl);
	return overdue;
}

json_t *
h_incident_due(struct agent *ag, const struct caller *c, json_t *req)
{
	json_int_t	 hours = json_integer_value(json_object_get(req,
	    "hours"));
	sqlite3_stmt	*st;
	json_t		*rep = reply_ok(), *list = json_array(), *rec;
	time_t		 now = time(NULL), aware;
	int		 overdue = 0;

	if (hours <= 0)
		hours = 24;
	/* Closed ones too: closing does not answer Art. 33 by itself. */
	st = store_q(ag->store, "SELECT id, customer, title, aware_at, "
	    "record, opened_at, closed_at FROM incidents ORDER BY aware_at",
	    "");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct customer *cu = config_customer(ag->cfg,
		    (const char *)sqlite3_column_text(st, 1));
		enum art33	 a;
		char		 due[32];

		if (cu == NULL || config_role(cu, c->uid) < ROLE_AUDITOR ||
		    parse_time((const char *)sqlite3_column_text(st, 3),
		    &aware) != 0)
			continue;
		rec = store_col_json(st, 4);
		if (sqlite3_column_type(st, 6) == SQLITE_NULL)
			overdue |= due_rules(cu, st, rec, now, hours, list);
		a = register_art33(rec, aware, now);
		if ((a != A33_DUE && a != A33_OVERDUE) ||
		    aware + ART33_SECONDS > now + hours * 3600) {
			json_decref(rec);
			continue;
		}
		fmt_time(aware + ART33_SECONDS, due);
		overdue |= aware + ART33_SECONDS < now;
		(void)json_array_append_new(list, json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:s}", "incident",
		    sqlite3_column_text(st, 0), "customer", cu->name, "title",
		    sqlite3_column_text(st, 2), "what", "notify the "
		    "supervisory authority (GDPR Art. 33)", "due", due,
		    "seconds_left", (json_int_t)(aware + ART33_SECONDS - now),
		    "overdue", aware + ART33_SECONDS < now, "done_when",
		    "authority_notified_at"));
		json_decref(rec);
	}
	(void)sqlite3_reset(st);
	(void)json_object_set_new(rep, "due", list);
	(void)json_object_set_new(rep, "overdue", json_boolean(overdue));
	return rep;
}
