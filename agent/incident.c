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
#include "journal.h"

#define TITLE_MAX 512

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
	    "aware_at"));
	struct customer	*cu;
	sqlite3_stmt	*st;
	json_t		*e;
	time_t		 now = time(NULL), at = now;
	struct tm	 tm;
	char		 id[32], ts[32], ats[32], due[32];
	int64_t		 num = 1;
	int		 r;

	if (cust == NULL || title == NULL || *title == '\0')
		return reply_err(EXIT_USAGE, "--customer and --title are "
		    "required");
	if (strlen(title) > TITLE_MAX)
		return reply_err(EXIT_USAGE, "title is longer than %d bytes",
		    TITLE_MAX);
	if ((cu = config_customer(ag->cfg, cust)) == NULL)
		return reply_err(EXIT_USAGE, "no customer '%s'", cust);
	if ((e = require_role(ag, c, cu, ROLE_OPERATOR, NULL)) != NULL)
		return e;
	if (aware && parse_time(aware, &at) != 0)
		return reply_err(EXIT_USAGE, "cannot parse --aware-at '%s' "
		    "(use 2026-11-26T06:00:00Z or \"2026-11-26 06:00\")",
		    aware);
	if (at > now + 300)
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
	r = store_exec(ag->store, "INSERT INTO incidents(id, year, num, "
	    "customer, title, aware_at, opened_at, opened_by) "
	    "VALUES(?,?,?,?,?,?,?,?)", "siisssss", id,
	    (int64_t)tm.tm_year + 1900, num, cu->name, title, ats, ts,
	    c->actor);
	if (r == 0)
		r = journal_append(ag->store, c->actor, id, 0,
		    "incident_opened", json_pack("{s:s,s:s,s:s,s:s}",
		    "customer", cu->name, "title", title, "aware_at", ats,
		    "authority_due", due));
	if (r != 0 || store_commit(ag->store) != 0) {
		store_rollback(ag->store);
		return reply_err(EXIT_FAILED, "cannot record incident: %s",
		    store_errmsg(ag->store));
	}
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
	    "a.incident = i.id) FROM incidents i ORDER BY year, num", "");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char	*cust = (const char *)sqlite3_column_text(st,
		    1);
		struct customer	*cu = config_customer(ag->cfg, cust);
		const char	*aw = (const char *)sqlite3_column_text(st, 3);
		json_int_t	 left = 0;

		if (cu == NULL || config_role(cu, c->uid) < ROLE_AUDITOR)
			continue;
		if (parse_time(aw, &at) == 0)
			left = (json_int_t)(at + 72 * 3600 - now);
		(void)json_array_append_new(list, json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}",
		    "id", sqlite3_column_text(st, 0), "customer", cust,
		    "title", sqlite3_column_text(st, 2), "aware_at", aw,
		    "opened_at", sqlite3_column_text(st, 4),
		    "opened_by", sqlite3_column_text(st, 5),
		    "actions", (json_int_t)sqlite3_column_int64(st, 6),
		    "authority_seconds_left", left));
	}
	(void)sqlite3_reset(st);
	(void)json_object_set_new(rep, "incidents", list);
	return rep;
}
