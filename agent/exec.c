/*
 * exec: the executor.  Takes approved actions in bounded batches, grouped
 * by target and verb so a driver can pipeline each group on one
 * connection, and moves them through check -> running -> apply -> verify
 * -> succeeded|failed.
 *
 * The order of durable writes is the crash-safety argument:
 *   1. commit "running" for the whole batch (fsync) before any side effect;
 *   2. apply and verify;
 *   3. commit the outcomes.
 * A kill between 1 and 3 leaves rows in "running"; exec_reconcile() turns
 * them into "unknown" and lets check decide whether the change happened,
 * so nothing is lost and nothing is applied twice blindly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "driver.h"
#include "journal.h"
#include "log.h"
#include "pool.h"
#include "queue.h"

#define EXEC_ACTOR "cordon-agent"

static int
same_group(const struct act *a, const struct act *b)
{
	return a->target == b->target && strcmp(a->verb, b->verb) == 0 &&
	    (a->undo_of != 0) == (b->undo_of != 0);
}

/*
 * Calls phase (check/apply/verify/undo) of each group's verb on its own
 * connection.  Acts whose target is gone, or whose connection cannot be
 * opened, fail with a message.  conns holds one open connection per
 * group start so later phases reuse it; pass NULL to open and close here.
 */
enum phase { PH_CHECK, PH_APPLY, PH_VERIFY };

struct group {
	size_t			 start, n;
	const struct driver	*drv;
	const struct verb	*verb;
	void			*conn;
	int			 broken;	/* -errno of the last phase */
};

static size_t
groups_open(struct act **v, size_t n, struct group **ret)
{
	struct group	*g = xcalloc(n ? n : 1, sizeof(*g));
	size_t		 ng = 0, i = 0, j;

	while (i < n) {
		struct group *cur = &g[ng++];

		for (j = i + 1; j < n && same_group(v[i], v[j]); j++)
			;
		cur->start = i;
		cur->n = j - i;
		cur->verb = driver_verb(v[i]->verb, &cur->drv);
		if (v[i]->target == NULL || cur->verb == NULL) {
			for (; i < j; i++)
				act_fail(v[i], "target '%s' or verb '%s' is "
				    "not in the current config",
				    v[i]->target_name, v[i]->verb);
			cur->broken = -ENOENT;
			continue;
		}
		i = j;
	}
	*ret = g;
	return ng;
}

struct phase_ctx {
	struct group	 *g;
	struct act	**v;
	enum phase	  ph;
	const int	 *sel;
	int		  connect;
};

/* One group's work: connect, or one phase on its selected acts. */
static void
group_task(void *p, size_t i)
{
	struct phase_ctx	 *c = p;
	struct group		 *g = &c->g[i];
	struct act		**sub;
	char			  err[256];
	size_t			  k, m;
	verb_fn			  fn;

	if (c->connect) {
		if (g->broken || g->drv->open(c->v[g->start]->target, &g->conn,
		    err, sizeof(err)) == 0)
			return;
		for (k = 0; k < g->n; k++)
			act_fail(c->v[g->start + k], "cannot reach target "
			    "'%s': %s", c->v[g->start + k]->target_name, err);
		g->broken = -EIO;
		return;
	}
	if (g->broken || g->conn == NULL)
		return;
	sub = xcalloc(g->n, sizeof(*sub));
	for (k = m = 0; k < g->n; k++) {
		struct act *a = c->v[g->start + k];

		if (c->sel && c->sel[g->start + k] <= 0)
			continue;
		act_reset(a);
		if (c->ph != PH_VERIFY) {
			json_decref(a->observed);
			a->observed = NULL;
		}
		sub[m++] = a;
	}
	fn = c->ph == PH_CHECK ? g->verb->check :
	    c->ph == PH_VERIFY ? g->verb->verify :
	    c->v[g->start]->undo_of ? g->verb->undo : g->verb->apply;
	if (m > 0 && (g->broken = fn(g->conn, sub, m)) != 0)
		log_warnx("%s: target '%s': batch aborted: %s",
		    c->v[g->start]->verb, c->v[g->start]->target_name,
		    strerror(-g->broken));
	free(sub);
}

static void
groups_pool(struct group *g, size_t ng, struct phase_ctx *c, int par)
{
	int	*ok = xcalloc(ng ? ng : 1, sizeof(*ok));
	size_t	 i;

	for (i = 0; i < ng; i++)
		ok[i] = g[i].drv != NULL && g[i].drv->parallel;
	pool_run(ng, ok, par, group_task, c);
	free(ok);
}

