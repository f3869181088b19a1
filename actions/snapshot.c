/*
 * snapshot: restore files from a snapshot taken before the incident, on a
 * host reached over SSH (ssh_conn.h), with back ends in snap_*.c.
 *
 *   list     read-only: the snapshots with their times, each marked
 *            predates or not.  Never applies anything (no_change).
 *   restore  args path (relative to root), snapshot ("latest-before-
 *            incident" or an id), mode ("staging" | "in_place"),
 *            before (an earlier cut-off than the incident's time;
 *            a later one is refused),
 *            waive_isolation_reason.
 *
 * The incident time is the incident's occurred_from, else its aware_at;
 * args.before may set an earlier cut-off, never a later one (refused: it
 * would let a post-incident snapshot pass as safe).  A snapshot
 * qualifies only if it was created strictly before that (whole
 * seconds).  check refuses, with no change: an unsafe path (absolute,
 * "..", a symlink anywhere on the way, control characters), a snapshot
 * that does not exist or does not predate the incident, a writable
 * btrfs snapshot, a host not isolated (below), in_place without
 * approval, and too little free space (df) for the copy.
 *
 * Isolated means: the incident has a firewall.isolate_host act that
 * succeeded and is not undone (nor being undone), whose host param (else
 * ip) names this target's host -- its isolation_host setting, else its
 * host setting.  Names match case-insensitively; two IP addresses match
 * when they are the same address in any spelling ("::1" and "0::1").
 * The store supplies the list (act.h isolated_hosts), read when the act
 * is loaded to run, and check always runs again before apply (recheck).
 * At plan time an isolation that an earlier step of the same run will
 * perform is accepted, since the recheck then insists it succeeded.  A
 * runbook may instead waive the check with waive_isolation_reason (at
 * least SNAP_REASON_MIN characters), recorded in before and so in the
 * journal.  The old isolated = "yes" claim is refused: it proved nothing.
 *
 *   staging   copies the path to ROOT/REL.cordon-restore-A<id>; nothing
 *             existing is touched.  Undo removes that copy.
 *   in_place  first copies the current state to ROOT/REL.cordon-pre-A<id>
 *             (recorded in before.preserved, with the SHA-256 of its
 *             manifest), then restores beside it and swaps by rename.
 *             Undo puts the preserved copy back and verify proves it is
 *             byte for byte the state before the restore.
 *
 * Verify compares manifests of the restored tree and the snapshot (every
 * entry's type and name, file sizes, symlink targets, SHA-256 of every
 * file; computed on the host with find and sha256sum): first their
 * SHA-256, computed on the host too (a manifest of a few thousand files
 * outgrows a command's output); only when they differ, and both fit,
 * are they fetched to report the first difference.
 *
 * Copies, restores, manifests and removals run under the target's
 * copy_timeout (default SNAP_COPY_TIMEOUT_DEFAULT s), not its command
 * timeout.  A copy script holds an flock on DEST.lock while it writes
 * DEST.part and refuses to start while another holds it, so a retry
 * never deletes a .part that a copy the agent gave up on still writes.
 * The id in file names makes every step idempotent.
 *
 * The live side above (inspect, manifests, copy, swap, removal) is POSIX
 * sh, except for a back end that brings its own (snap.h snap_live_ops):
 * "vss" (Windows shadow copies, snap_vss_be.c) inspects, hashes and
 * removes with PowerShell, joins paths with '\', and supports staging
 * only -- check refuses in_place there with the back end's reason.  Its
 * staging copy of a file is a folder holding the file under its own name
 * (robocopy copies files into folders); a file's manifest names it by
 * that name, so the two compare equal.  The decisions (snapshot choice,
 * isolation, space, idempotence, manifest comparison) are the same code
 * for every back end.
 *
 * Per-act helpers return 0, 1 when they failed the act, or -EIO /
 * -ETIMEDOUT when the session broke.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "../agent/driver.h"
#include "../agent/hash.h"
#include "../agent/util.h"
#include "snap.h"

#define SNAP_ERR_MAX		200
#define SNAP_REASON_MIN		8
#define SNAP_MARGIN_PCT		5
#define SNAP_LATEST		"latest-before-incident"
#define SNAP_DIFF_SHOW		80

static const char *const conn_keys[] = {
	"name", "type", "host", "port", "user", "key_file", "known_hosts",
	"sudo", "timeout", "backend", "isolation_host", "copy_timeout", NULL,
};

static const struct snap_be *const backends[] = {
	&snap_be_dir, &snap_be_btrfs, &snap_be_restic, &snap_be_lvm,
	&snap_be_zfs, &snap_be_vss,
};

/*
 * $1 root, $2 rel, $3 $4 suffixes (staging, preserved): prints
 * "REALROOT\0EXISTS AVAIL SIZE STAGED PRESERVED\0".
 */
static const char live_sh[] =
    "r=$(realpath -e -- \"$1\") || { echo 'root does not exist' >&2; "
    "exit 3; }\n"
    "d=$(dirname -- \"$r/$2\")\n"
    "p=$(realpath -e -- \"$d\") || { echo 'parent of the path does not "
    "exist' >&2; exit 4; }\n"
    "[ \"$p\" = \"$d\" ] || { echo 'path goes through a symlink' >&2; "
    "exit 5; }\n"
    "if [ -L \"$r/$2\" ]; then echo 'path is a symlink' >&2; exit 5; fi\n"
    "e=0; s=0; [ -e \"$r/$2\" ] && e=1 && "
    "s=$(du -s -B1 --apparent-size -- \"$r/$2\" | cut -f1)\n"
    "a=$(df -B1 --output=avail -- \"$d\" | tail -n 1)\n"
    "g=0; [ -e \"$r/$2$3\" ] && g=1\n"
    "k=0; [ -e \"$r/$2$4\" ] && k=1\n"
    "printf '%s\\0%s %s %s %s %s\\0' \"$r\" $e $a $s $g $k\n";

