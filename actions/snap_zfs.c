/*
 * snap_zfs: ZFS snapshots of the dataset mounted at root (snap.h).
 *
 * Settings: root (the dataset's mountpoint) and dataset.  The snapshots
 * are `zfs list -H -p -t snapshot -o name,creation -s creation -d 1
 * DATASET` (creation in epoch seconds); ZFS snapshots are read-only.
 *
 * A path is read from a clone: `zfs clone -o readonly=on -o
 * mountpoint=TMP DATASET@SNAP POOL/cordon-clone-PID`, a copy out when
 * realpath agrees nothing on the way is a symlink, then `zfs destroy` of
 * that clone -- only when this run created it (never a name that was
 * already there).  Nothing else is destroyed, and cordon never runs `zfs
 * rollback`: rollback -r destroys every newer snapshot, the evidence.
 * An in_place restore is the driver's copy-and-swap, as for every back
 * end, after preserving the current state.
 *
 * This kernel has no ZFS: tests/unit/test_snap_lvm_zfs.c checks the exact
 * commands and runs the script against a stand-in zfs; it has not run
 * against real ZFS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/util.h"
#include "snap.h"

#define ZFS_NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789_.:-"

static const char *const zfs_keys[] = { "root", "dataset", NULL };
static const char *const zfs_paths[] = { "root", NULL };

/*
 * $1 probe|fetch, $2 DATASET@SNAP, $3 rel, $4 dest (absent).  Exit 4 rel
 * is not there, 5 a symlink, 6 dest exists.
 */
const char snap_zfs_sh[] =
    "set -e\n"
    "if [ \"$1\" = fetch ] && { [ -e \"$4\" ] || [ -L \"$4\" ]; }; then "
    "echo 'destination exists' >&2; exit 6; fi\n"
    "d=${2%%@*}\n"
    "c=\"${d%%/*}/cordon-clone-$$\"\n"
    "made=0\n"
    "m=$(mktemp -d /run/cordon-snap.XXXXXX)\n"
    "trap 'if [ $made = 1 ]; then zfs destroy -- \"$c\" || true; fi; "
    "rmdir -- \"$m\"' EXIT\n"
    "m=$(realpath -e -- \"$m\")\n"
    "zfs clone -o readonly=on -o mountpoint=\"$m\" -- \"$2\" \"$c\"\n"
    "made=1\n"
    "[ -e \"$m/$3\" ] || [ -L \"$m/$3\" ] || { echo 'not in the snapshot' "
    ">&2; exit 4; }\n"
    "p=$(realpath -e -- \"$m/$3\") || exit 5\n"
    "[ \"$p\" = \"$m/$3\" ] || { echo 'path goes through a symlink' >&2; "
    "exit 5; }\n"
    "if [ \"$1\" = probe ]; then du -s -B1 --apparent-size -- \"$p\" | "
    "cut -f1; exit 0; fi\n"
    SNAP_PART_LOCK("\"$4\"")
    "rm -rf -- \"$4.part\"\n"
    "cp -a --reflink=auto -- \"$p\" \"$4.part\"\n"
    "mv -T -- \"$4.part\" \"$4\"\n"
    SNAP_PART_UNLOCK("\"$4\"");

/*
 * zfs(8) names: components of [A-Za-z0-9_.:-] joined by '/', none empty,
 * "." or "..", no leading '-'; a snapshot name is one such component.
 */
int
snap_zfs_name_ok(const char *s, int snapshot)
{
	size_t	n = s ? strlen(s) : 0, i, k;

	if (n == 0 || n >= 200 || s[0] == '-')
		return 0;
	for (i = 0; i <= n; i += k + 1) {
		k = strcspn(s + i, "/");
		if (k == 0 || (k == 1 && s[i] == '.') || (k == 2 &&
		    s[i] == '.' && s[i + 1] == '.') || (snapshot && i + k < n))
			return 0;
		if (strspn(s + i, ZFS_NAME_CHARS) < k)
			return 0;
	}
	return 1;
}

static int
zfs_check(const struct target *t, char *err, size_t errlen)
{
	if (!snap_zfs_name_ok(ssh_opt_str(t, "dataset"), 0)) {
		(void)snprintf(err, errlen, "'dataset' is not a ZFS dataset "
		    "name (pool/a/b of [A-Za-z0-9_.:-])");
		return -EINVAL;
	}
	return 0;
}

void
snap_zfs_list_argv(const char *ds, const char *argv[16])
{
	size_t	i = 0;

	argv[i++] = "zfs";
	argv[i++] = "list";
	argv[i++] = "-H";
	argv[i++] = "-p";
	argv[i++] = "-t";
	argv[i++] = "snapshot";
	argv[i++] = "-o";
	argv[i++] = "name,creation";
	argv[i++] = "-s";
	argv[i++] = "creation";
	argv[i++] = "-d";
	argv[i++] = "1";
	argv[i++] = "--";
	argv[i++] = ds;
	argv[i] = NULL;
}

