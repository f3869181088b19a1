/*
 * ssh_conn: the transport under the ssh driver (libssh 0.10).
 *
 * One authenticated session per batch (a batch has one target host), one
 * exec channel per remote command.  The contract:
 *
 *   - Host keys are pinned: SSH_OPTIONS_KNOWNHOSTS is the target's own
 *     known_hosts file, the global file is /dev/null, ~/.ssh/config and
 *     /etc/ssh/ssh_config are not read.  Only SSH_KNOWN_HOSTS_OK proceeds;
 *     any other answer fails the connection with the server's SHA-256
 *     fingerprint in the error.  Nothing here ever writes known_hosts.
 *   - Every wait is bounded by the target's timeout: connect, each
 *     channel read, the whole command.
 *   - Remote commands are argv vectors; every word is quoted as one POSIX
 *     shell word (esc_shell_word), so no runbook value is ever parsed by
 *     the remote shell.  Secrets travel only on a command's stdin.
 *   - Output buffers are capped (SSH_OUT_MAX per stream), reserved up
 *     front (4 KiB: a shadow line never makes them grow, so no stale copy
 *     is left in freed memory) and wiped when freed.
 *
 * Errors: 0 or -errno.  -EIO and -ETIMEDOUT mean the session can no
 * longer be trusted (the batch stops, the core marks what is left
 * unknown); other errors concern one command only.  Functions that take
 * err write a message without a prefix and never a secret.
 */
#ifndef CORDON_SSH_CONN_H
#define CORDON_SSH_CONN_H

#include <stddef.h>

#include <libssh/libssh.h>

#include "../agent/config.h"
#include "../agent/secret.h"
#include "../agent/util.h"

#define SSH_OUT_MAX		(512 * 1024)	/* per stream, per command */
#define SSH_CMD_MAX		(64 * 1024)	/* one quoted command line */
#define SSH_ARGV_MAX		32
#define SSH_TIMEOUT_DEFAULT	10		/* seconds */
#define SSH_TIMEOUT_MAX		300
#define SSH_ACCOUNT_MAX		32
#define SSH_PW_BITS_MIN		80	/* length x log2(alphabet size) */

/* Who a remote command runs as. */
enum ssh_who {
	SSH_AS_LOGIN,		/* the login user, no sudo */
	SSH_AS_ROOT,		/* sudo -n (when the target says sudo) */
	SSH_AS_ACCOUNT,		/* sudo -n -u ACCOUNT, or runuser -u */
};

struct sconn {
	ssh_session		 s;
	const struct target	*t;
	const char		*host;
	const char		*user;		/* cordon's login */
	int			 port;
	long			 timeout;	/* seconds */
	int			 sudo;
	char			*park_key;	/* what opened it (parking) */
	int			 broken;	/* a command lost the session */
	ssh_channel		 spare;		/* opened to prove a parked
						   session alive; used next */
	/* Read once per session by ssh.c (system-account guard). */
	int			 sys_read;
	long			 login_uid;	/* cordon's login's uid */
	long			 uid_min;	/* login.defs UID_MIN */
};

struct ssh_res {
	struct buf	out;
	struct buf	err;
	int		status;			/* exit status, -1 if none */
};

/*
 * The generated passwords' strength (password_length, password_alphabet,
 * def_len when no length is set): -EINVAL and why below SSH_PW_BITS_MIN.
 */
int		 ssh_pw_policy_check(const struct target *, long def_len,
		    char *err, size_t errlen);
/* Target option helpers; defaults when absent. */
const char	*ssh_opt_str(const struct target *, const char *);
long		 ssh_opt_int(const struct target *, const char *, long def);
int		 ssh_opt_sudo(const struct target *);

/* [a-z_][a-z0-9_-]*[$]?, at most SSH_ACCOUNT_MAX bytes. */
int	ssh_account_ok(const char *);

/*
 * A new session to the target as user, authenticated with key (when not
 * NULL), else with the target's key_file or password_file.  *ret is a
 * connected, host-verified, authenticated session.
 */
int	ssh_session_new(const struct target *, const char *user, ssh_key key,
	    ssh_session *ret, char *err, size_t errlen) WARN_UNUSED;
void	ssh_session_end(ssh_session);

/* The driver's connection: a session as the target's login user. */
/*
 * The connection settings every target reached over SSH shares: host,
 * user, port, timeout, sudo, known_hosts (a file nobody else may write:
 * it pins the host key), and exactly one of key_file (0600, an
 * unencrypted private key) or password_file (0600) -- key_file only when
 * key_only.  err has no prefix.  Unknown keys are the caller's to refuse.
 */
