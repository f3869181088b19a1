/*
 * fixture: pieces several integration tests share, built on harness.h.
 *
 * Assertions (it_step, it_wait_state, it_incident_from, it_file_is) run
 * inside a cmocka test and fail it with the reason, so they return only
 * on success.
 *
 * Everything runs through harness's fork + exec (no shell); every wait
 * is bounded by IT_CMD_TIMEOUT_S or the caller's timeout.
 */
#ifndef CORDON_IT_FIXTURE_H
#define CORDON_IT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "harness.h"

/*
 * Writes TDIR/rb.runbook, runbook "it-step": one step "s" running verb
 * on target with args (the inside of a libconfig group) for each item of
 * the required list parameter accounts, approval required or none,
 * on_failure continue.  Runs it as IT_OP in incident inc with
 * accounts = [ "x" ] (it_run_accounts).  Returns the one queued action's
 * id, or 0 when the run was refused (exit 3: the reason is in env->err)
 * or queued no single action.  Any other exit fails the test.
 */
int64_t	it_step(struct it_env *, const char *inc, const char *verb,
	    const char *target, const char *args,
	    int approval);

/* The action's message into buf ("" if it has none, "?" if the action
 * cannot be read).  Returns buf. */
const char *it_action_msg(struct it_env *, int64_t id, char *buf,
	    size_t len);

/* Waits up to timeout_s for the action to reach want (it_wait_action);
 * fails the test with the action's message if it does not. */
void	it_wait_state(struct it_env *, int64_t id, const char *want,
	    double timeout_s);

/* Opens an incident as IT_OP (it_incident_open) and sets its
 * occurred_from to from; inc gets its id.  Fails the test on error. */
void	it_incident_from(struct it_env *, time_t from, char inc[32]);

/* Fails the test unless the file at path holds exactly want. */
void	it_file_is(const char *path, const char *want);

#endif