/*
 * $1 a tree or file: its manifest, "#", then its SHA-256 lines.  With $2
 * "sum", only "HEX LEN FILES BYTES" of it: the SHA-256 and length of the
 * manifest, its file count and their bytes.  A manifest is ~170 bytes a
 * file, so past a few thousand files it no longer fits in a command's
 * output (SSH_OUT_MAX): verify compares these first.  The manifest goes
 * through a temporary file so that a failure is the script's exit code
 * (sh has no pipefail).
 */
static const char manifest_sh[] =
    "set -e\n"
    "m() {\n"
    "if [ -d \"$1\" ] && [ ! -L \"$1\" ]; then\n"
    "  cd -- \"$1\"\n"
    "  { find . -mindepth 1 -type d -printf 'd %P\\0'\n"
    "    find . -type f -printf 'f %s %P\\0'\n"
    "    find . -type l -printf 'l %P -> %l\\0'\n"
    "    find . ! -type d ! -type f ! -type l -printf 'o %y %P\\0'\n"
    "  } | LC_ALL=C sort -z\n"
    "  printf '#\\0'\n"
    "  find . -type f -print0 | LC_ALL=C sort -z | "
    "xargs -0 -r sha256sum -z --\n"
    "elif [ -f \"$1\" ] && [ ! -L \"$1\" ]; then\n"
    "  printf 'f %s \\0#\\0' \"$(stat -c %s -- \"$1\")\"\n"
    "  h=$(sha256sum < \"$1\")\n"
    "  printf '%s  -\\0' \"${h%% *}\"\n"
    "else echo 'not a file or directory' >&2; exit 4; fi\n"
    "}\n"
    "if [ \"$2\" != sum ]; then m \"$1\"; exit 0; fi\n"
    "t=$(mktemp)\n"
    "trap 'rm -f -- \"$t\"' EXIT\n"
    "(m \"$1\") > \"$t\"\n"
    "h=$(sha256sum < \"$t\")\n"
    "LC_ALL=C tr '\\n\\0' '?\\n' < \"$t\" | LC_ALL=C awk -v h=\"${h%% *}\" "
    "-v l=\"$(stat -c %s -- \"$t\")\" "
    "'/^#$/ { exit } /^f / { n++; b += $2 } "
    "END { printf \"%s %s %d %.0f\\n\", h, l, n, b }'\n";

/* $1 live, $2 new (restored), $3 aside: swap by rename. */
static const char swap_sh[] =
    "set -e\n"
    "rm -rf -- \"$3\"\n"
    "if [ -e \"$1\" ] || [ -L \"$1\" ]; then mv -T -- \"$1\" \"$3\"; fi\n"
    "mv -T -- \"$2\" \"$1\"\n"
    "rm -rf -- \"$3\"\n";

/* $1 from, $2 to (absent): a complete copy appears under its name. */
static const char copy_sh[] =
    "set -e\n"
    "if [ -e \"$2\" ] || [ -L \"$2\" ]; then exit 0; fi\n"
    SNAP_PART_LOCK("\"$2\"")
    "rm -rf -- \"$2.part\"\n"
    "cp -a --reflink=auto -- \"$1\" \"$2.part\"\n"
    "mv -T -- \"$2.part\" \"$2\"\n"
    SNAP_PART_UNLOCK("\"$2\"");

/* $1 .. $n: removed (only paths this driver named). */
static const char rm_sh[] = "rm -rf -- \"$@\"\n";

int
snap_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
snap_run(struct sconn *c, const char *what, const char *const *argv,
    struct ssh_res *res, char *err, size_t errlen)
{
	char	line[SNAP_ERR_MAX];
	int	r;

	if ((r = ssh_run(c, SSH_AS_ROOT, NULL, argv, NULL, 0, res)) != 0) {
		(void)snprintf(err, errlen, "%s: %s", what, strerror(-r));
		return r;
	}
	if (res->status != 0) {
		ssh_res_errline(res, line, sizeof(line));
		(void)snprintf(err, errlen, "%s exited %d%s%s", what,
		    res->status, *line ? ": " : "", line);
		return -EPROTO;
	}
	return 0;
}

