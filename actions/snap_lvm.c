/*
 * snap_lvm: LVM snapshots of the logical volume mounted at root (snap.h).
 *
 * Settings: root (where the origin volume is mounted), volume_group and
 * logical_volume (the origin).  The snapshots are the volumes `lvs` shows
 * with that origin, timed by lv_time; one whose lv_attr says writable is
 * listed as such and never restored from, as for btrfs (make it
 * read-only with `lvchange -p r VG/SNAP`).
 *
 * A path is read by mounting the snapshot read-only on a fresh directory
 * under /run (ext3/4 with noload and xfs with norecovery,nouuid, so not
 * even a journal replay writes to it), copying the path out when realpath
 * agrees that nothing on the way is a symlink, and unmounting, also on
 * failure (trap).  The origin and the snapshot are never written, merged
 * (lvconvert --merge) or removed.
 *
 * This kernel has no device-mapper: tests/unit/test_snap_lvm_zfs.c checks
 * the exact commands and runs the script against stand-in lvs, blkid,
 * mount and umount; it has not run against real LVM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/util.h"
#include "snap.h"

static const char *const lvm_keys[] = { "root", "volume_group",
    "logical_volume", NULL };
static const char *const lvm_paths[] = { "root", NULL };

/*
 * $1 probe|fetch, $2 the snapshot's device, $3 rel, $4 dest (absent):
 * probe prints the apparent size of rel, fetch copies it to dest.
 * Exit 3 no device, 4 rel is not there, 5 a symlink, 6 dest exists.
 */
const char snap_lvm_sh[] =
    "set -e\n"
    "[ -b \"$2\" ] || { echo 'snapshot device is missing' >&2; exit 3; }\n"
    "if [ \"$1\" = fetch ] && { [ -e \"$4\" ] || [ -L \"$4\" ]; }; then "
    "echo 'destination exists' >&2; exit 6; fi\n"
    "m=$(mktemp -d /run/cordon-snap.XXXXXX)\n"
    "trap 'umount -- \"$m\" 2>/dev/null || true; rmdir -- \"$m\"' EXIT\n"
    "m=$(realpath -e -- \"$m\")\n"
    "o=ro\n"
    "case \"$(blkid -o value -s TYPE -- \"$2\" || true)\" in\n"
    "xfs) o=ro,norecovery,nouuid ;;\n"
    "ext3|ext4) o=ro,noload ;;\n"
    "esac\n"
    "mount -o \"$o\" -- \"$2\" \"$m\"\n"
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

int
snap_lvm_name_ok(const char *s)
{
	size_t	n = s ? strlen(s) : 0;

	/* lvm(8) "VALID NAMES": [a-zA-Z0-9+_.-], not "." or "..", and
	 * never a leading '-' (no option either). */
	return n > 0 && n < 128 && s[0] != '-' && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+_.-") == n;
}

static int
lvm_check(const struct target *t, char *err, size_t errlen)
{
	static const char *const k[] = { "volume_group", "logical_volume" };
	size_t	i;

	for (i = 0; i < ARRAY_SIZE(k); i++)
		if (!snap_lvm_name_ok(ssh_opt_str(t, k[i]))) {
			(void)snprintf(err, errlen, "'%s' is not an LVM name "
			    "([A-Za-z0-9+_.-], no leading '-')", k[i]);
			return -EINVAL;
		}
	return 0;
}

void
snap_lvm_list_argv(const char *vg, const char *argv[9])
{
	size_t	i = 0;

	argv[i++] = "lvs";
	argv[i++] = "--noheadings";
	argv[i++] = "--separator";
	argv[i++] = "|";
	argv[i++] = "-o";
	argv[i++] = "lv_name,origin,lv_time,lv_attr";
	argv[i++] = "--";
	argv[i++] = vg;
	argv[i] = NULL;
}

