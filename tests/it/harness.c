/*
 * harness: fixtures and helpers for the integration tests (harness.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define IT_ARGS_MAX	64
#define IT_CONF_MAX	8192

static const char *const it_users[] = {
	IT_OP, IT_LEAD, IT_LEAD2, IT_AUD,
};

static const char *const it_people[] = {
	"alice", "bob", "carol", "dave", "breakglass",
};

static const char *const sanitizer_marks[] = {
	"ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer",
};

static double
mono(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
nap_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
path_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		(void)fprintf(stderr, "%s: path too long\n", __func__);
		return -1;
	}
	return 0;
}

void
it_pfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fail_msg("%s: '%s' does not fit", __func__, fmt);
}

int
it_sh(struct it_env *e, const char *script, const char *a0, const char *a1)
{
	const char	*argv[] = { "sh", "-ec", script, a0, a1, NULL };

	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) == 0)
		return 0;
	(void)fprintf(stderr, "sh '%s' exited %d: %s%s\n", script, e->status,
	    e->out, e->err);
	return -1;
}

const char *
it_tpath(const struct it_env *e, const char *name, char buf[IT_PATH_MAX])
{
	if (path_fmt(buf, IT_PATH_MAX, "%s/%s", e->tdir, name) != 0)
		fail_msg("path '%s/%s' too long", e->tdir, name);
	return buf;
}

const char *
it_gpath(const struct it_env *e, const char *name, char buf[IT_PATH_MAX])
{
	if (path_fmt(buf, IT_PATH_MAX, "%s/%s", e->dir, name) != 0)
		fail_msg("path '%s/%s' too long", e->dir, name);
	return buf;
}

int
it_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const char	*p = data;
	ssize_t		 w;
	int		 fd, r = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode)) < 0) {
		(void)fprintf(stderr, "%s: '%s': %s\n", __func__, path,
		    strerror(errno));
		return -1;
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			(void)fprintf(stderr, "%s: '%s': %s\n", __func__,
			    path, strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	/* open() applies the umask; the tests need the exact mode. */
	if (fchmod(fd, mode) != 0) {
		(void)fprintf(stderr, "%s: chmod '%s': %s\n", __func__, path,
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (close(fd) != 0)
		r = -1;
	return r;
}

int
it_read_file(const char *path, char **ret, size_t *ret_len)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	*ret = NULL;
	*ret_len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		if (cap - len < 65536) {
			if (cap >= IT_OUT_MAX) {
				(void)fprintf(stderr, "%s: '%s' is larger "
				    "than %d bytes\n", __func__, path,
				    IT_OUT_MAX);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return -1;
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
fail:
	(void)close(fd);
	free(buf);
	return -1;
}

int
it_file_has(const char *path, const char *needle)
{
	char	*buf;
	size_t	 len;
	int	 r;

	if (it_read_file(path, &buf, &len) != 0)
		return -1;
	r = memmem(buf, len, needle, strlen(needle)) != NULL;
	free(buf);
	return r;
}

int
it_wait_file_has(const char *path, const char *needle, double secs)
{
	double	deadline = mono() + secs;

	for (;;) {
		if (it_file_has(path, needle) == 1)
			return 0;
		if (mono() > deadline)
			return -1;
		nap_ms(20);
	}
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) != 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) != 0 && errno != ENOENT ? -1 : 0;
}