int
snap_sh(struct sconn *c, const char *what, const char *script,
    const char *const *args, struct ssh_res *res, char *err, size_t errlen)
{
	const char	*argv[SSH_ARGV_MAX + 1];
	size_t		 i, n = 0;

	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "sh";
	for (i = 0; args[i] && n < SSH_ARGV_MAX; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return snap_run(c, what, argv, res, err, errlen);
}

int
snap_sh_bytes(struct sconn *c, const char *what, const char *script,
    const char *const *args, long long *ret_bytes, char *err, size_t errlen)
{
	struct ssh_res	res;
	int		r;

	r = snap_sh(c, what, script, args, &res, err, errlen);
	if (r == -EPROTO && res.status == 4)
		r = -ENOENT;
	if (r == 0 && ret_bytes)
		*ret_bytes = strtoll(res.out.p ? res.out.p : "0", NULL, 10);
	ssh_res_free(&res);
	return r;
}

static int
two(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -EINVAL;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int
snap_parse_time(const char *s, time_t *ret)
{
	struct tm	 tm;
	const char	*p;
	int		 oh = 0, om = 0, sign = 0, n = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n == 0)
		return -EINVAL;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	while (*p == ' ')
		p++;
	if (*p == 'Z' && p[1] == '\0')
		sign = 0;
	else if ((*p == '+' || *p == '-') && two(p + 1, &oh) == 0) {
		sign = *p == '+' ? 1 : -1;
		p += 3;
		if (*p == ':')
			p++;
		if (two(p, &om) != 0)
			return -EINVAL;
		p += 2;
		while (*p == ' ')
			p++;
		if (*p != '\0' && strcmp(p, "UTC") != 0)
			return -EINVAL;
	} else
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -EINVAL;
	*ret = t - sign * (oh * 3600 + om * 60);
	return 0;
}

static const struct snap_be *
be_of(const struct target *t)
{
	const char	*b = ssh_opt_str(t, "backend");
	size_t		 i;

	for (i = 0; b && i < ARRAY_SIZE(backends); i++)
		if (strcmp(backends[i]->name, b) == 0)
			return backends[i];
	return NULL;
}

/* An absolute path without "..", "//" tricks or control characters. */
static int
abs_ok(const char *s)
{
	size_t	i, n;

	if (s == NULL || s[0] != '/' || (n = strlen(s)) >= SNAP_PATH_MAX / 2)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return strstr(s, "/../") == NULL && strstr(s, "/./") == NULL &&
	    (n < 3 || strcmp(s + n - 3, "/..") != 0) &&
	    (n < 2 || s[n - 1] != '/');
}

static int
snapshot_target_check(const struct target *t, char *err, size_t errlen)
{
	const struct snap_be	*be;
	const char		*key, *s;
	json_t			*v;
	size_t			 i;
	int			 r;

	if ((be = be_of(t)) == NULL) {
		(void)snprintf(err, errlen, "'backend' must be \"dir\", "
		    "\"btrfs\", \"restic\", \"lvm\", \"zfs\" or \"vss\"");
		return -EINVAL;
	}
	json_object_foreach(t->opts, key, v) {
		int known = 0;

		for (i = 0; conn_keys[i]; i++)
			known |= strcmp(key, conn_keys[i]) == 0;
		for (i = 0; be->keys[i]; i++)
			known |= strcmp(key, be->keys[i]) == 0;
		if (!known) {
			(void)snprintf(err, errlen, "unknown setting '%s' "
			    "for backend '%s'", key, be->name);
			return -EINVAL;
		}
		if (strcmp(key, "sudo") == 0 ? !json_is_boolean(v) :
		    (strcmp(key, "port") == 0 || strcmp(key, "timeout") ==
		    0 || strcmp(key, "copy_timeout") == 0) ?
		    !json_is_integer(v) : !json_is_string(v)) {
			(void)snprintf(err, errlen, "'%s' has the wrong type",
			    key);
			return -EINVAL;
		}
	}
	for (i = 0; be->required[i]; i++)
		if (ssh_opt_str(t, be->required[i]) == NULL) {
			(void)snprintf(err, errlen, "missing '%s'",
			    be->required[i]);
			return -EINVAL;
		}
	/* Key login only: the restic password file lives on the host. */
	if ((r = ssh_conn_check(t, 1, err, errlen)) != 0 ||
	    (r = ssh_opt_int_in(t, "copy_timeout", 1,
	    SNAP_COPY_TIMEOUT_MAX, err, errlen)) != 0)
		return r;
	for (i = 0; be->path_keys[i]; i++) {
		s = ssh_opt_str(t, be->path_keys[i]);
		if (!abs_ok(s)) {
			(void)snprintf(err, errlen, "'%s' must be an absolute "
			    "path without '..', '.' or a trailing '/'",
			    be->path_keys[i]);
			return -EINVAL;
		}
	}
	if ((s = ssh_opt_str(t, "isolation_host")) != NULL &&
	    (*s == '\0' || strlen(s) > 255 || strcspn(s, "\x01\x02\x03"
	    "\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13"
	    "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f") !=
	    strlen(s))) {
		(void)snprintf(err, errlen, "'isolation_host' must be a host "
		    "name or address");
		return -EINVAL;
	}
	return be->check ? be->check(t, err, errlen) : 0;
}

/*
 * The path argument made canonical in out: relative, components joined
 * by one '/', no "." left, no ".." at all, no control characters.
 */
static int
path_norm(const char *in, int no_glob, char *out, size_t len,
    const char **why)
{
	const char	*p = in, *q;
	size_t		 o = 0, n;

	*why = "must be a relative path inside the root";
	if (in == NULL || *in == '\0' || *in == '/' || strlen(in) >= len)
		return -EINVAL;
	for (q = in; *q; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			*why = "holds control characters";
			return -EINVAL;
		}
		if (no_glob && strchr("*?[\\", *q)) {
			*why = "holds * ? [ or \\, which restic reads as a "
			    "pattern";
			return -EINVAL;
		}
	}
	while (*p) {
		q = strchr(p, '/');
		n = q ? (size_t)(q - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "holds '..'";
			return -EINVAL;
		}
		if (n > 255) {
			*why = "has a component longer than 255 bytes";
			return -EINVAL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	out[o] = '\0';
	if (o == 0) {
		*why = "names the root itself";
		return -EINVAL;
	}
	return 0;
}

/*
 * The time the snapshot must predate; 1 after act_fail.  'before' may
 * only move the cut-off earlier than the incident's own time: a later one
 * would let a snapshot taken after the incident pass as safe, so it is
 * refused.
 */
static int
incident_time(struct act *a, time_t *ret, const char **src)
{
	static const char *const keys[] = { "occurred_from", "aware_at" };
	const char	*s = act_param(a, "before"), *k = NULL;
	char		 tb[32], ti[32];
	size_t		 i;
	time_t		 b = 0, t = 0;

	for (i = 0; i < ARRAY_SIZE(keys) && k == NULL; i++) {
		const char *v = json_string_value(json_object_get(
		    a->incident_info, keys[i]));

		if (v && (parse_time(v, &t) == 0 ||
		    snap_parse_time(v, &t) == 0))
			k = keys[i];
	}
	if (s != NULL && parse_time(s, &b) != 0 &&
	    snap_parse_time(s, &b) != 0) {
		act_fail(a, "cannot parse 'before' '%s'", s);
		return 1;
	}
	if (s != NULL && k != NULL && b > t) {
		fmt_time(b, tb);
		fmt_time(t, ti);
		act_fail(a, "'before' %s is later than the incident's %s %s: "
		    "a snapshot taken after the incident could pass as safe; "
		    "refusing (give a time at or before %s, or correct the "
		    "incident's time)", tb, k, ti, ti);
		a->outcome = ACT_REFUSED;
		return 1;
	}
	if (s != NULL) {
		*src = "before";
		*ret = b;
		return 0;
	}
	if (k != NULL) {
		*src = k;
		*ret = t;
		return 0;
	}
	act_fail(a, "the incident has no occurred_from or aware_at time and "
	    "no 'before' was given");
	return 1;
}

static int
snap_cmp(const void *x, const void *y)
{
	const struct snap	*a = x, *b = y;

	return a->at < b->at ? -1 : a->at > b->at ? 1 : strcmp(a->id, b->id);
}

static int
broken(int r)
{
	return r == -EIO || r == -ETIMEDOUT;
}

/* r from a back end: passes a broken session on, else fails the act. */
static int
be_fail(struct act *a, int r, const char *err)
{
	if (broken(r))
		return r;
	act_fail(a, "%s", err);
	return 1;
}

static int
list_snaps(struct sconn *c, struct act *a, struct snap **ret,
    size_t *ret_n)
{
	char	err[ACT_MSG_MAX];
	int	r;

	err[0] = '\0';
	if ((r = be_of(c->t)->list(c, ret, ret_n, err, sizeof(err))) != 0)
		return be_fail(a, r, err);
	qsort(*ret, *ret_n, sizeof(**ret), snap_cmp);
	return 0;
}

static json_t *
snaps_json(const struct snap *v, size_t n, time_t before)
{
	json_t	*arr = json_array();
	char	 ts[32];
	size_t	 i;

	for (i = 0; i < n; i++) {
		fmt_time(v[i].at, ts);
		(void)json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:O}",
		    "id", v[i].id, "time", ts, "predates", v[i].at < before,
		    "readonly", v[i].readonly < 0 ? json_null() :
		    json_boolean(v[i].readonly)));
	}
	return arr;
}

