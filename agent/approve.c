/*
 * approve: four-eyes.  Only a lead of the action's customer approves, and
 * never the uid that requested it.  An approval is bound to the action's
 * plan hash; the executor ignores approvals for any other hash and those
 * older than approval_ttl.  Runs larger than a customer's
 * two_leads_above need two distinct leads.  Every refusal is journaled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "journal.h"
#include "queue.h"

#define REASON_MAX 1024

static int
count_approvals(struct agent *ag, const struct act *a, uid_t uid,
    int *ret_mine)
{
	sqlite3_stmt	*st;
	int		 n = 0;

	st = store_q(ag->store, "SELECT COUNT(DISTINCT approver_uid), "
	    "SUM(approver_uid = ?) FROM approvals WHERE action=? AND "
	    "plan_hash=?", "iis", (int64_t)uid, a->id, a->plan_hash);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int(st, 0);
		*ret_mine = sqlite3_column_int(st, 1) > 0;
	}
	(void)sqlite3_reset(st);
	return n;
}

/* 0 approved/recorded, 1 refused (why set), <0 store error. */
static int
approve_one(struct agent *ag, const struct caller *c, struct act *a,
    char *why, size_t len)
{
	char	ts[32];
	int	mine = 0, have, r;

	if (a->state != ST_AWAITING) {
		(void)snprintf(why, len, "A%lld is %s, not awaiting approval",
		    (long long)a->id, act_state_name(a->state));
		return 1;
	}
	if (a->requested_uid == (int64_t)c->uid) {
		(void)snprintf(why, len, "A%lld was requested by %s: the "
		    "approver must be someone else (four-eyes)",
		    (long long)a->id, c->actor);
		return 1;
	}
	have = count_approvals(ag, a, c->uid, &mine);
	if (mine) {
		(void)snprintf(why, len, "A%lld is already approved by %s; "
		    "it needs another lead", (long long)a->id, c->actor);
		return 1;
	}
	fmt_time(time(NULL), ts);
	if ((r = store_exec(ag->store, "INSERT INTO approvals(action, "
	    "approver, approver_uid, plan_hash, at, at_text) "
	    "VALUES(?,?,?,?,?,?)", "isisis", a->id, c->actor, (int64_t)c->uid,
	    a->plan_hash, (int64_t)time(NULL), ts)) != 0)
		return r;
	have++;
	if (have < a->approvals_needed)
		return journal_append(ag->store, c->actor, a->incident, a->id,
		    "approval_recorded", json_pack("{s:s,s:i,s:i}",
		    "plan_hash", a->plan_hash, "approvals", have,
		    "approvals_needed", a->approvals_needed));
	return queue_transition(ag->store, a, ST_APPROVED, c->actor,
	    "approved", json_pack("{s:s,s:i}", "plan_hash", a->plan_hash,
	    "approvals", have));
}