int
it_rm_rf(const char *path)
{
	if (path == NULL || path[0] != '/' || strlen(path) < 6)
		return -1;	/* never anything like "/" */
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		(void)fprintf(stderr, "%s: cannot remove '%s': %s\n",
		    __func__, path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Appends what fd has to *buf (capped); 1 at EOF, 0 more may come. */
static int
drain(int fd, char **buf, size_t *len, size_t *cap)
{
	char	chunk[65536], *nb;
	ssize_t	n;

	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return 1;
	if (*len + (size_t)n > IT_OUT_MAX)
		n = (ssize_t)(IT_OUT_MAX - *len);	/* drop the excess */
	if (*len + (size_t)n + 1 > *cap) {
		*cap = (*len + (size_t)n + 1) * 2;
		if ((nb = realloc(*buf, *cap)) == NULL) {
			(void)fprintf(stderr, "%s: out of memory\n", __func__);
			abort();
		}
		*buf = nb;
	}
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return 0;
}

static void
out_reset(struct it_env *e)
{
	free(e->out);
	free(e->err);
	e->out = e->err = NULL;
	e->outlen = e->errlen = 0;
	e->status = -1;
}

static int
out_fill_empty(struct it_env *e)
{
	if (e->out == NULL && (e->out = calloc(1, 1)) == NULL)
		return -1;
	if (e->err == NULL && (e->err = calloc(1, 1)) == NULL)
		return -1;
	return 0;
}

/* waitpid until deadline: 0 reaped (status in *st), -1 still running. */
static int
reap(pid_t pid, int *st, double deadline)
{
	pid_t	w;

	for (;;) {
		w = waitpid(pid, st, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR) {
			*st = -1;
			return 0;
		}
		if (mono() > deadline)
			return -1;
		nap_ms(5);
	}
}

int
it_runv(struct it_env *e, const char *user, const char *sock,
    const char *const argv[], int timeout_s)
{
	struct passwd	*pw;
	struct pollfd	 pfd[2];
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	size_t		 ocap = 0, ecap = 0;
	double		 deadline;
	pid_t		 pid;
	int		 op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int		 st = -1, odone = 0, edone = 0, killed = 0, nfd, i, fd;

	out_reset(e);
	if (user != NULL) {
		if ((pw = getpwnam(user)) == NULL) {
			(void)fprintf(stderr, "%s: no user '%s'\n", __func__,
			    user);
			goto fail;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
		(void)fprintf(stderr, "%s: pipe: %s\n", __func__,
		    strerror(errno));
		goto fail;
	}
	if ((pid = fork()) < 0) {
		(void)fprintf(stderr, "%s: fork: %s\n", __func__,
		    strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) < 0 ||
		    dup2(fd, 0) < 0 || dup2(op[1], 1) < 0 ||
		    dup2(ep[1], 2) < 0)
			_exit(126);
		if (user != NULL && (setgroups(0, NULL) != 0 ||
		    setgid(gid) != 0 || setuid(uid) != 0))
			_exit(126);
		if (sock != NULL && setenv("CORDON_SOCKET", sock, 1) != 0)
			_exit(126);
		if (strchr(argv[0], '/'))
			execv(argv[0], (char *const *)argv);
		else
			execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	(void)close(op[1]);
	(void)close(ep[1]);
	op[1] = ep[1] = -1;
	deadline = mono() + timeout_s;
	while (!odone || !edone) {
		double left = deadline - mono();

		if (left <= 0) {
			if (killed)
				break;	/* someone else holds the pipes */
			(void)fprintf(stderr, "%s: '%s' ran longer than %d s, "
			    "killing pid %ld\n", __func__, argv[0], timeout_s,
			    (long)pid);
			(void)kill(pid, SIGKILL);
			killed = 1;
			deadline = mono() + 2;
			continue;
		}
		nfd = 0;
		if (!odone) {
			pfd[nfd].fd = op[0];
			pfd[nfd++].events = POLLIN;
		}
		if (!edone) {
			pfd[nfd].fd = ep[0];
			pfd[nfd++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)nfd, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < nfd; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pfd[i].fd == op[0])
				odone = drain(op[0], &e->out, &e->outlen,
				    &ocap);
			else
				edone = drain(ep[0], &e->err, &e->errlen,
				    &ecap);
		}
	}
	(void)close(op[0]);
	(void)close(ep[0]);
	/* It may have closed its output and still run: reap, bounded. */
	if (!killed && reap(pid, &st, deadline) != 0) {
		(void)fprintf(stderr, "%s: '%s' ran longer than %d s, killing "
		    "pid %ld\n", __func__, argv[0], timeout_s, (long)pid);
		(void)kill(pid, SIGKILL);
		killed = 1;
	}
	if (killed && reap(pid, &st, mono() + 5) != 0)
		st = -1;
	if (out_fill_empty(e) != 0)
		return -1;
	if (st == -1)
		e->status = -1;
	else if (WIFEXITED(st))
		e->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		e->status = 128 + WTERMSIG(st);
	if (killed)
		e->status = -1;
	if (e->status == 126 || e->status == 127)
		(void)fprintf(stderr, "%s: could not run '%s' as %s\n",
		    __func__, argv[0], user ? user : "root");
	return e->status;
fail:
	if (op[0] >= 0) {
		(void)close(op[0]);
		(void)close(op[1]);
	}
	if (ep[0] >= 0) {
		(void)close(ep[0]);
		(void)close(ep[1]);
	}
	(void)out_fill_empty(e);
	return -1;
}

static int
has_sanitizer_report(const char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(sanitizer_marks) / sizeof(*sanitizer_marks);
	    i++)
		if (memmem(buf, len, sanitizer_marks[i],
		    strlen(sanitizer_marks[i])) != NULL)
			return 1;
	return 0;
}

int
it_cordonv(struct it_env *e, const char *user, const char *sock,
    const char *const args[], int timeout_s)
{
	const char	*argv[IT_ARGS_MAX + 2];
	size_t		 n = 0;
	int		 r;

	argv[n++] = e->bin;
	for (; args[n - 1] != NULL; n++) {
		if (n > IT_ARGS_MAX) {
			(void)fprintf(stderr, "%s: too many arguments\n",
			    __func__);
			return -1;
		}
		argv[n] = args[n - 1];
	}
	argv[n] = NULL;
	r = it_runv(e, user, sock ? sock : e->sock, argv, timeout_s);
	if (has_sanitizer_report(e->err, e->errlen))
		fail_msg("sanitizer report from 'cordon %s' as %s:\n%s",
		    args[0] ? args[0] : "", user ? user : "root", e->err);
	return r;
}

static int
cordon_va(struct it_env *e, const char *user, const char *sock, va_list ap)
{
	const char	*args[IT_ARGS_MAX + 1];
	size_t		 n = 0;

	while ((args[n] = va_arg(ap, const char *)) != NULL)
		if (++n == IT_ARGS_MAX) {
			(void)fprintf(stderr, "%s: too many arguments\n",
			    __func__);
			return -1;
		}
	return it_cordonv(e, user, sock, args, IT_CMD_TIMEOUT_S);
}

int
it_cordon(struct it_env *e, const char *user, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, user);
	r = cordon_va(e, user, NULL, ap);
	va_end(ap);
	return r;
}