int	ssh_conn_check(const struct target *, int key_only, char *err,
	    size_t errlen);
/* An optional integer setting must lie in [min, max]. */
int	ssh_opt_int_in(const struct target *, const char *, long min,
	    long max, char *err, size_t errlen);
int	ssh_conn_open(const struct target *, struct sconn **ret, char *err,
	    size_t errlen) WARN_UNUSED;
void	ssh_conn_close(struct sconn *);
/*
 * The driver vtable's open and close for any target reached over SSH.
 * Close parks a healthy session for SSH_PARK_S seconds instead of ending
 * it, keyed by everything that decided how it was opened (host, port,
 * login, credentials file, known_hosts and that file's identity); open
 * takes a parked one before connecting.  So the check when a run is
 * queued and its apply moments later share one connection per host.  A
 * session that broke is never parked; a parked one must open a channel
 * (kept for the next command) before it is reused, else open connects
 * afresh, with the full host key check.  A detached thread ends expired
 * sessions (about a second late) while any are parked.  Thread-safe.
 */
#define SSH_PARK_S	30
#define SSH_PARK_MAX	1024
int	ssh_conn_vopen(const struct target *, void **ret, char *err,
	    size_t errlen);
void	ssh_conn_vclose(void *);
/*
 * Runs fn on each act of a batch, one after another on the batch's one
 * session; a negative return (the session broke) ends the batch.
 */
struct act;
typedef int (*ssh_one_fn)(struct sconn *, struct act *);
int	ssh_each(void *conn, struct act **, size_t, ssh_one_fn);

/*
 * Runs argv (NULL-terminated, at most SSH_ARGV_MAX words) as who on one
 * exec channel; writes in (inlen bytes, may be NULL) to its stdin, then
 * EOF; collects stdout and stderr into res (call ssh_res_free after, also
 * on failure).  0 when the command ran (its status is in res->status).
 */
int	ssh_run(struct sconn *, enum ssh_who, const char *account,
	    const char *const *argv, const void *in, size_t inlen,
	    struct ssh_res *res) WARN_UNUSED;
/*
 * ssh_run for a command line that is already complete: nothing is quoted
 * or prefixed (a Windows target's shell is cmd.exe, not a POSIX shell).
 */
int	ssh_run_line(struct sconn *, const char *cmd, const void *in,
	    size_t inlen, struct ssh_res *res) WARN_UNUSED;
void	ssh_res_free(struct ssh_res *);
/* The first line of res->err, control characters as '?', for messages. */
void	ssh_res_errline(const struct ssh_res *, char *out, size_t len);

/*
 * Several commands one after another on one exec channel: one round trip
 * and one remote shell instead of one each.  Each command's stdout and
 * exit status go to its own res[i] (stderr of all to the last); in feeds
 * the first command's stdin, the others read /dev/null.  A command's
 * failure does not stop the next: each reads res[i].status.  The output
 * is split on a random marker the commands cannot guess.  0 or as
 * ssh_run; call ssh_res_free on every res after, also on failure.
 */
#define SSH_SEQ_MAX	4
struct ssh_cmd {
	enum ssh_who		 who;
	const char		*account;
	const char *const	*argv;
};
int	ssh_run_seq(struct sconn *, const struct ssh_cmd *, size_t n,
	    const void *in, size_t inlen, struct ssh_res *res) WARN_UNUSED;

/* The quoted command line ssh_run would send; caller frees.  For tests. */
int	ssh_cmdline(const struct sconn *, enum ssh_who, const char *account,
	    const char *const *argv, char **ret) WARN_UNUSED;

/*
 * What the target's server presents before any authentication: its host
 * key and the pinned known_hosts' verdict on it.  s stays connected (for
 * `cordon hosts trust`, which re-judges a candidate file on it); free it
 * with ssh_hostkey_free.
 */
struct ssh_hostkey {
	ssh_session		 s;
	enum ssh_known_hosts_e	 known;
	char			 fp[128];	/* "SHA256:..." */
	char			 type[32];	/* "ssh-ed25519" */
};
int	ssh_hostkey_probe(const struct target *, struct ssh_hostkey *,
	    char *err, size_t errlen) WARN_UNUSED;
void	ssh_hostkey_free(struct ssh_hostkey *);
/* The verdict in words ("host key CHANGED ..."). */
const char *ssh_known_name(enum ssh_known_hosts_e);

/* "SHA256:..." of a public key into out; 0 or -EINVAL. */
int	ssh_key_fp(ssh_key, char *out, size_t len);

#endif
