/*
 * snap: the contract between the snapshot driver (snapshot.c) and its
 * back ends (snap_tree.c: "dir" and "btrfs"; snap_restic.c: "restic";
 * snap_lvm.c: "lvm"; snap_zfs.c: "zfs"; snap_vss_be.c: "vss", Windows
 * shadow copies over SSH).
 *
 * A back end only reads snapshots: it lists them with their creation
 * time, says whether a path exists in one (and how big it is), and copies
 * that path out of a snapshot to a destination that must not exist yet.
 * Everything that writes the live tree (staging, preserve, swap, undo)
 * lives in snapshot.c and is the same for every POSIX back end.  A back
 * end whose host is not POSIX (vss) also brings its live side (struct
 * snap_live_ops: path spelling, inspect, manifest, removal of a staging
 * copy); the driver's decisions (which snapshot, isolation, space,
 * idempotence, comparing manifests) stay the same.
 *
 * Remote commands run through ssh_conn (pinned host key, one exec channel
 * per command, every word quoted as one shell word).  Multi-step remote
 * work is a fixed sh script in this source, run as `sh -c SCRIPT sh ARGS`:
 * runbook values only ever arrive as positional parameters, never inside
 * the script text.
 *
 * Errors: 0 or -errno.  -EIO/-ETIMEDOUT mean the session broke (the batch
 * stops); any other error concerns this act only and err says why (no
 * prefix, never a secret).  Limits: SNAP_LIST_MAX snapshots, names up to
 * SNAP_ID_MAX - 1 bytes, paths up to SNAP_PATH_MAX - 1 bytes.
 */
#ifndef CORDON_SNAP_H
#define CORDON_SNAP_H

#include <stddef.h>
#include <time.h>

#include "ssh_conn.h"

#define SNAP_ID_MAX	256
#define SNAP_PATH_MAX	1024
#define SNAP_LIST_MAX	1024
/* copy_timeout: seconds a copy, restore or manifest command may take. */
#define SNAP_COPY_TIMEOUT_DEFAULT	3600
#define SNAP_COPY_TIMEOUT_MAX		86400

/*
 * Sh text for a copy script writing P.part (P a quoted positional
 * parameter such as "$3"): holds an flock on P.lock for as long as the
 * script or anything it started runs, and refuses when another copy
 * holds it -- a copy the agent gave up on (timeout, crash) may still be
 * writing P.part, and removing that under it would leave a mixed tree.
 * SNAP_PART_UNLOCK(P) ends the script.
 */
#define SNAP_PART_LOCK(P) \
	"[ ! -L " P ".lock ] || { echo 'lock file is a symlink' >&2; " \
	"exit 7; }\n" \
	"exec 9>> " P ".lock\n" \
	"flock -n 9 || { echo 'another copy to this destination is still " \
	"running; retry when it has ended' >&2; exit 7; }\n"
#define SNAP_PART_UNLOCK(P) \
	"rm -f -- " P ".lock\n"

struct snap {
	char	id[SNAP_ID_MAX];
	char	full[SNAP_ID_MAX];	/* a longer name for id, or "" */
	time_t	at;			/* creation time, UTC */
	int	readonly;		/* 1 yes, 0 no, -1 not applicable */
};

/* What the live side looks like for one restore (snap_live_ops). */
struct snap_live {
	char		root[SNAP_PATH_MAX];	/* as paths join to it */
	int		exists, is_staged, is_pre;
	long long	avail, size;		/* bytes */
};

/*
 * A non-POSIX host's live side.  Paths are the host's, joined with sep.
 * manifest's output is the driver's format: NUL-terminated records
 * ("d NAME", "f SIZE NAME", "o NAME"; sorted), "#", then "HASH  NAME"
 * records; two trees are equal when their manifests are.
 */
struct snap_live_ops {
	char		 sep;
	const char	*no_in_place;	/* why in_place is refused, or NULL */
	/* rel (the driver's canonical '/'-joined path) rewritten in place
	 * in the host's spelling; -EINVAL with *why. */
	int	(*path_fix)(char *rel, size_t len, const char **why);
	/* The live side of rel under the target's root; sfx: the staging
	 * suffix (PATH+sfx is the staging copy). */
	int	(*inspect)(struct sconn *, const char *rel, const char *sfx,
		    struct snap_live *, char *err, size_t errlen);
	int	(*manifest)(struct sconn *, const char *path, char **ret,
		    size_t *ret_len, char *err, size_t errlen);
	/* Removes a staging copy this driver made (path ends in sfx). */
	int	(*remove_staged)(struct sconn *, const char *path,
		    char *err, size_t errlen);
};