static int
list_one(struct sconn *c, struct act *a)
{
	struct snap	*v = NULL;
	const char	*src;
	char		 ts[32];
	size_t		 n = 0, i, pre = 0;
	time_t		 before;
	int		 r;

	if ((r = incident_time(a, &before, &src)) != 0 ||
	    (r = list_snaps(c, a, &v, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		pre += v[i].at < before;
	fmt_time(before, ts);
	json_decref(a->before);
	a->before = json_pack("{s:s,s:s,s:s,s:o}", "backend",
	    be_of(c->t)->name, "incident_time", ts, "time_from", src,
	    "snapshots", snaps_json(v, n, before));
	a->outcome = ACT_NOCHANGE;
	(void)snprintf(a->msg, sizeof(a->msg), "%zu snapshot(s), %zu "
	    "predate %s%s%.100s", n, pre, ts, pre ? "; newest before: " : "",
	    pre ? v[pre - 1].id : "");
out:
	free(v);
	return r;
}

static int
list_check(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, list_one);
}

static int
noop(void *conn, struct act **v, size_t n)
{
	(void)conn;
	(void)v;
	(void)n;
	return 0;
}

/* What one restore act works on, derived from its args and id. */
struct rs {
	const struct snap_be	*be;
	char	rel[SNAP_PATH_MAX];
	char	root[SNAP_PATH_MAX];		/* realpath on the host */
	char	live[SNAP_PATH_MAX];
	char	staged[SNAP_PATH_MAX];		/* .cordon-restore-A<id> */
	char	pre[SNAP_PATH_MAX];		/* .cordon-pre-A<id> */
	char	aside[SNAP_PATH_MAX];		/* .cordon-old-A<id> */
	char	vtmp[SNAP_PATH_MAX];		/* .cordon-verify-A<id> */
	char	sfx_staged[64], sfx_pre[64];
	int	in_place;
	int	exists, is_staged, is_pre;
	long long avail, size;
};

/* The paths next to ROOT<sep>REL; 1 after act_fail. */
static int
rs_paths(struct act *a, int64_t id, char sep, struct rs *s)
{
	if (snap_fmt(s->live, sizeof(s->live), "%s%c%s", s->root, sep,
	    s->rel) != 0 ||
	    snap_fmt(s->staged, sizeof(s->staged), "%s%s", s->live,
	    s->sfx_staged) != 0 ||
	    snap_fmt(s->pre, sizeof(s->pre), "%s%s", s->live,
	    s->sfx_pre) != 0 ||
	    snap_fmt(s->aside, sizeof(s->aside), "%s.cordon-old-A%lld",
	    s->live, (long long)id) != 0 ||
	    snap_fmt(s->vtmp, sizeof(s->vtmp), "%s.cordon-verify-A%lld",
	    s->live, (long long)id) != 0) {
		act_fail(a, "unexpected answer while inspecting '%s'", s->rel);
		return 1;
	}
	return 0;
}

/* rs_init's live side for a back end that brings its own. */
static int
rs_live(struct sconn *c, struct act *a, int64_t id, struct rs *s)
{
	struct snap_live	l;
	char			err[ACT_MSG_MAX];
	int			r;

	err[0] = '\0';
	if ((r = s->be->live->inspect(c, s->rel, s->sfx_staged, &l, err,
	    sizeof(err))) != 0)
		return be_fail(a, r, err);
	s->exists = l.exists;
	s->is_staged = l.is_staged;
	s->is_pre = l.is_pre;
	s->avail = l.avail;
	s->size = l.size;
	memcpy(s->root, l.root, sizeof(s->root));
	return rs_paths(a, id, s->be->live->sep, s);
}

/* Parses args and probes the live side; 1 after act_fail. */
static int
rs_init(struct sconn *c, struct act *a, int64_t id, struct rs *s)
{
	const char	*args[5], *mode, *why, *p;
	struct ssh_res	 res;
	char		 err[ACT_MSG_MAX];
	int		 r;

	memset(s, 0, sizeof(*s));
	s->be = be_of(c->t);
	/* act_param stops at a NUL: a longer JSON string hides a tail. */
	if (json_string_length(json_object_get(a->params, "path")) !=
	    strlen(act_param(a, "path") ? act_param(a, "path") : "")) {
		act_fail(a, "'path' holds a NUL byte");
		return 1;
	}
	if (path_norm(act_param(a, "path"), s->be->no_glob, s->rel,
	    sizeof(s->rel), &why) != 0 || (s->be->live &&
	    s->be->live->path_fix(s->rel, sizeof(s->rel), &why) != 0)) {
		act_fail(a, "'path' %s", why);
		return 1;
	}
	mode = act_param(a, "mode");
	if (mode && strcmp(mode, "staging") != 0 &&
	    strcmp(mode, "in_place") != 0) {
		act_fail(a, "'mode' must be \"staging\" or \"in_place\"");
		return 1;
	}
	s->in_place = mode && strcmp(mode, "in_place") == 0;
	if (s->in_place && s->be->live && s->be->live->no_in_place) {
		act_fail(a, "in_place refused: %s", s->be->live->no_in_place);
		a->outcome = ACT_REFUSED;
		return 1;
	}
	if (snap_fmt(s->sfx_staged, sizeof(s->sfx_staged),
	    ".cordon-restore-A%lld", (long long)id) != 0 ||
	    snap_fmt(s->sfx_pre, sizeof(s->sfx_pre), ".cordon-pre-A%lld",
	    (long long)id) != 0)
		return 1;
	if (s->be->live)
		return rs_live(c, a, id, s);
	args[0] = ssh_opt_str(c->t, "root");
	args[1] = s->rel;
	args[2] = s->sfx_staged;
	args[3] = s->sfx_pre;
	args[4] = NULL;
	err[0] = '\0';
	if ((r = snap_sh(c, "inspect path", live_sh, args, &res, err,
	    sizeof(err))) != 0) {
		r = be_fail(a, r, err);
		goto out;
	}
	p = res.out.p;
	if (snap_fmt(s->root, sizeof(s->root), "%s", p) != 0 ||
	    (size_t)(strlen(p) + 1) >= res.out.len ||
	    sscanf(p + strlen(p) + 1, "%d %lld %lld %d %d", &s->exists,
	    &s->avail, &s->size, &s->is_staged, &s->is_pre) != 5) {
		act_fail(a, "unexpected answer while inspecting '%s'", s->rel);
		r = 1;
		goto out;
	}
	r = rs_paths(a, id, '/', s);
out:
	ssh_res_free(&res);
	return r;
}

/* The snapshot args.snapshot names, predating before; 1 after fail. */
static int
pick(struct sconn *c, struct act *a, time_t before, struct snap *ret)
{
	struct snap	*v = NULL;
	const char	*want = act_param(a, "snapshot");
	char		 ts[32], tb[32];
	size_t		 n = 0, i;
	int		 r, found = -1;

	if (want == NULL)
		want = SNAP_LATEST;
	if ((r = list_snaps(c, a, &v, &n)) != 0)
		goto out;
	fmt_time(before, tb);
	for (i = 0; i < n; i++) {
		if (strcmp(want, SNAP_LATEST) == 0) {
			if (v[i].at < before && v[i].readonly != 0)
				found = (int)i;
		} else if (strcmp(want, v[i].id) == 0 || (v[i].full[0] &&
		    strcmp(want, v[i].full) == 0))
			found = (int)i;
	}
	r = 1;
	if (found < 0) {
		if (strcmp(want, SNAP_LATEST) == 0)
			act_fail(a, "no %ssnapshot predates the incident time "
			    "%s", be_of(c->t) == &snap_be_btrfs ?
			    "read-only " : "", tb);
		else
			act_fail(a, "no snapshot '%s'", want);
		goto out;
	}
	fmt_time(v[found].at, ts);
	if (v[found].at >= before) {
		act_fail(a, "snapshot '%s' was taken at %s, not before the "
		    "incident time %s; refusing", v[found].id, ts, tb);
		goto out;
	}
	if (v[found].readonly == 0) {
		act_fail(a, "snapshot '%s' is writable: it may have been "
		    "altered; refusing", v[found].id);
		goto out;
	}
	*ret = v[found];
	r = 0;
out:
	free(v);
	return r;
}

/* Same host name (any case) or same IP address in any spelling. */
static int
host_eq(const char *x, const char *y)
{
	unsigned char	a[16], b[16];

	if (strcasecmp(x, y) == 0)
		return 1;
	if (inet_pton(AF_INET, x, a) == 1 && inet_pton(AF_INET, y, b) == 1)
		return memcmp(a, b, 4) == 0;
	if (inet_pton(AF_INET6, x, a) == 1 && inet_pton(AF_INET6, y, b) == 1)
		return memcmp(a, b, 16) == 0;
	return 0;
}

/* The host name isolation acts must name for this target. */
static const char *
iso_host(const struct target *t)
{
	const char	*h = ssh_opt_str(t, "isolation_host");

	return h ? h : ssh_opt_str(t, "host");
}

/* The isolation in force for the target ({"action","host"}), or NULL. */
static json_t *
iso_find(const struct act *a, const struct target *t)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(a->incident_info,
	    "isolated_hosts"), i, e)
		if (json_is_string(json_object_get(e, "host")) &&
		    host_eq(json_string_value(json_object_get(e, "host")),
		    iso_host(t)))
			return e;
	return NULL;
}