int
it_cordon_sock(struct it_env *e, const char *user, const char *sock, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, sock);
	r = cordon_va(e, user, sock, ap);
	va_end(ap);
	return r;
}

json_t *
it_out_json(const struct it_env *e)
{
	json_error_t	je;

	return json_loads(e->out ? e->out : "", 0, &je);
}

int
it_out_has(const struct it_env *e, const char *s)
{
	return e->out && strstr(e->out, s) != NULL;
}

int
it_err_has(const struct it_env *e, const char *s)
{
	return e->err && strstr(e->err, s) != NULL;
}

/* Creates the test users that do not exist yet. */
static int
users_ensure(struct it_env *e)
{
	size_t	i;

	for (i = 0; i < sizeof(it_users) / sizeof(*it_users); i++) {
		const char *argv[] = { "useradd", "-M", "-s",
		    "/usr/sbin/nologin", it_users[i], NULL };

		if (getpwnam(it_users[i]) != NULL)
			continue;
		if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0 ||
		    getpwnam(it_users[i]) == NULL) {
			(void)fprintf(stderr, "%s: useradd '%s' failed: %s\n",
			    __func__, it_users[i], e->err);
			return -1;
		}
	}
	if (getpwnam(IT_NOBODY) == NULL) {
		(void)fprintf(stderr, "%s: no user '%s'\n", __func__,
		    IT_NOBODY);
		return -1;
	}
	return 0;
}

