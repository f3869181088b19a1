/*
 * harness: support for cordon's integration tests, which drive the real
 * `cordon` binary against a real OpenLDAP slapd.
 *
 * One slapd per test program (group setup: scripts/slapd-start.sh on a
 * loopback port of the program's own), one fresh agent per test (its own
 * directory, config, store, socket and log), and helpers that run
 * `cordon ARGS...` as a given OS user and read the directory back with the
 * OpenLDAP command-line tools.
 *
 * Environment: CORDON_BIN is the binary under test, CORDON_SCRIPTS the
 * directory holding slapd-start.sh and slapd-stop.sh.  Tests run as root:
 * group setup creates the test users below when missing, and every client
 * command drops to its user (setgroups, setgid, setuid) before exec.
 *
 * Ownership: struct it_env is allocated by it_group_setup() and freed by
 * it_group_teardown().  The stdout and stderr of the last command run
 * through it_runv() (it_cordon*, it_ldap_*) live in env->out and env->err,
 * NUL-terminated, owned by the env and replaced by the next command; copy
 * what must outlive it.  Functions returning json_t * hand over a
 * reference the caller must json_decref().
 *
 * Limits: every wait is bounded (a command IT_CMD_TIMEOUT_S, agent start
 * and stop IT_AGENT_WAIT_S each); a command's captured output is capped at
 * IT_OUT_MAX bytes per stream.  Children are stopped by their own pid only.
 * No shell is involved anywhere: every program runs through fork + exec.
 */
#ifndef CORDON_IT_HARNESS_H
#define CORDON_IT_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define IT_OP		"cordon-t-op"		/* operator of acme */
#define IT_LEAD		"cordon-t-lead"		/* lead of acme */
#define IT_LEAD2	"cordon-t-lead2"	/* second lead of acme */
#define IT_AUD		"cordon-t-aud"		/* auditor of acme */
#define IT_NOBODY	"nobody"		/* no role anywhere */
#define IT_ROOT		NULL			/* the test process itself */

#define IT_SUFFIX	"dc=example,dc=test"
#define IT_PEOPLE	"ou=people," IT_SUFFIX
#define IT_ADMIN_DN	"cn=admin," IT_SUFFIX
#define IT_ADMIN_PW	"secret"
#define IT_SVC_DN	"cn=svc," IT_SUFFIX
#define IT_SVC_PW	"svcpw"
#define IT_LOCK_FOREVER	"000001010000Z"

#define IT_CMD_TIMEOUT_S	60
#define IT_AGENT_WAIT_S		5
#define IT_SETTLE_S		10.0	/* waiting for an action to settle */
#define IT_OUT_MAX		(64 * 1024 * 1024)
#define IT_PATH_MAX		512

/* Per-test variations of the agent config; NULL means all defaults. */
struct it_conf {
	int64_t		 two_leads_above;	/* 0: not set */
	const char	*protected_extra;	/* appended to [ "breakglass" ],
						 * e.g. "\"uid=dave,...\"" */
	const char	*targets_extra;		/* groups appended to targets */
	const char	*roles_extra;		/* groups appended to roles */
	const char	*password_file;		/* NULL: DIR/svc.pw */
	const char	*customers_extra;	/* groups appended to customers */
	int		 verbose;		/* start the agent with -v */
};

struct it_env {
	const char	*bin;			/* $CORDON_BIN */
	const char	*scripts;		/* $CORDON_SCRIPTS */
	int		 port;
	char		 uri[64];		/* ldap://127.0.0.1:PORT */
	char		 dir[IT_PATH_MAX];	/* group temp dir, 0711 */
	char		 pwfile[IT_PATH_MAX];	/* DIR/svc.pw (0600) */
	char		 runbook[IT_PATH_MAX];	/* the stock runbook, copied */
	int		 slapd_up;

	/* The current test's agent (it_test_dir, it_agent_start). */
	int		 ntest;
	char		 tdir[IT_PATH_MAX];	/* DIR/tNN, 0711 */
	char		 conf[IT_PATH_MAX];
	char		 sock[IT_PATH_MAX];
	char		 store[IT_PATH_MAX];
	char		 log[IT_PATH_MAX];	/* the agent's stderr */
	pid_t		 agent;			/* 0 when none runs */

	int64_t		 last_run;		/* set by it_run_accounts */

	/* The last command's result. */
	int		 status;		/* exit code, 128+signal, -1 */
	char		*out;
	size_t		 outlen;
	char		*err;
	size_t		 errlen;
};

/*
 * Group fixtures.  Setup checks the environment, makes DIR (mkdtemp,
 * chmod 0711), creates the test users if missing, starts slapd on port and
 * copies the stock runbook into DIR (0644, readable by the test users).
 * Returns 0, or -1 after printing why (cmocka then fails the group).
 * Teardown stops any agent and slapd and removes DIR; it returns -1 if
 * the agent had to be reported (see it_agent_stop).
 */
int	it_group_setup(void **state, int port);
int	it_group_teardown(void **state);

/*
 * Per-test fixtures: it_test_setup() clears every lock in the directory
 * (it_ldap_reset), makes a fresh test dir with a config (conf may be NULL)
 * and starts the agent on it.  it_test_teardown() stops the agent; it
 * returns -1 if the agent crashed, did not exit 0, or its log holds an
 * AddressSanitizer, UndefinedBehaviorSanitizer or LeakSanitizer report.
 */
int	it_test_setup(struct it_env *, const struct it_conf *conf);
int	it_test_teardown(struct it_env *);

/* A fresh DIR/tNN (0711) and the paths of its conf, sock, store, log. */
int	it_test_dir(struct it_env *);
/* Writes the standard config (see harness.c) with conf's variations. */
int	it_config_write(struct it_env *, const char *path,
	    const struct it_conf *conf);