static int
iso_pending(const struct act *a, const struct target *t)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(json_object_get(a->incident_info,
	    "isolation_pending"), i, e)
		if (json_is_string(e) && host_eq(json_string_value(e),
		    iso_host(t)))
			return 1;
	return 0;
}

/* 0 when the host is isolated, pending isolation or waived; else 1. */
static int
iso_check(struct sconn *c, struct act *a, const char *waive)
{
	const char	*h = iso_host(c->t);

	if (act_param(a, "isolated") != NULL) {
		act_fail(a, "'isolated' is no longer read: cordon checks that "
		    "a firewall.isolate_host of '%.64s' succeeded in this "
		    "incident (or give waive_isolation_reason)", h);
		a->outcome = ACT_REFUSED;
		return 1;
	}
	if (waive != NULL) {
		if (strlen(waive) >= SNAP_REASON_MIN) {
			a->outcome = ACT_OK;
			return 0;
		}
		act_fail(a, "waive_isolation_reason must say why, in at least "
		    "%d characters", SNAP_REASON_MIN);
		a->outcome = ACT_REFUSED;
		return 1;
	}
	if (iso_find(a, c->t) != NULL) {
		a->outcome = ACT_OK;
		return 0;
	}
	if (iso_pending(a, c->t)) {
		a->outcome = ACT_OK;
		(void)snprintf(a->msg, sizeof(a->msg), "runs only if the "
		    "isolation of '%.64s' by an earlier step succeeds", h);
		return 0;
	}
	act_fail(a, "the host '%.64s' is not isolated: no firewall."
	    "isolate_host naming it has succeeded in this incident (or it was "
	    "undone); isolate it first or give waive_isolation_reason", h);
	a->outcome = ACT_REFUSED;
	return 1;
}