json_t *
h_approve(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*one = json_string_value(json_object_get(req,
	    "action"));
	const char	*inc = json_string_value(json_object_get(req,
	    "all_for"));
	sqlite3_stmt	*st;
	struct customer	*cu;
	struct act	*a;
	json_t		*e, *rep, *refusals = json_array();
	char		 why[512];
	int64_t		*ids = NULL, id;
	size_t		 n = 0, cap = 0, i, ok = 0;
	int		 r = 0, x;

	if ((one == NULL) == (inc == NULL)) {
		json_decref(refusals);
		return reply_err(EXIT_USAGE, "approve ACTION or "
		    "--all-for INCIDENT");
	}
	if (one) {
		if (queue_parse_id(one, &id) != 0) {
			json_decref(refusals);
			return reply_err(EXIT_USAGE, "bad action id '%s'",
			    one);
		}
		ids = xcalloc(1, sizeof(*ids));
		ids[n++] = id;
	} else {
		if ((cu = incident_customer(ag, inc, &e)) == NULL) {
			json_decref(refusals);
			return e;
		}
		st = store_q(ag->store, "SELECT id FROM actions WHERE "
		    "incident=? AND state='awaiting_approval' ORDER BY id",
		    "s", inc);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				ids = xreallocarray(ids, cap, sizeof(*ids));
			}
			ids[n++] = sqlite3_column_int64(st, 0);
		}
		(void)sqlite3_reset(st);
		if (n == 0) {
			free(ids);
			json_decref(refusals);
			return reply_err(EXIT_USAGE, "nothing awaits approval "
			    "in '%s'", inc);
		}
	}
	/* Authorise against every customer involved before writing. */
	for (i = 0; i < n; i++) {
		if (queue_load(ag->store, ag->cfg, ids[i], &a) != 0) {
			e = reply_err(EXIT_USAGE, "no action A%lld",
			    (long long)ids[i]);
			free(ids);
			json_decref(refusals);
			return e;
		}
		e = a->customer == NULL ? reply_err(EXIT_USAGE, "A%lld: "
		    "customer not configured", (long long)a->id) :
		    (i == 0 || one) ? require_role_for(ag, c, a->customer,
		    ROLE_LEAD, a->incident, one ? a->id : 0) : NULL;
		act_free(a);
		if (e) {
			free(ids);
			json_decref(refusals);
			return e;
		}
		if (!one)
			break;	/* one incident, one customer */
	}
	if ((r = store_begin(ag->store)) != 0)
		goto fail;
	for (i = 0; i < n && r == 0; i++) {
		if ((r = queue_load(ag->store, ag->cfg, ids[i], &a)) != 0)
			break;
		x = approve_one(ag, c, a, why, sizeof(why));
		if (x == 1) {
			(void)json_array_append_new(refusals,
			    json_string(why));
			r = journal_append(ag->store, c->actor, a->incident,
			    a->id, "refused", json_pack("{s:s}", "reason",
			    why));
		} else if (x < 0)
			r = x;
		else
			ok++;
		act_free(a);
	}
	if (r != 0 || (r = store_commit(ag->store)) != 0) {
		store_rollback(ag->store);
		goto fail;
	}
	free(ids);
	ag->work_pending = 1;
	if (ok == 0) {
		rep = reply_err(EXIT_REFUSED, "%s",
		    json_string_value(json_array_get(refusals, 0)));
		(void)json_object_set_new(rep, "refusals", refusals);
		return rep;
	}
	rep = reply_ok();
	(void)json_object_set_new(rep, "approved", json_integer((json_int_t)ok));
	(void)json_object_set_new(rep, "refusals", refusals);
	return rep;
fail:
	free(ids);
	json_decref(refusals);
	return reply_err(EXIT_FAILED, "cannot record approvals: %s",
	    store_errmsg(ag->store));
}

json_t *
h_reject(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*ids = json_string_value(json_object_get(req,
	    "action"));
	const char	*reason = json_string_value(json_object_get(req,
	    "reason"));
	struct act	*a = NULL;
	json_t		*e;
	int64_t		 id;
	int		 r;

	if (ids == NULL || queue_parse_id(ids, &id) != 0)
		return reply_err(EXIT_USAGE, "bad action id");
	if (reason == NULL || *reason == '\0' || strlen(reason) > REASON_MAX)
		return reply_err(EXIT_USAGE, "--reason is required (at most "
		    "%d bytes)", REASON_MAX);
	if (queue_load(ag->store, ag->cfg, id, &a) != 0)
		return reply_err(EXIT_USAGE, "no action A%lld", (long long)id);
	if (a->customer == NULL) {
		act_free(a);
		return reply_err(EXIT_USAGE, "customer not configured");
	}
	if ((e = require_role_for(ag, c, a->customer, ROLE_LEAD,
	    a->incident, a->id)) != NULL) {
		act_free(a);
		return e;
	}
	if (a->state != ST_AWAITING) {
		e = refuse(ag, c, a->incident, a->id, "A%lld is %s, not "
		    "awaiting approval", (long long)a->id,
		    act_state_name(a->state));
		act_free(a);
		return e;
	}
	if ((r = store_begin(ag->store)) == 0) {
		r = queue_transition(ag->store, a, ST_REJECTED, c->actor,
		    "rejected", json_pack("{s:s}", "reason", reason));
		if (r != 0 || (r = store_commit(ag->store)) != 0)
			store_rollback(ag->store);
	}
	act_free(a);
	if (r != 0)
		return reply_err(EXIT_FAILED, "cannot record rejection");
	return reply_ok();
}