static int
copy_runbook(struct it_env *e)
{
	char	src[IT_PATH_MAX], *text;
	size_t	len;
	int	r;

	if (path_fmt(src, sizeof(src), "%s/../config/runbooks/"
	    "disable-accounts.runbook", e->scripts) != 0 ||
	    path_fmt(e->runbook, sizeof(e->runbook),
	    "%s/disable-accounts.runbook", e->dir) != 0)
		return -1;
	if (it_read_file(src, &text, &len) != 0) {
		(void)fprintf(stderr, "%s: cannot read '%s'\n", __func__, src);
		return -1;
	}
	r = it_write_file(e->runbook, text, len, 0644);
	free(text);
	return r;
}

int
it_group_setup(void **state, int port)
{
	struct it_env	*e;
	char		 portbuf[16];

	*state = NULL;
	if (geteuid() != 0) {
		(void)fprintf(stderr, "%s: integration tests run as root "
		    "(they switch users)\n", __func__);
		return -1;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	*state = e;
	e->bin = getenv("CORDON_BIN");
	e->scripts = getenv("CORDON_SCRIPTS");
	e->port = port;
	if (e->bin == NULL || e->scripts == NULL || access(e->bin, X_OK)) {
		(void)fprintf(stderr, "%s: set CORDON_BIN to the cordon "
		    "binary and CORDON_SCRIPTS to its scripts dir\n",
		    __func__);
		return -1;
	}
	(void)snprintf(e->uri, sizeof(e->uri), "ldap://127.0.0.1:%d", port);
	(void)snprintf(e->dir, sizeof(e->dir), "/tmp/cordon-it.XXXXXX");
	if (mkdtemp(e->dir) == NULL) {
		(void)fprintf(stderr, "%s: mkdtemp: %s\n", __func__,
		    strerror(errno));
		e->dir[0] = '\0';
		return -1;
	}
	/* The test users reach the socket and runbooks through it. */
	if (chmod(e->dir, 0711) != 0)
		return -1;
	if (users_ensure(e) != 0 || copy_runbook(e) != 0)
		return -1;
	if (path_fmt(e->pwfile, sizeof(e->pwfile), "%s/svc.pw", e->dir) != 0)
		return -1;
	(void)snprintf(portbuf, sizeof(portbuf), "%d", port);
	{
		char		 script[IT_PATH_MAX];
		const char	*argv[] = { script, e->dir, portbuf, NULL };

		if (path_fmt(script, sizeof(script), "%s/slapd-start.sh",
		    e->scripts) != 0)
			return -1;
		e->slapd_up = 1;	/* stop even a half-started one */
		if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0) {
			(void)fprintf(stderr, "%s: slapd-start.sh failed "
			    "(%d):\n%s%s", __func__, e->status, e->out,
			    e->err);
			return -1;
		}
	}
	return 0;
}

int
it_group_teardown(void **state)
{
	struct it_env	*e = *state;
	char		 script[IT_PATH_MAX];
	int		 r = 0;

	if (e == NULL)
		return 0;
	if (e->agent > 0 && it_agent_stop(e) != 0)
		r = -1;
	if (e->slapd_up && path_fmt(script, sizeof(script), "%s/slapd-stop.sh",
	    e->scripts) == 0) {
		const char *argv[] = { script, e->dir, NULL };

		if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0) {
			(void)fprintf(stderr, "%s: slapd-stop.sh: %s\n",
			    __func__, e->err);
			r = -1;
		}
	}
	if (e->dir[0] && getenv("CORDON_IT_KEEP") == NULL &&
	    it_rm_rf(e->dir) != 0)
		r = -1;
	out_reset(e);
	free(e);
	*state = NULL;
	return r;
}