struct snap_be {
	const char	*name;
	/* Extra settings this back end takes (NULL-terminated), and the
	 * ones it requires. */
	const char	*const *keys;
	const char	*const *required;
	/* The keys that are absolute paths on the host. */
	const char	*const *path_keys;
	/* Further checks of the settings at config load, or NULL. */
	int	(*check)(const struct target *, char *err, size_t errlen);
	/* 1 if paths may not contain glob characters (restic --include). */
	int		 no_glob;
	/* *ret (caller frees) holds *ret_n snapshots, oldest first. */
	int	(*list)(struct sconn *, struct snap **ret, size_t *ret_n,
		    char *err, size_t errlen);
	/* -ENOENT when rel is not in s; else its apparent size in bytes,
	 * the whole tree when rel is a directory. */
	int	(*probe)(struct sconn *, const struct snap *, const char *rel,
		    long long *ret_bytes, char *err, size_t errlen);
	/* Copies rel out of s to dest, which must not exist. */
	int	(*fetch)(struct sconn *, const struct snap *, const char *rel,
		    const char *dest, char *err, size_t errlen);
	/* The path of rel inside s on the host, if it has one (verify reads
	 * it directly); -ENOTSUP when the snapshot is not a file tree. */
	int	(*src_path)(struct sconn *, const struct snap *,
		    const char *rel, char *buf, size_t len);
	/* NULL: the driver's POSIX sh live side. */
	const struct snap_live_ops	*live;
};

extern const struct snap_be	snap_be_dir;
extern const struct snap_be	snap_be_btrfs;
extern const struct snap_be	snap_be_restic;
extern const struct snap_be	snap_be_lvm;
extern const struct snap_be	snap_be_zfs;
extern const struct snap_be	snap_be_vss;

/*
 * The LVM and ZFS back ends' exact commands and parsers, for tests: the
 * list argv, the fixed script run as `sh -c SCRIPT sh ARGS` with args
 * from *_args (MODE DEVICE|DATASET@SNAP REL DEST), and the list parsers
 * (oldest first is the caller's sort).
 */
extern const char	snap_lvm_sh[];
extern const char	snap_zfs_sh[];
int	snap_lvm_name_ok(const char *);
int	snap_zfs_name_ok(const char *, int snapshot);
void	snap_lvm_list_argv(const char *vg, const char *argv[9]);
void	snap_zfs_list_argv(const char *dataset, const char *argv[16]);
int	snap_lvm_parse(const char *out, size_t len, const char *lv,
	    struct snap **ret, size_t *ret_n, char *err, size_t errlen)
	    WARN_UNUSED;
int	snap_zfs_parse(const char *out, size_t len, const char *dataset,
	    struct snap **ret, size_t *ret_n, char *err, size_t errlen)
	    WARN_UNUSED;
int	snap_lvm_args(const char *vg, const struct snap *, const char *mode,
	    const char *rel, const char *dest, char *dev, size_t devlen,
	    const char *args[5]) WARN_UNUSED;
int	snap_zfs_args(const char *dataset, const struct snap *,
	    const char *mode, const char *rel, const char *dest, char *full,
	    size_t fulllen, const char *args[5]) WARN_UNUSED;

/*
 * Runs `sh -c script sh args...` (args NULL-terminated) as root on the
 * host.  0 when it exited 0 (res then holds its output; caller calls
 * ssh_res_free in every case); -EPROTO with err set when it exited
 * non-zero ("what exited N: first stderr line"); -EIO/-ETIMEDOUT broken.
 */
int	snap_sh(struct sconn *, const char *what, const char *script,
	    const char *const *args, struct ssh_res *res, char *err,
	    size_t errlen) WARN_UNUSED;
/*
 * snap_sh for a back end's probe or copy script, whose exit 4 means
 * "not in the snapshot" (-ENOENT) and whose first output line, when
 * ret_bytes is not NULL, is a byte count.
 */
int	snap_sh_bytes(struct sconn *, const char *what, const char *script,
	    const char *const *args, long long *ret_bytes, char *err,
	    size_t errlen) WARN_UNUSED;
/* Same for a plain argv. */
int	snap_run(struct sconn *, const char *what, const char *const *argv,
	    struct ssh_res *res, char *err, size_t errlen) WARN_UNUSED;
/* snprintf into buf, -ENAMETOOLONG when it does not fit. */
int	snap_fmt(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4))) WARN_UNUSED;
/* RFC 3339 with optional fraction and Z or +hh:mm / "YYYY-MM-DD
 * HH:MM:SS +hhmm" (btrfs); fractions are dropped.  0 or -EINVAL. */
int	snap_parse_time(const char *, time_t *ret) WARN_UNUSED;

#endif
