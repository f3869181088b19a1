/*
 * snap_tree: snapshots that are plain directory trees on the host
 * (snap.h).
 *
 *   dir    snapshots_dir holds one directory per snapshot, each a copy of
 *          root (rsnapshot, rsync --link-dest, cp --reflink trees).  The
 *          creation time is the name when it is an RFC 3339 UTC time
 *          ("2026-11-26T06:00:00Z"), else the directory's mtime.
 *   btrfs  snapshots_dir holds read-only subvolume snapshots of root
 *          (btrfs subvolume snapshot -r); the time is `btrfs subvolume
 *          show`'s Creation time.  Writable ones are listed as such and
 *          never restored from: anything could have changed them.
 *
 * A path is read out of a snapshot only when realpath agrees with the
 * plain join: no component (the last included) may be a symlink, so
 * nothing outside the snapshot is ever copied.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/util.h"
#include "snap.h"

static const char *const tree_keys[] = { "snapshots_dir", "root", NULL };

/* Prints name NUL time NUL flags NUL per snapshot. */
static const char list_dir_sh[] =
    "cd -- \"$1\" || exit 3\n"
    "for d in *; do\n"
    "  [ -d \"$d\" ] && [ ! -L \"$d\" ] || continue\n"
    "  printf '%s\\0@%s\\0-\\0' \"$d\" \"$(stat -c %Y -- \"./$d\")\"\n"
    "done\n";

static const char list_btrfs_sh[] =
    "cd -- \"$1\" || exit 3\n"
    "for d in *; do\n"
    "  [ -d \"$d\" ] && [ ! -L \"$d\" ] || continue\n"
    "  t=$(btrfs subvolume show \"./$d\" 2>/dev/null) || continue\n"
    "  c=$(printf '%s\\n' \"$t\" | sed -n "
    "'s/^[[:space:]]*Creation time:[[:space:]]*//p')\n"
    "  f=$(printf '%s\\n' \"$t\" | sed -n "
    "'s/^[[:space:]]*Flags:[[:space:]]*//p')\n"
    "  printf '%s\\0%s\\0%s\\0' \"$d\" \"$c\" \"$f\"\n"
    "done\n";

/* $1 snapshot dir, $2 rel: prints the apparent size, or exits 4/5. */
static const char probe_sh[] =
    "s=$(realpath -e -- \"$1\") || { echo 'snapshot is gone' >&2; "
    "exit 3; }\n"
    "[ -e \"$s/$2\" ] || [ -L \"$s/$2\" ] || { echo 'not in the snapshot' "
    ">&2; exit 4; }\n"
    "p=$(realpath -e -- \"$s/$2\") || exit 5\n"
    "[ \"$p\" = \"$s/$2\" ] || { echo 'path goes through a symlink' >&2; "
    "exit 5; }\n"
    "du -s -B1 --apparent-size -- \"$p\" | cut -f1\n";

/* $1 snapshot dir, $2 rel, $3 dest (absent): copy, then rename. */
static const char fetch_sh[] =
    "set -e\n"
    "s=$(realpath -e -- \"$1\")\n"
    "p=$(realpath -e -- \"$s/$2\")\n"
    "[ \"$p\" = \"$s/$2\" ] || { echo 'path goes through a symlink' >&2; "
    "exit 5; }\n"
    "if [ -e \"$3\" ] || [ -L \"$3\" ]; then echo 'destination exists' "
    ">&2; exit 6; fi\n"
    SNAP_PART_LOCK("\"$3\"")
    "rm -rf -- \"$3.part\"\n"
    "cp -a --reflink=auto -- \"$p\" \"$3.part\"\n"
    "mv -T -- \"$3.part\" \"$3\"\n"
    SNAP_PART_UNLOCK("\"$3\"");

static int
name_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n >= SNAP_ID_MAX || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/')
			return 0;
	return 1;
}

static int
snapdir(struct sconn *c, const struct snap *s, char *buf, size_t len)
{
	return snap_fmt(buf, len, "%s/%s", ssh_opt_str(c->t,
	    "snapshots_dir"), s->id);
}