int
it_test_dir(struct it_env *e)
{
	e->ntest++;
	if (path_fmt(e->tdir, sizeof(e->tdir), "%s/t%02d", e->dir,
	    e->ntest) != 0 ||
	    path_fmt(e->conf, sizeof(e->conf), "%s/cordon.conf", e->tdir) ||
	    path_fmt(e->sock, sizeof(e->sock), "%s/cordon.sock", e->tdir) ||
	    path_fmt(e->store, sizeof(e->store), "%s/cordon.db", e->tdir) ||
	    path_fmt(e->log, sizeof(e->log), "%s/agent.log", e->tdir))
		return -1;
	if (mkdir(e->tdir, 0711) != 0 || chmod(e->tdir, 0711) != 0) {
		(void)fprintf(stderr, "%s: mkdir '%s': %s\n", __func__,
		    e->tdir, strerror(errno));
		return -1;
	}
	return 0;
}

int
it_config_write(struct it_env *e, const char *path, const struct it_conf *c)
{
	static const struct it_conf	 none;
	char				 buf[IT_CONF_MAX], two[64] = "";
	int				 n;

	if (c == NULL)
		c = &none;
	if (c->two_leads_above > 0)
		(void)snprintf(two, sizeof(two), "two_leads_above = %lld;",
		    (long long)c->two_leads_above);
	n = snprintf(buf, sizeof(buf),
	    "# written by tests/it/harness.c\n"
	    "agent: {\n"
	    "\tsocket = \"%s\";\n"
	    "\tstore = \"%s\";\n"
	    "};\n"
	    "customers = (\n"
	    "\t{\n"
	    "\t\tname = \"acme\";\n"
	    "\t\tprotected = [ \"breakglass\"%s%s ];\n"
	    "\t\t%s\n"
	    "\t\troles = (\n"
	    "\t\t\t{ user = \"" IT_OP "\"; role = \"operator\"; },\n"
	    "\t\t\t{ user = \"" IT_LEAD "\"; role = \"lead\"; },\n"
	    "\t\t\t{ user = \"" IT_LEAD2 "\"; role = \"lead\"; },\n"
	    "\t\t\t{ user = \"" IT_AUD "\"; role = \"auditor\"; }%s%s\n"
	    "\t\t);\n"
	    "\t\ttargets = (\n"
	    "\t\t\t{\n"
	    "\t\t\t\tname = \"corp-ldap\";\n"
	    "\t\t\t\ttype = \"ldap\";\n"
	    "\t\t\t\tflavour = \"openldap\";\n"
	    "\t\t\t\turi = \"%s\";\n"
	    "\t\t\t\tbind_dn = \"" IT_SVC_DN "\";\n"
	    "\t\t\t\tpassword_file = \"%s\";\n"
	    "\t\t\t\tbase_dn = \"" IT_PEOPLE "\";\n"
	    "\t\t\t\tpolicy_dn = \"cn=policy," IT_SUFFIX "\";\n"
	    "\t\t\t}%s%s\n"
	    "\t\t);\n"
	    "\t}%s%s\n"
	    ");\n",
	    e->sock, e->store,
	    c->protected_extra ? ", " : "",
	    c->protected_extra ? c->protected_extra : "", two,
	    c->roles_extra ? ",\n\t\t\t" : "",
	    c->roles_extra ? c->roles_extra : "", e->uri,
	    c->password_file ? c->password_file : e->pwfile,
	    c->targets_extra ? ",\n\t\t\t" : "",
	    c->targets_extra ? c->targets_extra : "",
	    c->customers_extra ? ",\n\t" : "",
	    c->customers_extra ? c->customers_extra : "");
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		(void)fprintf(stderr, "%s: config too long\n", __func__);
		return -1;
	}
	return it_write_file(path, buf, (size_t)n, 0600);
}

static int
sock_answers(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	(void)close(fd);
	return r;
}

static void
print_log(const char *what, const char *path)
{
	char	*buf;
	size_t	 len;

	if (it_read_file(path, &buf, &len) != 0)
		return;
	(void)fprintf(stderr, "---- %s (%s) ----\n%s---- end ----\n", what,
	    path, buf);
	free(buf);
}

