/*
 * driver: the one small table every action family fills in, so the core
 * never names a protocol.
 *
 * Each verb function takes a batch: a driver may pipeline the whole batch
 * on one connection (LDAP does), or loop.  Per-act results go into each
 * struct act (outcome, msg, before, change, observed); the return value
 * is 0, or -errno when the batch as a whole could not be attempted (the
 * connection died) -- then the core treats every act whose outcome the
 * driver did not set as unknown and lets check decide later.
 *
 *   check:  read-only.  Fills before (the state to restore on undo) and
 *           change (the exact planned change); outcome ACT_NOCHANGE when
 *           the target is already in the wanted state, ACT_FAIL when it
 *           cannot be done (not found, protected).  When act->restore is
 *           set the wanted state is restore (this act is an undo).
 *   apply:  idempotent; already-done is success.
 *   verify: reads the target back into observed; ACT_FAIL if it does not
 *           show the wanted state.
 *   undo:   writes act->restore back (the before of the original act).
 *
 * A verb marked atomic makes apply/undo conditional on the target still
 * being in act->before (a compare-and-swap on the server: LDAP assertion
 * control), reporting ACT_STALE and changing nothing otherwise.  For such
 * verbs the executor skips the separate check before apply: the server
 * does it in the same operation, with no window in between.  apply may
 * also fill observed from the same response (LDAP post-read), which
 * verify then evaluates without another round trip.
 */
#ifndef CORDON_DRIVER_H
#define CORDON_DRIVER_H

#include <stddef.h>

#include "act.h"
#include "config.h"

typedef int (*verb_fn)(void *conn, struct act **, size_t);

struct verb {
	const char	*name;
	const char	*summary;
	verb_fn		 check;
	verb_fn		 apply;
	verb_fn		 verify;
	verb_fn		 undo;
	int		 atomic;
	/* Check always runs again right before apply: its verdict depends
	 * on other actions (a restore needs its host's isolation done). */
	int		 recheck;
	/* The runbook step must say approval = "required" (irreversible). */
	int		 needs_approval;
	const char	*required_params[4];	/* NULL-terminated */
	/* Optional: judges an arg whose value the runbook spells out (no
	 * ${...}) when the runbook loads; 0, or -EINVAL with err set. */
	int	(*arg_check)(const char *name, const char *value, char *err,
		    size_t errlen);
};

struct driver {
	const char		*name;		/* "ldap" */
	const struct verb	*verbs;		/* ends with name == NULL */
	/* Validates a target's settings at config load; err has no prefix. */
	int	(*target_check)(const struct target *, char *err, size_t);
	int	(*open)(const struct target *, void **ret_conn, char *err,
		    size_t);
	void	(*close)(void *conn);
	/*
	 * Set when open, close and the verbs may run on different threads
	 * at once for different connections (no shared mutable state): the
	 * executor then works on up to agent.parallel targets at a time.
	 */
	int	parallel;
	/*
	 * Optional: 0 when verb first may run before verb then (qualified
	 * names) on target t in one runbook, else -EINVAL with err set (no
	 * prefix).  Checked when a run is planned, before anything queues.
	 */
	int	(*step_order)(const struct target *t, const char *first,
		    const char *then, char *err, size_t errlen);
};

const struct driver	*driver_find(const char *name);
/* "ldap.disable_account" -> driver and verb; NULL if unknown. */
const struct verb	*driver_verb(const char *qualified,
			    const struct driver **ret_driver);

#endif
