/*
 * journal_cmd: reading the journal through the agent.  `show` filters to
 * the customers the caller may audit; `export` hands out the whole chain
 * (the only form that verifies), so it needs the auditor role for every
 * customer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "ctl.h"
#include "journal.h"
#include "log.h"

#define SHOW_DEFAULT	200
#define SHOW_MAX	100000

json_t *
h_journal_show(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*inc = json_string_value(json_object_get(req,
	    "incident"));
	json_int_t	 lim = json_integer_value(json_object_get(req,
	    "limit"));
	sqlite3_stmt	*st;
	json_t		*rep, *list = json_array();
	size_t		 i;
	int		 anyrole = 0;

	for (i = 0; i < ag->cfg->ncustomers; i++)
		if (config_role(&ag->cfg->customers[i], c->uid) >=
		    ROLE_AUDITOR)
			anyrole = 1;
	if (!anyrole) {
		json_decref(list);
		return refuse(ag, c, inc, 0, "%s has no role for any "
		    "customer", c->actor);
	}
	if (lim <= 0)
		lim = SHOW_DEFAULT;
	if (lim > SHOW_MAX)
		lim = SHOW_MAX;
	st = store_q(ag->store, "SELECT * FROM (SELECT j.seq, j.ts, j.actor, "
	    "j.incident, j.action, j.event, j.payload, j.hash, i.customer "
	    "FROM journal j LEFT JOIN incidents i ON i.id = j.incident "
	    "WHERE ?1 IS NULL OR j.incident = ?1 ORDER BY j.seq DESC "
	    "LIMIT ?2) ORDER BY seq", "si", inc, (int64_t)lim);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *cust = (const char *)sqlite3_column_text(st, 8);
		struct customer *cu = cust ? config_customer(ag->cfg, cust) :
		    NULL;

		if (cust && (cu == NULL ||
		    config_role(cu, c->uid) < ROLE_AUDITOR))
			continue;
		(void)json_array_append_new(list, json_pack(
		    "{s:I,s:s,s:s,s:s?,s:I,s:s,s:o?,s:s}",
		    "seq", (json_int_t)sqlite3_column_int64(st, 0),
		    "ts", sqlite3_column_text(st, 1),
		    "actor", sqlite3_column_text(st, 2),
		    "incident", sqlite3_column_text(st, 3),
		    "action", (json_int_t)sqlite3_column_int64(st, 4),
		    "event", sqlite3_column_text(st, 5),
		    "payload", store_col_json(st, 6),
		    "hash", sqlite3_column_text(st, 7)));
	}
	(void)sqlite3_reset(st);
	rep = reply_ok();
	(void)json_object_set_new(rep, "entries", list);
	return rep;
}

json_t *
h_journal_export(struct agent *ag, const struct caller *c, json_t *req)
{
	json_t	*hdr, *e;
	FILE	*f;
	size_t	 i;
	int	 r;

	(void)req;
	for (i = 0; i < ag->cfg->ncustomers; i++)
		if ((e = require_role(ag, c, &ag->cfg->customers[i],
		    ROLE_AUDITOR, NULL)) != NULL)
			return e;
	hdr = json_pack("{s:b,s:b,s:I,s:s}", "ok", 1, "stream", 1,
	    "entries", (json_int_t)ag->store->jseq, "head", ag->store->jhead);
	r = ctl_send(c->fd, hdr);
	json_decref(hdr);
	if (r != 0)
		return NULL;
	if ((f = fdopen(dup(c->fd), "w")) == NULL) {
		log_warn("journal export: fdopen");
		return NULL;
	}
	if (journal_export(ag->store, NULL, f) != 0)
		log_warnx("journal export: client went away");
	if (fclose(f) != 0)
		log_debug("journal export: close failed");
	return NULL;
}