int
it_agent_start(struct it_env *e, int verbose)
{
	const char	*argv[] = { e->bin, "agent", "-c", e->conf,
	    verbose ? "-v" : NULL, NULL };
	double		 deadline;
	pid_t		 pid;
	int		 fd, st;

	if (e->agent > 0) {
		(void)fprintf(stderr, "%s: an agent already runs\n", __func__);
		return -1;
	}
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0)
			_exit(126);
		if ((fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) <
		    0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	e->agent = pid;
	deadline = mono() + IT_AGENT_WAIT_S;
	while (!sock_answers(e->sock)) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			e->agent = 0;
			(void)fprintf(stderr, "%s: agent exited early (status "
			    "%d)\n", __func__, st);
			print_log("agent log", e->log);
			return -1;
		}
		if (mono() > deadline) {
			(void)fprintf(stderr, "%s: socket '%s' did not answer "
			    "within %d s\n", __func__, e->sock,
			    IT_AGENT_WAIT_S);
			print_log("agent log", e->log);
			(void)it_agent_stop(e);
			return -1;
		}
		nap_ms(20);
	}
	return 0;
}

int
it_agent_alive(struct it_env *e)
{
	int	st;

	if (e->agent <= 0)
		return 0;
	return waitpid(e->agent, &st, WNOHANG) == 0;
}

int
it_log_check(const char *path)
{
	char	*buf;
	size_t	 len;
	int	 bad;

	if (it_read_file(path, &buf, &len) != 0)
		return 0;	/* no log: nothing was reported */
	bad = has_sanitizer_report(buf, len);
	if (bad)
		(void)fprintf(stderr, "---- sanitizer report in %s ----\n%s"
		    "---- end ----\n", path, buf);
	free(buf);
	return bad ? -1 : 0;
}

int
it_agent_stop(struct it_env *e)
{
	double	deadline;
	pid_t	pid = e->agent, w;
	int	st = 0, r = 0, early = 0;

	if (pid <= 0)
		return it_log_check(e->log);
	e->agent = 0;
	if ((w = waitpid(pid, &st, WNOHANG)) == pid)
		early = 1;
	else {
		(void)kill(pid, SIGTERM);
		deadline = mono() + IT_AGENT_WAIT_S;
		while ((w = waitpid(pid, &st, WNOHANG)) == 0 &&
		    mono() < deadline)
			nap_ms(10);
		if (w == 0) {
			(void)fprintf(stderr, "%s: agent pid %ld ignored "
			    "SIGTERM for %d s, killing\n", __func__,
			    (long)pid, IT_AGENT_WAIT_S);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			r = -1;
		}
	}
	if (early) {
		(void)fprintf(stderr, "%s: the agent had already exited "
		    "(status %d)\n", __func__, st);
		r = -1;
	} else if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		(void)fprintf(stderr, "%s: agent did not exit 0 on SIGTERM "
		    "(status %d)\n", __func__, st);
		r = -1;
	}
	if (r != 0)
		print_log("agent log", e->log);
	if (it_log_check(e->log) != 0)
		r = -1;
	return r;
}

int
it_test_setup(struct it_env *e, const struct it_conf *c)
{
	if (it_ldap_reset(e) != 0 || it_test_dir(e) != 0 ||
	    it_config_write(e, e->conf, c) != 0 ||
	    it_agent_start(e, c ? c->verbose : 0) != 0)
		return -1;
	return 0;
}

int
it_test_teardown(struct it_env *e)
{
	return it_agent_stop(e);
}

int
it_incident_open(struct it_env *e, char id[32])
{
	int	y, n;

	if (it_cordon(e, IT_OP, "incident", "open", "--customer", "acme",
	    "--title", "integration test", NULL) != 0) {
		(void)fprintf(stderr, "%s: exit %d: %s\n", __func__,
		    e->status, e->err);
		return -1;
	}
	if (sscanf(e->out, "INC-%4d-%4d", &y, &n) != 2) {
		(void)fprintf(stderr, "%s: no id in '%s'\n", __func__, e->out);
		return -1;
	}
	(void)snprintf(id, 32, "INC-%04d-%04d", y, n);
	return 0;
}