/* Undo check: what is left to put back. */
static int
undo_check(struct sconn *c, struct act *a)
{
	struct rs	s;
	int		r;

	if ((r = rs_init(c, a, a->undo_of, &s)) != 0)
		return r;
	json_decref(a->before);
	a->before = json_deep_copy(a->restore);
	if (s.in_place ? !s.is_pre : !s.is_staged) {
		a->outcome = ACT_NOCHANGE;
		return 0;
	}
	free(a->change);
	a->change = s.in_place ? xasprintf("put the state preserved in '%s' "
	    "back at '%s'", s.pre, s.live) : xasprintf("remove the staging "
	    "copy '%s'", s.staged);
	return 0;
}

static int
restore_check_one(struct sconn *c, struct act *a)
{
	const char	*src, *waive = act_param(a, "waive_isolation_reason");
	struct snap	 sn;
	struct rs	 s;
	char		 ts[32], tb[32], err[ACT_MSG_MAX], sp[SNAP_PATH_MAX];
	long long	 bytes = 0, need;
	time_t		 before;
	int		 r;

	if (a->restore)
		return undo_check(c, a);
	if ((r = rs_init(c, a, a->id, &s)) != 0)
		return r;
	/*
	 * A complete staging copy under this act's id is the restore itself,
	 * made before the agent died: check after a restart must recognise
	 * it (no change, then verify) even if the isolation has been undone
	 * since, because nothing more will be written.
	 */
	if (!(a->id != 0 && !s.in_place && s.is_staged) &&
	    iso_check(c, a, waive) != 0)
		return 1;
	if (s.in_place && !a->approval_required) {
		act_fail(a, "an in_place restore needs approval = "
		    "\"required\"");
		a->outcome = ACT_REFUSED;
		return 1;
	}
	if (s.in_place && !s.exists) {
		act_fail(a, "'%s' does not exist: restore to staging and move "
		    "it by hand", s.rel);
		return 1;
	}
	if ((r = incident_time(a, &before, &src)) != 0 ||
	    (r = pick(c, a, before, &sn)) != 0)
		return r;
	err[0] = '\0';
	if ((r = s.be->probe(c, &sn, s.rel, &bytes, err, sizeof(err))) != 0)
		return r == -ENOENT ? (act_fail(a, "'%s' is not in snapshot "
		    "'%s'", s.rel, sn.id), 1) : be_fail(a, r, err);
	/*
	 * New bytes on the live file system: one copy of the restore, plus
	 * for in_place the copy preserving the current state, plus for a
	 * back end without a file tree to compare against (restic) the
	 * second restore verify makes while the first still exists.
	 */
	need = bytes + (s.in_place ? s.size : 0) + (s.be->src_path(c, &sn,
	    s.rel, sp, sizeof(sp)) == -ENOTSUP ? bytes : 0);
	need += need * SNAP_MARGIN_PCT / 100;
	if (need > s.avail) {
		act_fail(a, "not enough free space beside '%s': %lld bytes "
		    "needed, %lld available", s.rel, need, s.avail);
		return 1;
	}
	fmt_time(sn.at, ts);
	fmt_time(before, tb);
	json_decref(a->before);
	a->before = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,"
	    "s:s?,s:I,s:I}",
	    "backend", s.be->name, "root", s.root, "path", s.rel, "snapshot",
	    sn.id, "snapshot_time", ts, "incident_time", tb, "time_from",
	    src, "mode", s.in_place ? "in_place" : "staging", "existed",
	    s.exists, "isolation_host", iso_host(c->t), "isolation_waived",
	    waive, "restore_bytes", (json_int_t)bytes, "space_needed",
	    (json_int_t)need);
	free(a->change);
	a->change = xasprintf("restore '%s' from snapshot %s (%s) %s",
	    s.rel, sn.id, ts, s.in_place ? "in place, after preserving the "
	    "current state as '<path>.cordon-pre-A<id>'" : "to staging "
	    "'<path>.cordon-restore-A<id>'");
	if (a->id != 0 && !s.in_place && s.is_staged) {
		a->outcome = ACT_NOCHANGE;
		(void)snprintf(a->msg, sizeof(a->msg), "already restored to "
		    "'%.160s'", s.staged);
	}
	return 0;
}

static int
restore_check(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, restore_check_one);
}

/*
 * Copies, restores and manifests hash or move whole trees: they run
 * under the target's copy_timeout, not its (short) command timeout.
 * Returns the timeout to put back with long_end.
 */
static long
long_begin(struct sconn *c)
{
	long	old = c->timeout;

	c->timeout = ssh_opt_int(c->t, "copy_timeout",
	    SNAP_COPY_TIMEOUT_DEFAULT);
	return old;
}

static int
long_end(struct sconn *c, long old, int r)
{
	c->timeout = old;
	return r;
}

/* The manifest of path on the host into *ret (caller frees). */
static int
manifest(struct sconn *c, struct act *a, const char *path, char **ret,
    size_t *ret_len)
{
	const char	*args[] = { path, NULL };
	struct ssh_res	 res;
	char		 err[ACT_MSG_MAX];
	int		 r;
	long		 old;

	err[0] = '\0';
	if (be_of(c->t)->live) {
		old = long_begin(c);
		r = long_end(c, old, be_of(c->t)->live->manifest(c, path, ret,
		    ret_len, err, sizeof(err)));
		return r == 0 ? 0 : be_fail(a, r, err);
	}
	old = long_begin(c);
	if ((r = long_end(c, old, snap_sh(c, "manifest", manifest_sh, args,
	    &res, err, sizeof(err)))) != 0) {
		r = be_fail(a, r, err);
		goto out;
	}
	*ret_len = res.out.len;
	*ret = xmalloc(res.out.len + 1);
	memcpy(*ret, res.out.p, res.out.len);
	(*ret)[res.out.len] = '\0';
out:
	ssh_res_free(&res);
	return r;
}

