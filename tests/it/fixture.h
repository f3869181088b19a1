/*
 * fixture: pieces several integration tests share, built on harness.h.
 *
 * Two kinds.  Assertions (it_step*, it_wait_state, it_incident_from,
 * it_file_is) run inside a cmocka test and fail it with the reason, so
 * they return only on success.  Group fixtures (it_run_ok, it_sshd_*,
 * it_user_*, it_keygen, it_ak_set, it_login_*, it_fake_vendors_*) also
 * run in group setup and teardown, where a failure must not longjmp:
 * they return 0, or -1 after printing why to stderr.  They run as root.
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
 * accounts = [ "x" ] (it_step) or accounts (it_step_for; the step's args
 * see each as ${item}).  Returns the one queued action's id, or 0 when
 * the run was refused (exit 3: the reason is in env->err) or queued no
 * single action.  Any other exit but 0 and 1 fails the test; env->status
 * holds the run's exit code.
 */
int64_t	it_step(struct it_env *, const char *inc, const char *verb,
	    const char *target, const char *args, int approval);
int64_t	it_step_for(struct it_env *, const char *inc, const char *verb,
	    const char *target, const char *args, int approval,
	    const char *accounts);

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

/* argv as root (it_runv, IT_CMD_TIMEOUT_S): 0 when it exits 0, else -1
 * after printing its status and output. */
int	it_run_ok(struct it_env *, const char *const argv[]);

/* CLOCK_MONOTONIC in seconds; a sleep of ms that EINTR does not cut. */
double	it_mono(void);
void	it_nap_ms(long ms);

/*
 * `scripts/sshd-start.sh DIR PORT` and `scripts/sshd-stop.sh DIR`: a
 * throwaway sshd on 127.0.0.1:port whose state (and known_hosts) lives in
 * dir.  Stop is also safe on a half-started one.
 */
int	it_sshd_start(struct it_env *, const char *dir, int port);
int	it_sshd_stop(struct it_env *, const char *dir);

/*
 * A fresh local user with a home and login shell (NULL: /bin/sh): any
 * leftover of that name from an earlier run is removed first, home and
 * all.  it_user_del removes the user and its home if it exists (0 also
 * when it did not).
 */
int	it_user_fresh(struct it_env *, const char *name, const char *shell);
int	it_user_del(struct it_env *, const char *name);

/* A new passwordless ed25519 key pair at path and path.pub (comment
 * cordon-it), replacing any there. */
int	it_keygen(struct it_env *, const char *path);

/* ~user/.ssh (0700) and ~user/.ssh/authorized_keys := data (with mode),
 * both owned by user. */
int	it_ak_set(const char *user, const void *data, size_t len,
	    mode_t mode);

/* A new key pair at key (it_keygen) whose public half is then user's only
 * authorized key (it_ak_set, 0600): what logs cordon in as user. */
int	it_login_key(struct it_env *, const char *user, const char *key);

/*
 * What most ssh-based tests' group setup does for cordon's login: a fresh
 * user (it_user_fresh with shell), the sudoers file (text, mode 0440;
 * path NULL: none) and a login key at key (it_login_key).
 */
int	it_login_user(struct it_env *, const char *user, const char *shell,
	    const char *sudoers_path, const char *sudoers_text,
	    const char *key);

/*
 * Group teardown for a test that started an sshd and made local users:
 * stops the sshd in sshd_dir (NULL: none was started), removes the users
 * (NULL-terminated; NULL: none were made) and, with them, the sudoers
 * file (NULL: none), then runs it_group_teardown().  Every step is tried
 * even when one fails; returns -1 if any failed, else 0.
 */
int	it_sshd_group_teardown(void **state, const char *sshd_dir,
	    const char *const users[], const char *sudoers);

/*
 * tests/it/fake_vendors.py on 127.0.0.1:port with its state in
 * DIR/fake (dir gets that path) and, for a webhook firewall target,
 * DIR/fw.key ("id") and DIR/fw.secret (secret), DIR being env->dir.
 * Returns once it is ready (at most 30 s); *pid gets its pid.
 * it_fake_vendors_stop ends it (SIGTERM, then SIGKILL after 5 s) and
 * sets *pid to 0; it does nothing when *pid is 0.
 */
int	it_fake_vendors_start(struct it_env *, int port, const char *secret,
	    char dir[IT_PATH_MAX], pid_t *pid);
void	it_fake_vendors_stop(pid_t *pid);

/*
 * OpenSSH's ssh as user with key to 127.0.0.1:port, trusting only
 * sshd_dir/known_hosts (it_sshd_start's), running `true`: 0 logged in,
 * else ssh's exit code.
 */
int	it_ssh_login(struct it_env *, const char *sshd_dir, int port,
	    const char *user, const char *key);

#endif