/* Opens every usable group's connection, in parallel where allowed. */
static void
groups_connect(struct group *g, size_t ng, struct act **v, int par)
{
	struct phase_ctx	c = { g, v, PH_CHECK, NULL, 1 };

	groups_pool(g, ng, &c, par);
}

static void
groups_close(struct group *g, size_t ng)
{
	size_t	i;

	for (i = 0; i < ng; i++)
		if (g[i].conn)
			g[i].drv->close(g[i].conn);
	free(g);
}

/* Runs one phase on the acts of every group still usable and selected. */
static void
groups_run(struct group *g, size_t ng, struct act **v, enum phase ph,
    const int *sel, int par)
{
	struct phase_ctx	c = { g, v, ph, sel, 0 };

	groups_pool(g, ng, &c, par);
}

static int
group_broken(struct group *g, size_t ng, size_t idx)
{
	size_t	i;

	for (i = 0; i < ng; i++)
		if (idx >= g[i].start && idx < g[i].start + g[i].n)
			return g[i].broken;
	return 0;
}

int
exec_check(struct agent *ag, struct act **v, size_t n)
{
	struct group	*g;
	size_t		 ng, i;
	int		 par = (int)ag->cfg->parallel;

	ng = groups_open(v, n, &g);
	groups_connect(g, ng, v, par);
	groups_run(g, ng, v, PH_CHECK, NULL, par);
	for (i = 0; i < n; i++) {
		if (group_broken(g, ng, i) && v[i]->outcome == ACT_OK &&
		    v[i]->before == NULL)
			act_fail(v[i], "check did not complete");
		queue_plan_hash(v[i]);
	}
	groups_close(g, ng);
	return 0;
}