static int
tree_list(struct sconn *c, int btrfs, struct snap **ret, size_t *ret_n,
    char *err, size_t errlen)
{
	const char	*args[] = { ssh_opt_str(c->t, "snapshots_dir"), NULL };
	struct ssh_res	 res;
	struct snap	*v = NULL;
	const char	*f[3];
	char		*p, *end;
	size_t		 n = 0, k;
	time_t		 t;
	int		 r;

	if ((r = snap_sh(c, "list snapshots", btrfs ? list_btrfs_sh :
	    list_dir_sh, args, &res, err, errlen)) != 0)
		goto out;
	v = xcalloc(SNAP_LIST_MAX, sizeof(*v));
	p = res.out.p;
	end = res.out.p + res.out.len;
	while (p < end) {
		for (k = 0; k < 3; k++) {
			if (p >= end || memchr(p, '\0', (size_t)(end - p)) ==
			    NULL) {
				(void)snprintf(err, errlen, "truncated "
				    "snapshot list");
				r = -EPROTO;
				goto out;
			}
			f[k] = p;
			p += strlen(p) + 1;
		}
		if (!name_ok(f[0]))
			continue;		/* never restorable */
		if (n == SNAP_LIST_MAX) {
			(void)snprintf(err, errlen, "more than %d snapshots",
			    SNAP_LIST_MAX);
			r = -E2BIG;
			goto out;
		}
		if (!btrfs && parse_time(f[0], &t) == 0)
			;
		else if (!btrfs && f[1][0] == '@')
			t = (time_t)strtoll(f[1] + 1, NULL, 10);
		else if (snap_parse_time(f[1], &t) != 0) {
			(void)snprintf(err, errlen, "snapshot '%s': "
			    "unreadable creation time", f[0]);
			r = -EPROTO;
			goto out;
		}
		(void)snprintf(v[n].id, sizeof(v[n].id), "%s", f[0]);
		v[n].at = t;
		v[n].readonly = btrfs ? strstr(f[2], "readonly") != NULL : -1;
		n++;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	r = 0;
out:
	free(v);
	ssh_res_free(&res);
	return r;
}

static int
dir_list(struct sconn *c, struct snap **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	return tree_list(c, 0, ret, ret_n, err, errlen);
}

static int
btrfs_list(struct sconn *c, struct snap **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	return tree_list(c, 1, ret, ret_n, err, errlen);
}

static int
tree_probe(struct sconn *c, const struct snap *s, const char *rel,
    long long *ret_bytes, char *err, size_t errlen)
{
	char		 d[SNAP_PATH_MAX];
	const char	*args[] = { d, rel, NULL };
	int		 r;

	if ((r = snapdir(c, s, d, sizeof(d))) != 0)
		return r;
	return snap_sh_bytes(c, "probe", probe_sh, args, ret_bytes, err,
	    errlen);
}

static int
tree_fetch(struct sconn *c, const struct snap *s, const char *rel,
    const char *dest, char *err, size_t errlen)
{
	char		 d[SNAP_PATH_MAX];
	const char	*args[] = { d, rel, dest, NULL };
	struct ssh_res	 res;
	int		 r;

	if ((r = snapdir(c, s, d, sizeof(d))) != 0)
		return r;
	r = snap_sh(c, "copy from snapshot", fetch_sh, args, &res, err,
	    errlen);
	ssh_res_free(&res);
	return r;
}

static int
tree_src_path(struct sconn *c, const struct snap *s, const char *rel,
    char *buf, size_t len)
{
	return snap_fmt(buf, len, "%s/%s/%s", ssh_opt_str(c->t,
	    "snapshots_dir"), s->id, rel);
}

const struct snap_be snap_be_dir = {
	.name = "dir",
	.keys = tree_keys,
	.required = tree_keys,
	.path_keys = tree_keys,
	.list = dir_list,
	.probe = tree_probe,
	.fetch = tree_fetch,
	.src_path = tree_src_path,
};

const struct snap_be snap_be_btrfs = {
	.name = "btrfs",
	.keys = tree_keys,
	.required = tree_keys,
	.path_keys = tree_keys,
	.list = btrfs_list,
	.probe = tree_probe,
	.fetch = tree_fetch,
	.src_path = tree_src_path,
};