int
it_run_accounts(struct it_env *e, const char *user, const char *runbook,
    const char *inc, const char *accounts, int64_t *ids, size_t max,
    size_t *ret_n)
{
	char	 set[4096];
	json_t	*o, *v;
	size_t	 i;
	int	 r, n;

	*ret_n = 0;
	e->last_run = 0;
	n = snprintf(set, sizeof(set), "accounts=%s", accounts);
	if (n < 0 || (size_t)n >= sizeof(set))
		return -1;
	r = it_cordon(e, user, "run", runbook ? runbook : e->runbook,
	    "--incident", inc, "--set", set, "--json", NULL);
	if (r != 0 && r != 1)
		return r;
	if ((o = it_out_json(e)) == NULL)
		return r;
	e->last_run = json_integer_value(json_object_get(o, "run"));
	json_array_foreach(json_object_get(o, "actions"), i, v) {
		if (*ret_n < max)
			ids[(*ret_n)++] = json_integer_value(v);
	}
	json_decref(o);
	return r;
}

json_t *
it_action(struct it_env *e, int64_t id)
{
	char	 ref[32];
	json_t	*o, *a;

	(void)snprintf(ref, sizeof(ref), "A%lld", (long long)id);
	if (it_cordon(e, IT_AUD, "show", ref, "--json", NULL) != 0)
		return NULL;
	if ((o = it_out_json(e)) == NULL)
		return NULL;
	a = json_incref(json_object_get(o, "action"));
	json_decref(o);
	return a;
}

int
it_action_state(struct it_env *e, int64_t id, char *buf, size_t len)
{
	json_t		*a = it_action(e, id);
	const char	*s;
	int		 r = -1;

	if (a && (s = json_string_value(json_object_get(a, "state")))) {
		(void)snprintf(buf, len, "%s", s);
		r = 0;
	}
	json_decref(a);
	return r;
}

/* A state the action cannot leave on its way to want. */
static int
dead_end(const char *st, const char *want)
{
	if (strcmp(st, "succeeded") == 0)
		return strcmp(want, "undone") != 0;
	return strcmp(st, "failed") == 0 || strcmp(st, "rejected") == 0 ||
	    strcmp(st, "expired") == 0 || strcmp(st, "undone") == 0;
}

int
it_wait_action(struct it_env *e, int64_t id, const char *want,
    double timeout_s)
{
	char	st[64] = "?";
	double	deadline = mono() + timeout_s;

	for (;;) {
		if (it_action_state(e, id, st, sizeof(st)) == 0) {
			if (strcmp(st, want) == 0)
				return 0;
			if (dead_end(st, want))
				break;
		}
		if (mono() > deadline)
			break;
		nap_ms(50);
	}
	(void)fprintf(stderr, "%s: A%lld is '%s', not '%s' (waited up to "
	    "%.0f s)\n", __func__, (long long)id, st, want, timeout_s);
	return -1;
}