/* An approval counts when bound to this plan and not older than the ttl. */
static int
approvals_valid(struct agent *ag, const struct act *a)
{
	sqlite3_stmt	*st;
	int64_t		 since = 0;
	int		 n = 0;

	if (ag->cfg->approval_ttl > 0)
		since = (int64_t)time(NULL) - ag->cfg->approval_ttl;
	st = store_q(ag->store, "SELECT COUNT(DISTINCT approver_uid) FROM "
	    "approvals WHERE action=? AND plan_hash=? AND at>=?", "isi",
	    a->id, a->plan_hash, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	(void)sqlite3_reset(st);
	return n >= a->approvals_needed;
}

/* Approved actions whose earlier steps are all settled, oldest first. */
static size_t
pick(struct agent *ag, struct act ***ret)
{
	sqlite3_stmt	 *st;
	struct act	**v = xcalloc((size_t)ag->cfg->batch, sizeof(*v));
	int64_t		 *ids = xcalloc((size_t)ag->cfg->batch,
	    sizeof(*ids));
	size_t		  n = 0, m = 0, i;

	st = store_q(ag->store, "SELECT a.id FROM actions a WHERE "
	    "a.state='approved' AND NOT EXISTS (SELECT 1 FROM actions b "
	    "WHERE b.run_id=a.run_id AND b.step_no<a.step_no AND b.state IN "
	    "('planned','awaiting_approval','approved','running','unknown')) "
	    "ORDER BY a.customer, a.target, a.verb, a.undo_of > 0, a.id "
	    "LIMIT ?", "i", ag->cfg->batch);
	while (sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	for (i = 0; i < n; i++)
		if (queue_load(ag->store, ag->cfg, ids[i], &v[m]) == 0)
			m++;
	free(ids);
	*ret = v;
	return m;
}

/* An earlier step of the same run failed and said on_failure = "stop". */
static int
blocked_by_failure(struct agent *ag, const struct act *a)
{
	sqlite3_stmt	*st;
	int		 blocked;

	st = store_q(ag->store, "SELECT 1 FROM actions b, actions a WHERE "
	    "a.id=? AND b.run_id=a.run_id AND b.step_no<a.step_no AND "
	    "b.stop_on_fail=1 AND b.state='failed' LIMIT 1", "i", a->id);
	blocked = sqlite3_step(st) == SQLITE_ROW;
	(void)sqlite3_reset(st);
	return blocked;
}

static int
finish_undo(struct agent *ag, struct act *a)
{
	struct act	*orig = NULL;
	int		 r;

	if ((r = queue_load(ag->store, ag->cfg, a->undo_of, &orig)) != 0)
		return r;
	r = 0;
	if (orig->state == ST_SUCCEEDED)
		r = queue_transition(ag->store, orig, ST_UNDONE, EXEC_ACTOR,
		    "undone", json_pack("{s:I}", "by_action",
		    (json_int_t)a->id));
	act_free(orig);
	return r;
}

/* Settles one act after apply+verify (or after check said no change). */
static int
settle(struct agent *ag, struct act *a, int nochange)
{
	int	r;

	if (a->outcome == ACT_OK) {
		r = queue_transition(ag->store, a, ST_SUCCEEDED, EXEC_ACTOR,
		    "succeeded", json_pack("{s:O?,s:b}", "observed",
		    a->observed, "no_change", nochange));
		if (r == 0 && a->undo_of)
			r = finish_undo(ag, a);
		return r;
	}
	return queue_transition(ag->store, a, ST_FAILED, EXEC_ACTOR,
	    "failed", json_pack("{s:s,s:O?}", "error", a->msg,
	    "observed", a->observed));
}

/*
 * Check runs again right before apply, except where that would only
 * repeat what was just done: atomic verbs with a planned change (the
 * server compares and swaps), and actions that needed no approval and
 * were checked when queued moments ago -- a second round of connections
 * to every host would double a fan-out's cost for no new knowledge.
 */
#define FRESH_CHECK_S	30

static int
needs_check(const struct act *a)
{
	const struct verb	*vb = driver_verb(a->verb, NULL);

	if (vb == NULL || a->before == NULL || a->change == NULL ||
	    vb->recheck)
		return 1;
	if (vb->atomic)
		return 0;
	return a->approval_required || a->undo_of != 0 ||
	    a->state_since == 0 || time(NULL) - a->state_since > FRESH_CHECK_S;
}

static int
fail_now(struct agent *ag, struct act *a)
{
	return queue_transition(ag->store, a, ST_FAILED, EXEC_ACTOR,
	    "failed", json_pack("{s:s}", "error", a->msg));
}

/*
 * Phase 1 for one act: decide whether it runs.  Returns 1 when it goes to
 * "running" (journaled in the caller's transaction), 0 when settled or
 * sent back, <0 on a store error.
 */
static int
decide(struct agent *ag, struct act *a, int checked, int broken)
{
	char	old[HASH_HEX_LEN + 1];
	int	r;

	memcpy(old, a->plan_hash, sizeof(old));
	if (blocked_by_failure(ag, a)) {
		act_fail(a, "not run: an earlier step failed and says "
		    "on_failure = \"stop\"");
		return fail_now(ag, a);
	}
	if (checked) {
		if (broken && a->outcome == ACT_OK) {
			act_fail(a, "check did not complete");
			return fail_now(ag, a);
		}
		if (a->outcome == ACT_FAIL || a->outcome == ACT_REFUSED)
			return settle(ag, a, 0);
		if (a->outcome == ACT_NOCHANGE) {
			a->outcome = ACT_OK;
			(void)snprintf(a->msg, sizeof(a->msg), "no change: "
			    "already in the wanted state");
			return settle(ag, a, 1);
		}
		queue_plan_hash(a);
		if (a->approval_required && strcmp(old, a->plan_hash) != 0)
			return queue_transition(ag->store, a, ST_AWAITING,
			    EXEC_ACTOR, "plan_changed", json_pack(
			    "{s:s,s:s,s:O?,s:s?}", "old_plan_hash", old,
			    "plan_hash", a->plan_hash, "before", a->before,
			    "change", a->change));
	}
	if (a->approval_required && !approvals_valid(ag, a))
		return queue_transition(ag->store, a, ST_AWAITING, EXEC_ACTOR,
		    "approval_expired", NULL);
	r = queue_transition(ag->store, a, ST_RUNNING, EXEC_ACTOR, "running",
	    json_pack("{s:s?,s:s,s:b}", "change", a->change, "plan_hash",
	    a->plan_hash, "rechecked", checked));
	return r == 0 ? 1 : r;
}

/* Phase 3 for an act that an atomic apply found changed: check decided. */
static int
restale(struct agent *ag, struct act *a, int broken)
{
	char	old[HASH_HEX_LEN + 1];

	if (broken) {
		ag->unknowns = 1;
		return queue_transition(ag->store, a, ST_UNKNOWN, EXEC_ACTOR,
		    "unknown", json_pack("{s:s}", "error", "connection lost "
		    "during re-check; check will decide"));
	}
	if (a->outcome == ACT_FAIL || a->outcome == ACT_REFUSED)
		return settle(ag, a, 0);
	if (a->outcome == ACT_NOCHANGE) {
		a->outcome = ACT_OK;
		(void)snprintf(a->msg, sizeof(a->msg), "no change: already "
		    "in the wanted state");
		return settle(ag, a, 1);
	}
	memcpy(old, a->plan_hash, sizeof(old));
	queue_plan_hash(a);
	return queue_transition(ag->store, a, a->approval_required ?
	    ST_AWAITING : ST_APPROVED, EXEC_ACTOR, "plan_changed", json_pack(
	    "{s:s,s:s,s:s,s:O?,s:s?}", "note", "the target changed after "
	    "check; nothing was written", "old_plan_hash", old, "plan_hash",
	    a->plan_hash, "before", a->before, "change", a->change));
}

int
exec_round(struct agent *ag)
{
	struct act	**v;
	struct group	 *g = NULL;
	int		 *chk, *go, *stale, par = (int)ag->cfg->parallel;
	double		  t0, t1, t2 = 0, t3 = 0, t4 = 0;
	size_t		  n, ng = 0, i, ngo = 0, nstale = 0;
	int		  r = 0, x;

	if (ag->unknowns && time(NULL) >= ag->reconcile_at) {
		ag->unknowns = 0;
		ag->reconcile_at = time(NULL) + 30;
		if ((r = exec_reconcile(ag)) != 0)
			log_warnx("reconcile: %s", strerror(-r));
	}
	if ((n = pick(ag, &v)) == 0) {
		free(v);
		return 0;
	}
	chk = xcalloc(n, sizeof(*chk));
	go = xcalloc(n, sizeof(*go));
	stale = xcalloc(n, sizeof(*stale));
	for (i = 0; i < n; i++)
		chk[i] = needs_check(v[i]);
	t0 = now_mono();
	ng = groups_open(v, n, &g);
	groups_connect(g, ng, v, par);
	groups_run(g, ng, v, PH_CHECK, chk, par);
	t1 = now_mono();

	/* 1: decide, and make "running" durable before any side effect. */
	if ((r = store_begin(ag->store)) != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		if (v[i]->target == NULL || group_broken(g, ng, i) == -EIO ||
		    group_broken(g, ng, i) == -ENOENT) {
			if (v[i]->outcome == ACT_OK)
				act_fail(v[i], "target unavailable");
			r = fail_now(ag, v[i]);
			continue;
		}
		x = decide(ag, v[i], chk[i], group_broken(g, ng, i));
		if (x == 1) {
			go[i] = 1;
			ngo++;
		} else
			r = x;
	}
	if (r != 0 || (r = store_commit(ag->store)) != 0) {
		store_rollback(ag->store);
		log_warnx("exec: cannot record batch: %s",
		    store_errmsg(ag->store));
		goto out;
	}
	if (ngo == 0)
		goto out;

	/* 2: the side effects, then the read-back. */
	t2 = now_mono();
	groups_run(g, ng, v, PH_APPLY, go, par);
	t3 = now_mono();
	for (i = 0; i < n; i++) {
		if (!go[i])
			continue;
		if (group_broken(g, ng, i) && v[i]->outcome == ACT_OK &&
		    v[i]->observed == NULL)
			go[i] = -1;		/* truth unknown */
		else if (v[i]->outcome == ACT_STALE) {
			stale[i] = 1;
			nstale++;
			go[i] = 0;
		} else if (v[i]->outcome != ACT_OK)
			go[i] = 0;
	}
	groups_run(g, ng, v, PH_VERIFY, go, par);
	if (nstale)
		groups_run(g, ng, v, PH_CHECK, stale, par);
	t4 = now_mono();

	/* 3: outcomes.  A broken connection leaves the truth unknown. */
	if ((r = store_begin(ag->store)) != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		if (v[i]->state != ST_RUNNING)
			continue;
		if (stale[i])
			r = restale(ag, v[i], group_broken(g, ng, i) != 0);
		else if (go[i] < 0 || (go[i] && group_broken(g, ng, i) &&
		    v[i]->observed == NULL)) {
			r = queue_transition(ag->store, v[i], ST_UNKNOWN,
			    EXEC_ACTOR, "unknown", json_pack("{s:s}", "error",
			    "connection lost during apply; check will decide"));
			ag->unknowns = 1;
		} else
			r = settle(ag, v[i], 0);
	}
	if (r != 0 || (r = store_commit(ag->store)) != 0) {
		store_rollback(ag->store);
		log_warnx("exec: cannot record outcomes: %s",
		    store_errmsg(ag->store));
	}
	log_debug("exec: %zu actions (%zu stale): check %.3fs, record %.3fs, "
	    "apply %.3fs, verify %.3fs, record %.3fs", n, nstale, t1 - t0,
	    t2 - t1, t3 - t2, t4 - t3, now_mono() - t4);
out:
	groups_close(g, ng);
	for (i = 0; i < n; i++)
		act_free(v[i]);
	free(v);
	free(chk);
	free(go);
	free(stale);
	return r == 0 ? 1 : 0;
}

int
exec_reconcile(struct agent *ag)
{
	sqlite3_stmt	 *st;
	struct act	**v = NULL;
	struct group	 *g;
	json_t		**saved = NULL;
	size_t		  n = 0, cap = 0, ng, i;
	int		  par = (int)ag->cfg->parallel;
	int64_t		  id;
	int		  r;

	st = store_q(ag->store, "SELECT id FROM actions WHERE state IN "
	    "('running','unknown') ORDER BY id", "");
	while (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n] = NULL;
		if (queue_load(ag->store, ag->cfg, id, &v[n]) == 0)
			n++;
	}
	(void)sqlite3_reset(st);
	if (n == 0) {
		free(v);
		return 0;
	}
	log_info("reconcile: %zu action(s) interrupted; asking check", n);
	if ((r = store_begin(ag->store)) != 0)
		goto out;
	for (i = 0; i < n && r == 0; i++)
		if (v[i]->state == ST_RUNNING)
			r = queue_transition(ag->store, v[i], ST_UNKNOWN,
			    EXEC_ACTOR, "interrupted", json_pack("{s:s}",
			    "note", "agent stopped while running"));
	if (r != 0 || (r = store_commit(ag->store)) != 0) {
		store_rollback(ag->store);
		goto out;
	}
	ng = groups_open(v, n, &g);
	groups_connect(g, ng, v, par);
	saved = xcalloc(n, sizeof(*saved));
	for (i = 0; i < n; i++)
		saved[i] = json_incref(v[i]->before);
	groups_run(g, ng, v, PH_CHECK, NULL, par);
	/* Check said "already in the wanted state": the change landed.  Keep
	 * the state captured before it, which is what an undo restores. */
	{
		int *sel = xcalloc(n, sizeof(*sel));

		for (i = 0; i < n; i++) {
			sel[i] = v[i]->outcome == ACT_NOCHANGE;
			if (sel[i] && saved[i]) {
				json_decref(v[i]->before);
				v[i]->before = json_incref(saved[i]);
			}
		}
		groups_run(g, ng, v, PH_VERIFY, sel, par);
		if ((r = store_begin(ag->store)) != 0) {
			free(sel);
			groups_close(g, ng);
			goto out;
		}
		ag->reconcile_at = time(NULL) + 30;
		for (i = 0; i < n && r == 0; i++) {
			if (group_broken(g, ng, i)) {
				ag->unknowns = 1;	/* try again later */
				continue;
			}
			if (sel[i])
				r = queue_transition(ag->store, v[i],
				    v[i]->outcome == ACT_OK ? ST_SUCCEEDED :
				    ST_FAILED, EXEC_ACTOR, "reconciled",
				    json_pack("{s:s,s:O?,s:s?}", "finding",
				    "applied before the interruption",
				    "observed", v[i]->observed, "error",
				    v[i]->outcome == ACT_OK ? NULL :
				    v[i]->msg));
			else if (v[i]->outcome == ACT_OK)
				r = queue_transition(ag->store, v[i],
				    ST_APPROVED, EXEC_ACTOR, "reconciled",
				    json_pack("{s:s,s:s}", "finding",
				    "not applied; queued again", "change",
				    v[i]->change ? v[i]->change : ""));
			else
				r = queue_transition(ag->store, v[i],
				    ST_FAILED, EXEC_ACTOR, "reconciled",
				    json_pack("{s:s,s:s}", "finding",
				    "check failed", "error", v[i]->msg));
			if (r == 0 && sel[i] && v[i]->outcome == ACT_OK &&
			    v[i]->undo_of)
				r = finish_undo(ag, v[i]);
		}
		free(sel);
	}
	groups_close(g, ng);
	if (r != 0 || (r = store_commit(ag->store)) != 0)
		store_rollback(ag->store);
out:
	for (i = 0; i < n; i++) {
		act_free(v[i]);
		if (saved)
			json_decref(saved[i]);
	}
	free(saved);
	free(v);
	return r;
}