static void
m_stats(const char *m, size_t len, long long *files, long long *bytes)
{
	const char	*p;

	*files = *bytes = 0;
	for (p = m; p < m + len && strcmp(p, "#") != 0; p += strlen(p) + 1)
		if (p[0] == 'f' && p[1] == ' ') {
			(*files)++;
			*bytes += strtoll(p + 2, NULL, 10);
		}
}

/* A manifest's digest and size, and its files' count and bytes. */
struct msum {
	char		dig[HASH_HEX_LEN + 1];
	long long	len, files, bytes;
};

/*
 * The summary of path's manifest, computed on the host so that a tree of
 * any size can be compared (a back end with its own live side sends the
 * whole manifest: its own format, summed here).
 */
static int
msum(struct sconn *c, struct act *a, const char *path, struct msum *m)
{
	const char	*args[] = { path, "sum", NULL };
	struct ssh_res	 res;
	char		 err[ACT_MSG_MAX], *t = NULL;
	size_t		 tl = 0;
	int		 r;
	long		 old;

	memset(m, 0, sizeof(*m));
	if (be_of(c->t)->live) {
		if ((r = manifest(c, a, path, &t, &tl)) != 0)
			return r;
		sha256_hex(t, tl, m->dig);
		m->len = (long long)tl;
		m_stats(t, tl, &m->files, &m->bytes);
		free(t);
		return 0;
	}
	err[0] = '\0';
	old = long_begin(c);
	if ((r = long_end(c, old, snap_sh(c, "manifest", manifest_sh, args,
	    &res, err, sizeof(err)))) != 0) {
		r = be_fail(a, r, err);
		goto out;
	}
	if (res.out.p == NULL || sscanf(res.out.p, "%64[0-9a-f] %lld %lld "
	    "%lld", m->dig, &m->len, &m->files, &m->bytes) != 4 ||
	    strlen(m->dig) != HASH_HEX_LEN || m->len < 0) {
		act_fail(a, "unexpected manifest summary for '%.160s'", path);
		r = 1;
	}
out:
	ssh_res_free(&res);
	return r;
}

/* The first record where a and b differ, printable, into out. */
static void
m_diff(const char *a, size_t al, const char *b, size_t bl, char *out,
    size_t len)
{
	const char	*p = a, *q = b;
	size_t		 i;

	while (p < a + al && q < b + bl && strcmp(p, q) == 0) {
		p += strlen(p) + 1;
		q += strlen(q) + 1;
	}
	(void)snprintf(out, len, "restored '%.*s' vs snapshot '%.*s'",
	    SNAP_DIFF_SHOW, p < a + al ? p : "(end)", SNAP_DIFF_SHOW,
	    q < b + bl ? q : "(end)");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

/* Runs a fixed script over paths; be_fail semantics. */
static int
sh_act(struct sconn *c, struct act *a, const char *what, const char *sc,
    const char *const *args)
{
	struct ssh_res	res;
	char		err[ACT_MSG_MAX];
	int		r;
	long		old;

	err[0] = '\0';
	old = long_begin(c);
	r = long_end(c, old, snap_sh(c, what, sc, args, &res, err,
	    sizeof(err)));
	ssh_res_free(&res);
	return r == 0 ? 0 : be_fail(a, r, err);
}

static int
fetch(struct sconn *c, struct act *a, const struct rs *s, const char *id,
    const char *dest)
{
	struct snap	sn;
	char		err[ACT_MSG_MAX];
	int		r;
	long		old;

	memset(&sn, 0, sizeof(sn));
	if (snap_fmt(sn.id, sizeof(sn.id), "%s", id) != 0)
		return be_fail(a, -EINVAL, "bad snapshot id");
	err[0] = '\0';
	old = long_begin(c);
	if ((r = long_end(c, old, s->be->fetch(c, &sn, s->rel, dest, err,
	    sizeof(err)))) != 0)
		return be_fail(a, r, err);
	return 0;
}

static int
restore_apply_one(struct sconn *c, struct act *a)
{
	const char	*id = json_string_value(json_object_get(a->before,
	    "snapshot"));
	struct msum	 ms;
	struct rs	 s;
	int		 r;

	if (id == NULL) {
		act_fail(a, "no snapshot recorded by check");
		return 1;
	}
	if ((r = rs_init(c, a, a->id, &s)) != 0)
		return r;
	if (!s.in_place) {
		if (s.is_staged)
			return 0;
		if ((r = fetch(c, a, &s, id, s.staged)) == 0)
			(void)json_object_set_new(a->before, "staged",
			    json_string(s.staged));
		return r;
	}
	/* in_place: preserve first (kept if an earlier try made it). */
	{
		const char *cp[] = { s.live, s.pre, NULL };
		const char *rm[] = { s.staged, NULL };
		const char *sw[] = { s.live, s.staged, s.aside, NULL };

		if (!s.is_pre && (r = sh_act(c, a, "preserve", copy_sh,
		    cp)) != 0)
			return r;
		if ((r = msum(c, a, s.pre, &ms)) != 0)
			return r;
		(void)json_object_set_new(a->before, "preserved",
		    json_string(s.pre));
		(void)json_object_set_new(a->before, "preserved_sha256",
		    json_string(ms.dig));
		if ((r = sh_act(c, a, "clean", rm_sh, rm)) != 0 ||
		    (r = fetch(c, a, &s, id, s.staged)) != 0 ||
		    (r = sh_act(c, a, "swap", swap_sh, sw)) != 0)
			return r;
	}
	return 0;
}

static int
restore_apply(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, restore_apply_one);
}