int
snap_zfs_parse(const char *out, size_t len, const char *ds,
    struct snap **ret, size_t *ret_n, char *err, size_t errlen)
{
	struct snap	*v = NULL;
	const char	*p = out, *end = out + len, *nl;
	char		 line[512], *tab, *at, *e;
	size_t		 n = 0, ll, dl = strlen(ds);
	long long	 t;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = (size_t)((nl ? nl : end) - p);
		if (ll >= sizeof(line)) {
			(void)snprintf(err, errlen, "zfs list: line too long");
			free(v);
			return -EPROTO;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = nl ? nl + 1 : end;
		if (ll == 0)
			continue;
		if ((tab = strchr(line, '\t')) == NULL ||
		    (at = strchr(line, '@')) == NULL || at > tab) {
			(void)snprintf(err, errlen, "zfs list: unexpected line "
			    "'%.60s'", line);
			free(v);
			return -EPROTO;
		}
		*tab = '\0';
		errno = 0;
		t = strtoll(tab + 1, &e, 10);
		if (errno || e == tab + 1 || *e != '\0' || t < 0) {
			(void)snprintf(err, errlen, "snapshot '%.60s': "
			    "unreadable creation '%.20s'", line, tab + 1);
			free(v);
			return -EPROTO;
		}
		/* -d 1 lists only ds's own snapshots; be sure anyway. */
		if ((size_t)(at - line) != dl || strncmp(line, ds, dl) != 0 ||
		    !snap_zfs_name_ok(at + 1, 1))
			continue;
		if (n == SNAP_LIST_MAX) {
			(void)snprintf(err, errlen, "more than %d snapshots",
			    SNAP_LIST_MAX);
			free(v);
			return -E2BIG;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		(void)snprintf(v[n].id, sizeof(v[n].id), "%s", at + 1);
		v[n].at = (time_t)t;
		v[n].readonly = 1;
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int
zfs_list(struct sconn *c, struct snap **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	const char	*argv[16];
	struct ssh_res	 res;
	int		 r;

	snap_zfs_list_argv(ssh_opt_str(c->t, "dataset"), argv);
	if ((r = snap_run(c, "zfs list", argv, &res, err, errlen)) == 0)
		r = snap_zfs_parse(res.out.p, res.out.len, ssh_opt_str(c->t,
		    "dataset"), ret, ret_n, err, errlen);
	ssh_res_free(&res);
	return r;
}

int
snap_zfs_args(const char *ds, const struct snap *s, const char *mode,
    const char *rel, const char *dest, char *full, size_t fulllen,
    const char *args[5])
{
	if (!snap_zfs_name_ok(ds, 0) || !snap_zfs_name_ok(s->id, 1))
		return -EINVAL;
	if (snap_fmt(full, fulllen, "%s@%s", ds, s->id) != 0)
		return -ENAMETOOLONG;
	args[0] = mode;
	args[1] = full;
	args[2] = rel;
	args[3] = dest;
	args[4] = NULL;
	return 0;
}

static int
zfs_run(struct sconn *c, const struct snap *s, const char *mode,
    const char *rel, const char *dest, long long *ret_bytes, char *err,
    size_t errlen)
{
	char		 full[SNAP_PATH_MAX];
	const char	*args[5];
	int		 r;

	if ((r = snap_zfs_args(ssh_opt_str(c->t, "dataset"), s, mode, rel,
	    dest, full, sizeof(full), args)) != 0) {
		(void)snprintf(err, errlen, "bad snapshot name");
		return r;
	}
	return snap_sh_bytes(c, dest[0] ? "copy from ZFS clone" :
	    "probe ZFS snapshot", snap_zfs_sh, args, ret_bytes, err, errlen);
}

static int
zfs_probe(struct sconn *c, const struct snap *s, const char *rel,
    long long *ret_bytes, char *err, size_t errlen)
{
	return zfs_run(c, s, "probe", rel, "", ret_bytes, err, errlen);
}

static int
zfs_fetch(struct sconn *c, const struct snap *s, const char *rel,
    const char *dest, char *err, size_t errlen)
{
	return zfs_run(c, s, "fetch", rel, dest, NULL, err, errlen);
}

static int
zfs_src_path(struct sconn *c, const struct snap *s, const char *rel,
    char *buf, size_t len)
{
	(void)c;
	(void)s;
	(void)rel;
	(void)buf;
	(void)len;
	return -ENOTSUP;		/* the clone lives only while copying */
}

const struct snap_be snap_be_zfs = {
	.name = "zfs",
	.keys = zfs_keys,
	.required = zfs_keys,
	.path_keys = zfs_paths,
	.check = zfs_check,
	.list = zfs_list,
	.probe = zfs_probe,
	.fetch = zfs_fetch,
	.src_path = zfs_src_path,
};