json_t *
it_journal(struct it_env *e)
{
	json_t	*o;

	if (it_cordon(e, IT_AUD, "journal", "show", "--limit", "100000",
	    "--json", NULL) != 0)
		return NULL;
	if ((o = it_out_json(e)) == NULL || !json_is_array(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
it_journal_count(struct it_env *e, const char *event, int64_t action)
{
	json_t	*j = it_journal(e), *x;
	size_t	 i;
	int	 n = 0;

	if (j == NULL)
		return -1;
	json_array_foreach(j, i, x) {
		const char *ev = json_string_value(json_object_get(x,
		    "event"));

		if (ev == NULL || strcmp(ev, event) != 0)
			continue;
		if (action && json_integer_value(json_object_get(x,
		    "action")) != action)
			continue;
		n++;
	}
	json_decref(j);
	return n;
}

int
it_queue_count(struct it_env *e)
{
	json_t	*o;
	int	 n = -1;

	if (it_cordon(e, IT_AUD, "queue", "--all", "--json", NULL) != 0)
		return -1;
	if ((o = it_out_json(e)) != NULL && json_is_array(o))
		n = (int)json_array_size(o);
	json_decref(o);
	return n;
}

int
it_ldap_lock(struct it_env *e, const char *uid, char *buf, size_t len)
{
	static const char	 key[] = "pwdAccountLockedTime: ";
	char			 dn[256];
	const char		*p, *nl;
	const char		*argv[] = { "ldapsearch", "-x", "-LLL",
	    "-o", "ldif-wrap=no", "-H", e->uri, "-D", IT_ADMIN_DN,
	    "-w", IT_ADMIN_PW, "-b", dn, "-s", "base",
	    "pwdAccountLockedTime", NULL };

	if (path_fmt(dn, sizeof(dn), "uid=%s," IT_PEOPLE, uid) != 0)
		return -1;
	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0) {
		(void)fprintf(stderr, "%s: ldapsearch '%s': exit %d: %s\n",
		    __func__, dn, e->status, e->err);
		return -1;
	}
	if (strncmp(e->out, "dn: ", 4) != 0)
		return -1;
	for (p = e->out; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, key, sizeof(key) - 1) == 0) {
			p += sizeof(key) - 1;
			(void)snprintf(buf, len, "%.*s",
			    (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
			return 1;
		}
	}
	if (len)
		buf[0] = '\0';
	return 0;
}

/* ldapmodify -f on an LDIF written to DIR/modify.ldif. */
static int
ldap_modify(struct it_env *e, const char *ldif)
{
	char		 path[IT_PATH_MAX];
	const char	*argv[] = { "ldapmodify", "-x", "-H", e->uri, "-D",
	    IT_ADMIN_DN, "-w", IT_ADMIN_PW, "-f", path, NULL };

	if (path_fmt(path, sizeof(path), "%s/modify.ldif", e->dir) != 0 ||
	    it_write_file(path, ldif, strlen(ldif), 0600) != 0)
		return -1;
	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0) {
		(void)fprintf(stderr, "%s: ldapmodify: exit %d: %s\n",
		    __func__, e->status, e->err);
		return -1;
	}
	return 0;
}

int
it_ldap_set_lock(struct it_env *e, const char *uid, const char *value)
{
	char	ldif[512];
	int	n;

	n = snprintf(ldif, sizeof(ldif), "dn: uid=%s," IT_PEOPLE "\n"
	    "changetype: modify\nreplace: pwdAccountLockedTime\n%s%s%s-\n",
	    uid, value ? "pwdAccountLockedTime: " : "", value ? value : "",
	    value ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(ldif))
		return -1;
	return ldap_modify(e, ldif);
}

int
it_ldap_reset(struct it_env *e)
{
	char	ldif[2048];
	size_t	i, off = 0;
	int	n;

	/* replace with no value removes the attribute, present or not. */
	for (i = 0; i < sizeof(it_people) / sizeof(*it_people); i++) {
		n = snprintf(ldif + off, sizeof(ldif) - off, "%sdn: uid=%s,"
		    IT_PEOPLE "\nchangetype: modify\n"
		    "replace: pwdAccountLockedTime\n-\n", i ? "\n" : "",
		    it_people[i]);
		if (n < 0 || (size_t)n >= sizeof(ldif) - off)
			return -1;
		off += (size_t)n;
	}
	return ldap_modify(e, ldif);
}

int
it_ldap_bind(struct it_env *e, const char *dn, const char *pw)
{
	const char	*argv[] = { "ldapwhoami", "-x", "-H", e->uri, "-D",
	    dn, "-w", pw, NULL };

	return it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S);
}

int
it_ldap_user_bind(struct it_env *e, const char *uid)
{
	char	dn[256], pw[128];

	if (path_fmt(dn, sizeof(dn), "uid=%s," IT_PEOPLE, uid) != 0 ||
	    path_fmt(pw, sizeof(pw), "%spw", uid) != 0)
		return -1;
	return it_ldap_bind(e, dn, pw);
}
