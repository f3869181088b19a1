/*
 * queue: actions as rows of the store, and every change of their state.
 *
 * queue_transition() is the only way an action changes state: it refuses
 * what act_transition_ok() refuses, updates the row and appends the
 * journal entry describing the change, in the caller's transaction, so the
 * record and the state can never disagree.
 *
 * The plan hash binds an approval to the exact change: target, verb,
 * parameters, what check saw (before), the change, and the state an undo
 * restores.  A different hash at run time voids the approval.
 */
#ifndef CORDON_QUEUE_H
#define CORDON_QUEUE_H

#include <stdint.h>

#include "act.h"
#include "config.h"
#include "store.h"

void	queue_plan_hash(struct act *);
/* The plan hash's canonical input, for `cordon show`. */
json_t	*queue_plan_obj(const struct act *);

/* Inserts a (state already set), assigns a->id, journals "queued". */
int	queue_insert(struct store *, struct act *, int step_no,
	    int stop_on_fail, const char *actor) WARN_UNUSED;
/* extra is stolen; it is merged into the journal payload. */
int	queue_transition(struct store *, struct act *, enum act_state to,
	    const char *actor, const char *event, json_t *extra) WARN_UNUSED;
/*
 * Loads one action; target and customer are resolved against cfg and left
 * NULL when the config no longer has them.  -ENOENT if no such action.
 */
int	queue_load(struct store *, const struct config *, int64_t id,
	    struct act **ret) WARN_UNUSED;
/* The incident facts a driver may read (see act.h), or NULL. */
json_t	*queue_incident_info(struct store *, const char *incident);
/* The verb whose success makes a host isolated (act.h isolated_hosts). */
#define QUEUE_ISOLATE_VERB	"firewall.isolate_host"
/*
 * Plan time: v is one run's acts in step order.  Each act's incident_info
 * gets "isolation_pending", the hosts that acts before it will isolate
 * (its incident_info is created when missing).
 */
void	queue_isolation_pending(struct act **v, size_t n);
/* "A17" or "17" -> 17; -EINVAL otherwise. */
int	queue_parse_id(const char *, int64_t *ret) WARN_UNUSED;
/* The action as JSON for clients. */
json_t	*queue_act_json(const struct act *);

#endif
