/*
 * act: one verb on one target, and the rules of its life.
 *
 *   planned -> awaiting_approval -> approved -> running -> succeeded
 *                    |                 |           |  \-> failed
 *                    v                 v           \--> unknown (agent died)
 *                 rejected          awaiting_approval (plan changed,
 *                 expired            approval expired)
 *   approved -> succeeded: check found it already done (no change)
 *   running -> awaiting_approval | approved: an atomic apply found the
 *              target changed since check, and changed nothing
 *   succeeded -> undone (when its undo action succeeds)
 *   unknown -> approved | succeeded | failed (resolved by check on restart)
 *
 * act_transition_ok() is the only judge of a state change; the queue
 * refuses anything it rejects.  A struct act in memory is what a driver
 * sees: the core owns every field, drivers fill before/change/observed,
 * outcome and msg.
 */
#ifndef CORDON_ACT_H
#define CORDON_ACT_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "config.h"

enum act_state {
	ST_PLANNED,
	ST_AWAITING,
	ST_APPROVED,
	ST_RUNNING,
	ST_SUCCEEDED,
	ST_FAILED,
	ST_UNKNOWN,
	ST_REJECTED,
	ST_EXPIRED,
	ST_UNDONE,
	ST__COUNT
};

enum act_outcome {
	ACT_OK = 0,		/* check: change needed; apply/verify: done */
	ACT_NOCHANGE,		/* already in the wanted state */
	ACT_FAIL,
	ACT_REFUSED,		/* policy says never (a protected account) */
	ACT_STALE,		/* apply: the target no longer matches check */
};

#define ACT_MSG_MAX 256

struct act {
	int64_t			 id;
	const struct target	*target;
	const struct customer	*customer;
	char			*verb;		/* "ldap.disable_account" */
	json_t			*params;	/* {"account": "alice"} */
	json_t			*restore;	/* undo: state to restore */
	json_t			*before;	/* check: what it saw */
	char			*change;	/* check: the exact change */
	json_t			*observed;	/* verify: what the target says */
	enum act_outcome	 outcome;
	char			 msg[ACT_MSG_MAX];
	void			*drv;		/* driver's per-act scratch */
	/*
	 * The incident as drivers may need it (read-only): {"id", "aware_at",
	 * "occurred_from", "occurred_to"}; times UTC RFC 3339 or absent.  A
	 * snapshot restore uses it to pick a snapshot from before the breach.
	 * "isolated_hosts": [{"action", "host"}], the isolations in force
	 * (queue.c, read when the act is loaded to run); at plan time also
	 * "isolation_pending": [host], what earlier steps of the same run
	 * will isolate.
	 */
	json_t			*incident_info;

	/* The queue row: owned by the core, never touched by drivers. */
	int64_t			 run_id;
	int64_t			 undo_of;	/* 0, or the act this undoes */
	char			*incident;
	char			*step;
	char			*target_name;
	char			*requested_by;
	int64_t			 requested_uid;
	enum act_state		 state;
	time_t			 state_since;	/* when it entered state */
	int			 approval_required;
	int			 approvals_needed;
	char			 plan_hash[65];
};

const char	*act_state_name(enum act_state);
/* "change", "no_change", "failed", "refused": how plan shows a check. */
const char	*act_outcome_name(const struct act *);
int		 act_state_parse(const char *, enum act_state *);
int		 act_transition_ok(enum act_state from, enum act_state to);
int		 act_state_final(enum act_state);

struct act	*act_new(void);
void		 act_free(struct act *);
/* Resets outcome and msg before the next phase runs. */
void		 act_reset(struct act *);
void		 act_fail(struct act *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* The string value of a parameter, or NULL. */
const char	*act_param(const struct act *, const char *);

#endif
