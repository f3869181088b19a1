/*
 * agent: the daemon's shared state and the contract of its request
 * handlers.
 *
 * The agent is single-threaded: one poll loop serves the control socket
 * and, between requests, runs the executor one bounded batch at a time.
 * That makes it the single writer of the store without locks.
 *
 * A handler gets the request and the caller (uid from SO_PEERCRED, the
 * name that goes into the journal) and returns the answer object; errors
 * are answers too: reply_err(EXIT_*, ...).  Refusals by policy are
 * journaled by the handler before it answers.
 */
#ifndef CORDON_AGENT_H
#define CORDON_AGENT_H

#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "store.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* an action failed */
	EXIT_USAGE = 2,		/* usage, config or runbook error */
	EXIT_REFUSED = 3,	/* refused by policy */
	EXIT_UNREACHABLE = 4,	/* agent unreachable */
};

struct act;

struct agent {
	struct config	*cfg;
	struct store	*store;
	char		*config_path;
	int		 lfd;
	int		 work_pending;	/* executor may have something to do */
	int		 unknowns;	/* actions await reconciliation */
	time_t		 reconcile_at;	/* not before: the target may be down */
};

struct caller {
	uid_t	 uid;
	char	 actor[96];		/* "alice(1001)" */
	const char *cmd;		/* the request, for the record */
	int	 fd;			/* for handlers that stream */
};

json_t	*reply_ok(void);
json_t	*reply_err(int exit_code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Journals the refusal (event "refused") and returns the error reply. */
json_t	*refuse(struct agent *, const struct caller *, const char *incident,
	    int64_t action, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* Requires at least role for the incident's customer; NULL when allowed. */
json_t	*require_role(struct agent *, const struct caller *,
	    const struct customer *, enum role, const char *incident);
/* The same, for a request about one action: the refusal names it. */
json_t	*require_role_for(struct agent *, const struct caller *,
	    const struct customer *, enum role, const char *incident,
	    int64_t action);
/*
 * A list's optional customer filter: NULL when name is NULL or the caller
 * has at least role for it, else the error (no such customer, or refused).
 */
json_t	*require_role_named(struct agent *, const struct caller *,
	    const char *name, enum role);
/* Resolves an incident id to its customer; NULL + *ret_err on failure. */
struct customer	*incident_customer(struct agent *, const char *id,
		    json_t **ret_err);

json_t	*h_incident_open(struct agent *, const struct caller *, json_t *);
json_t	*h_incident_list(struct agent *, const struct caller *, json_t *);
json_t	*h_incident_update(struct agent *, const struct caller *, json_t *);
json_t	*h_incident_show(struct agent *, const struct caller *, json_t *);
json_t	*h_incident_close(struct agent *, const struct caller *, json_t *);
json_t	*h_incident_due(struct agent *, const struct caller *, json_t *);
json_t	*h_incident_report(struct agent *, const struct caller *, json_t *);
json_t	*h_register_export(struct agent *, const struct caller *, json_t *);
json_t	*h_plan(struct agent *, const struct caller *, json_t *);
json_t	*h_run(struct agent *, const struct caller *, json_t *);
json_t	*h_undo(struct agent *, const struct caller *, json_t *);
json_t	*h_queue(struct agent *, const struct caller *, json_t *);
json_t	*h_show(struct agent *, const struct caller *, json_t *);
json_t	*h_run_status(struct agent *, const struct caller *, json_t *);
json_t	*h_approve(struct agent *, const struct caller *, json_t *);
json_t	*h_reject(struct agent *, const struct caller *, json_t *);
json_t	*h_journal_show(struct agent *, const struct caller *, json_t *);
json_t	*h_journal_export(struct agent *, const struct caller *, json_t *);
json_t	*h_secret_show(struct agent *, const struct caller *, json_t *);
json_t	*h_secret_seal(struct agent *, const struct caller *, json_t *);
json_t	*h_retry(struct agent *, const struct caller *, json_t *);
/* checkpoint.c: each customer's checkpoint public key, fingerprint. */
json_t	*h_keys_show(struct agent *, const struct caller *, json_t *);
/* actions/ssh_hosts.c: pinned SSH host keys. */
json_t	*h_hosts_show(struct agent *, const struct caller *, json_t *);
json_t	*h_hosts_scan(struct agent *, const struct caller *, json_t *);
json_t	*h_hosts_trust(struct agent *, const struct caller *, json_t *);

/* executor */
int	exec_reconcile(struct agent *);	/* at start: running -> unknown */
int	exec_round(struct agent *);	/* one batch; 1 if more may remain */
/* Runs check for acts (grouped by target); for plan and queueing. */
int	exec_check(struct agent *, struct act **, size_t);

/*
 * The feeds (agent.feed_file, agent.feeds; agent/feed.h): sends entries
 * and checkpoints past the last ones fed, between requests; a no-op
 * without feeds or inside a transaction.  Network feeds send from their
 * own threads, so feed_tick never waits on a receiver; feed_busy() is 1
 * while a batch is in flight (tick again soon to take its answer).
 * feed_shutdown() stops and closes them.
 */
void	feed_tick(struct agent *);
int	feed_busy(void);
void	feed_shutdown(void);

int	agent_main(int argc, char **argv);

#endif