int
snap_lvm_parse(const char *out, size_t len, const char *lv,
    struct snap **ret, size_t *ret_n, char *err, size_t errlen)
{
	struct snap	*v = NULL;
	const char	*p = out, *end = out + len, *nl;
	char		 line[512], *f[4], *q;
	size_t		 n = 0, ll, k;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = (size_t)((nl ? nl : end) - p);
		if (ll >= sizeof(line)) {
			(void)snprintf(err, errlen, "lvs: line too long");
			free(v);
			return -EPROTO;
		}
		memcpy(line, p, ll);
		line[ll] = '\0';
		p = nl ? nl + 1 : end;
		for (q = line; *q == ' '; q++)
			;
		if (*q == '\0')
			continue;
		for (k = 0; k < 4; k++) {
			f[k] = q;
			if (k < 3 && (q = strchr(q, '|')) == NULL)
				break;
			if (k < 3)
				*q++ = '\0';
		}
		if (k < 4 || strchr(f[3], '|') || strlen(f[3]) < 2) {
			(void)snprintf(err, errlen, "lvs: unexpected line "
			    "'%.60s'", line);
			free(v);
			return -EPROTO;
		}
		/* A snapshot of lv (s: old-style, V: thin), valid ones only:
		 * S is an invalid (overflowed) snapshot. */
		if (strcmp(f[1], lv) != 0 || (f[3][0] != 's' &&
		    f[3][0] != 'V') || !snap_lvm_name_ok(f[0]))
			continue;
		if (n == SNAP_LIST_MAX) {
			(void)snprintf(err, errlen, "more than %d snapshots",
			    SNAP_LIST_MAX);
			free(v);
			return -E2BIG;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		(void)snprintf(v[n].id, sizeof(v[n].id), "%s", f[0]);
		if (snap_parse_time(f[2], &v[n].at) != 0) {
			(void)snprintf(err, errlen, "snapshot '%s': "
			    "unreadable lv_time '%.40s'", f[0], f[2]);
			free(v);
			return -EPROTO;
		}
		v[n].readonly = f[3][1] == 'r';
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int
lvm_list(struct sconn *c, struct snap **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	const char	*argv[9];
	struct ssh_res	 res;
	int		 r;

	snap_lvm_list_argv(ssh_opt_str(c->t, "volume_group"), argv);
	if ((r = snap_run(c, "lvs", argv, &res, err, errlen)) == 0)
		r = snap_lvm_parse(res.out.p, res.out.len, ssh_opt_str(c->t,
		    "logical_volume"), ret, ret_n, err, errlen);
	ssh_res_free(&res);
	return r;
}

int
snap_lvm_args(const char *vg, const struct snap *s, const char *mode,
    const char *rel, const char *dest, char *dev, size_t devlen,
    const char *args[5])
{
	if (!snap_lvm_name_ok(vg) || !snap_lvm_name_ok(s->id))
		return -EINVAL;
	if (snap_fmt(dev, devlen, "/dev/%s/%s", vg, s->id) != 0)
		return -ENAMETOOLONG;
	args[0] = mode;
	args[1] = dev;
	args[2] = rel;
	args[3] = dest;
	args[4] = NULL;
	return 0;
}

static int
lvm_run(struct sconn *c, const struct snap *s, const char *mode,
    const char *rel, const char *dest, long long *ret_bytes, char *err,
    size_t errlen)
{
	char		 dev[SNAP_PATH_MAX];
	const char	*args[5];
	int		 r;

	if ((r = snap_lvm_args(ssh_opt_str(c->t, "volume_group"), s, mode,
	    rel, dest, dev, sizeof(dev), args)) != 0) {
		(void)snprintf(err, errlen, "bad snapshot name");
		return r;
	}
	return snap_sh_bytes(c, dest[0] ? "copy from LVM snapshot" :
	    "probe LVM snapshot", snap_lvm_sh, args, ret_bytes, err, errlen);
}

static int
lvm_probe(struct sconn *c, const struct snap *s, const char *rel,
    long long *ret_bytes, char *err, size_t errlen)
{
	return lvm_run(c, s, "probe", rel, "", ret_bytes, err, errlen);
}

static int
lvm_fetch(struct sconn *c, const struct snap *s, const char *rel,
    const char *dest, char *err, size_t errlen)
{
	return lvm_run(c, s, "fetch", rel, dest, NULL, err, errlen);
}

static int
lvm_src_path(struct sconn *c, const struct snap *s, const char *rel,
    char *buf, size_t len)
{
	(void)c;
	(void)s;
	(void)rel;
	(void)buf;
	(void)len;
	return -ENOTSUP;		/* mounted only while copying */
}

const struct snap_be snap_be_lvm = {
	.name = "lvm",
	.keys = lvm_keys,
	.required = lvm_keys,
	.path_keys = lvm_paths,
	.check = lvm_check,
	.list = lvm_list,
	.probe = lvm_probe,
	.fetch = lvm_fetch,
	.src_path = lvm_src_path,
};