/* Starts `cordon agent -c env->conf` and waits until the socket accepts. */
int	it_agent_start(struct it_env *, int verbose);
/* SIGTERM, bounded wait, SIGKILL; then the log check described above. */
int	it_agent_stop(struct it_env *);
/* 1 while the agent process exists and has not exited, else 0. */
int	it_agent_alive(struct it_env *);
/* 0 when the file holds no sanitizer report, -1 (and prints it) if so. */
int	it_log_check(const char *path);

/*
 * Runs argv[0] (looked up in PATH unless it holds a '/') as user (NULL:
 * as the test process), stdin from /dev/null, with CORDON_SOCKET=sock if
 * sock is not NULL.  Captures stdout and stderr into env->out/err.  The
 * child is killed after timeout_s.  Returns the exit code, 128+signal if
 * killed by one, or -1 if it could not be run.
 */
int	it_runv(struct it_env *, const char *user, const char *sock,
	    const char *const argv[], int timeout_s);
/*
 * `cordon ARGS...` (NULL-terminated) as user against env->sock, or sock.
 * Fails the current test if the client's stderr carries a sanitizer
 * report.  Returns as it_runv().
 */
int	it_cordon(struct it_env *, const char *user, ...)
	    __attribute__((sentinel));
int	it_cordon_sock(struct it_env *, const char *user, const char *sock,
	    ...) __attribute__((sentinel));
int	it_cordonv(struct it_env *, const char *user, const char *sock,
	    const char *const args[], int timeout_s);

/* env->out parsed as JSON, or NULL. */
json_t	*it_out_json(const struct it_env *);
/* 1 when env->out (resp. env->err) contains s. */
int	it_out_has(const struct it_env *, const char *s);
int	it_err_has(const struct it_env *, const char *s);

/* `incident open` as IT_OP; id gets "INC-YYYY-NNNN".  0 or -1. */
int	it_incident_open(struct it_env *, char id[32]);
/*
 * `cordon run RUNBOOK --incident inc --set accounts=ACCOUNTS --json` as
 * user (runbook NULL: env->runbook).  On exit 0 or 1 the queued action ids
 * go to ids (at most max, count in *ret_n) and the run's id to
 * env->last_run (0 if none).  Returns the exit code.
 */
int	it_run_accounts(struct it_env *, const char *user, const char *runbook,
	    const char *inc, const char *accounts, int64_t *ids, size_t max,
	    size_t *ret_n);
/* `show A<id> --json` as IT_AUD; the "action" object, or NULL. */
json_t	*it_action(struct it_env *, int64_t id);
/* The action's state into buf; 0, or -1 if it cannot be read. */
int	it_action_state(struct it_env *, int64_t id, char *buf, size_t len);
/*
 * Polls the action until its state is want (0), or until it reaches a
 * state it cannot leave for want, or timeout_s passes (-1; the last state
 * is printed).
 */
int	it_wait_action(struct it_env *, int64_t id, const char *want,
	    double timeout_s);
/* `journal show --json --limit 100000` as IT_AUD: the entries, or NULL. */
json_t	*it_journal(struct it_env *);
/* Entries with this event (and this action unless action is 0). */
int	it_journal_count(struct it_env *, const char *event, int64_t action);
/* `queue --all --json` as IT_AUD: the number of actions, or -1. */
int	it_queue_count(struct it_env *);

/*
 * The directory, read and written as cn=admin.  it_ldap_lock() copies
 * uid's pwdAccountLockedTime into buf and returns 1, returns 0 if the
 * entry has none, -1 if the entry cannot be read.  it_ldap_set_lock()
 * replaces it (value NULL: removes it).  it_ldap_reset() removes it from
 * every test user.  it_ldap_bind() returns ldapwhoami's exit code (0
 * bound, 49 invalid credentials, which is also what a lock answers).
 */
int	it_ldap_lock(struct it_env *, const char *uid, char *buf, size_t len);
int	it_ldap_set_lock(struct it_env *, const char *uid, const char *value);
int	it_ldap_reset(struct it_env *);
int	it_ldap_bind(struct it_env *, const char *dn, const char *pw);
/* Binds as uid=<uid>,ou=people with the fixture password <uid>pw. */
int	it_ldap_user_bind(struct it_env *, const char *uid);

/* snprintf into buf; fails the current test if it does not fit. */
void	it_pfmt(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* sh -ec script with "$0"=a0 and "$1"=a1, as root: 0 when it exits 0,
 * else -1 after printing its status and output. */
int	it_sh(struct it_env *, const char *script, const char *a0,
	    const char *a1);

/* name under the test dir (it_tpath) or the group dir (it_gpath), in buf;
 * fails the current test if it does not fit.  Returns buf. */
const char *it_tpath(const struct it_env *, const char *name,
	    char buf[IT_PATH_MAX]);
const char *it_gpath(const struct it_env *, const char *name,
	    char buf[IT_PATH_MAX]);

/* Small file helpers: 0 or -1. */
int	it_write_file(const char *path, const void *data, size_t len,
	    mode_t mode);
/* *ret is NUL-terminated (not counted in *ret_len); caller frees. */
int	it_read_file(const char *path, char **ret, size_t *ret_len);
/* 1 if the file's bytes contain needle, 0 if not, -1 if unreadable. */
int	it_file_has(const char *path, const char *needle);
/* Polls until the file contains needle: 0, or -1 after secs. */
int	it_wait_file_has(const char *path, const char *needle, double secs);
/* Removes a tree without following symlinks; 0 or -1. */
int	it_rm_rf(const char *path);

#endif