static int
restore_verify_one(struct sconn *c, struct act *a)
{
	const char	*id = json_string_value(json_object_get(a->before,
	    "snapshot"));
	const char	*want;
	char		 src[SNAP_PATH_MAX];
	char		 diff[2 * SNAP_DIFF_SHOW + 64];
	char		*mr = NULL, *ms = NULL;
	size_t		 lr = 0, ls = 0;
	struct msum	 xr, xs;
	struct snap	 sn;
	struct rs	 s;
	int		 r, tmp = 0;

	if ((r = rs_init(c, a, a->undo_of ? a->undo_of : a->id, &s)) != 0)
		return r;
	if (a->undo_of) {
		if (!s.in_place) {
			if (s.is_staged)
				act_fail(a, "'%s' is still there", s.staged);
			return s.is_staged;
		}
		want = json_string_value(json_object_get(a->restore,
		    "preserved_sha256"));
		if ((r = msum(c, a, s.live, &xr)) != 0)
			goto out;
		a->observed = json_pack("{s:s,s:I,s:I}", "sha256", xr.dig,
		    "files", (json_int_t)xr.files, "bytes",
		    (json_int_t)xr.bytes);
		if (want == NULL || strcmp(want, xr.dig) != 0) {
			act_fail(a, "'%s' does not match the preserved state",
			    s.rel);
			r = 1;
		}
		goto out;
	}
	if (id == NULL) {
		act_fail(a, "no snapshot recorded by check");
		return 1;
	}
	memset(&sn, 0, sizeof(sn));
	if (snap_fmt(sn.id, sizeof(sn.id), "%s", id) != 0) {
		act_fail(a, "bad snapshot id");
		return 1;
	}
	if ((r = s.be->src_path(c, &sn, s.rel, src, sizeof(src))) != 0 &&
	    s.be->live) {
		act_fail(a, "cannot find snapshot %s's copy of '%s'", id,
		    s.rel);
		return broken(r) ? r : 1;
	}
	if (r != 0) {
		/* Not a file tree (restic): restore a second copy. */
		const char *rm[] = { s.vtmp, NULL };

		if ((r = sh_act(c, a, "clean", rm_sh, rm)) != 0 ||
		    (r = fetch(c, a, &s, id, s.vtmp)) != 0)
			goto out;
		tmp = 1;
		memcpy(src, s.vtmp, sizeof(src));
	}
	if ((r = msum(c, a, s.in_place ? s.live : s.staged, &xr)) != 0 ||
	    (r = msum(c, a, src, &xs)) != 0)
		goto out;
	/* The isolation the run relied on goes into the journal with the
	 * result (before cannot hold it: plan time may predate it). */
	a->observed = json_pack("{s:s,s:I,s:I,s:b,s:O?}", "sha256", xr.dig,
	    "files", (json_int_t)xr.files, "bytes", (json_int_t)xr.bytes,
	    "equal", xr.len == xs.len && strcmp(xr.dig, xs.dig) == 0,
	    "isolated_by", iso_find(a, c->t));
	if (xr.len == xs.len && strcmp(xr.dig, xs.dig) == 0)
		goto out;
	/* They differ: fetch both to name the first difference, if they
	 * fit in a command's output. */
	if (xr.len >= SSH_OUT_MAX || xs.len >= SSH_OUT_MAX) {
		act_fail(a, "restored tree differs from snapshot %s: "
		    "manifests differ (%lld files restored, %lld in the "
		    "snapshot; too large to list the first difference)", id,
		    xr.files, xs.files);
		r = 1;
		goto out;
	}
	if ((r = manifest(c, a, s.in_place ? s.live : s.staged, &mr,
	    &lr)) != 0 || (r = manifest(c, a, src, &ms, &ls)) != 0)
		goto out;
	m_diff(mr, lr, ms, ls, diff, sizeof(diff));
	act_fail(a, "restored tree differs from snapshot %s: %s", id, diff);
	r = 1;
out:
	if (tmp) {
		const char *rm[] = { s.vtmp, NULL };
		int x = sh_act(c, a, "clean", rm_sh, rm);

		if (r == 0)
			r = x;
	}
	free(mr);
	free(ms);
	return r;
}

static int
restore_verify(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, restore_verify_one);
}

static int
restore_undo_one(struct sconn *c, struct act *a)
{
	struct rs	s;
	int		r;

	if ((r = rs_init(c, a, a->undo_of, &s)) != 0)
		return r;
	if (!s.in_place && s.is_staged && s.be->live) {
		char err[ACT_MSG_MAX];

		err[0] = '\0';
		r = s.be->live->remove_staged(c, s.staged, err, sizeof(err));
		return r == 0 ? 0 : be_fail(a, r, err);
	}
	if (!s.in_place) {
		const char *rm[] = { s.staged, NULL };

		return s.is_staged ? sh_act(c, a, "remove staging", rm_sh,
		    rm) : 0;
	}
	if (!s.is_pre)
		return 0;
	{
		const char *sw[] = { s.live, s.pre, s.aside, NULL };

		return sh_act(c, a, "put back", swap_sh, sw);
	}
}

static int
restore_undo(void *conn, struct act **v, size_t n)
{
	return ssh_each(conn, v, n, restore_undo_one);
}

static const struct verb snapshot_verbs[] = {
	{
		.name = "list",
		.summary = "list snapshots, marking those before the incident",
		.check = list_check,
		.apply = noop,
		.verify = noop,
		.undo = NULL,
		.required_params = { NULL },
	},
	{
		.name = "restore",
		.summary = "restore a path from a pre-incident snapshot",
		.check = restore_check,
		.apply = restore_apply,
		.verify = restore_verify,
		.undo = restore_undo,
		.recheck = 1,
		.required_params = { "path", NULL },
	},
	{ .name = NULL },
};

const struct driver snapshot_driver = {
	.name = "snapshot",
	.verbs = snapshot_verbs,
	.target_check = snapshot_target_check,
	.open = ssh_conn_vopen,
	.close = ssh_conn_vclose,
	/*
	 * Safe on threads: this file and the back ends keep no mutable
	 * static state (only const tables), each group has its own ssh
	 * session (ssh_conn, as the parallel ssh driver), and everything an
	 * act writes is named by its own action id (.cordon-*-A<id>, and
	 * mktemp/PID-named mounts and clones on the host).
	 */
	.parallel = 1,
};
