/*
 * snap_vss_live: the PowerShell scripts the "vss" snapshot back end runs
 * on the Windows host besides list and restore (snap_vss.h), and the
 * parsers of their output.  Pure functions: nothing here talks to a host.
 *
 * Every script starts with $ErrorActionPreference = 'Stop' and UTF-8
 * output, then one `$name = 'literal'` line per value (vss_ps_literal:
 * no runbook value is ever anything but a single-quoted literal), then a
 * fixed body.  File system access goes through .NET (System.IO), which
 * reads \\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN\... paths as
 * they are and never expands wildcards.  A reparse point (junction,
 * symbolic link, mount point: attribute 1024) is never followed: on the
 * way to a path it is refused, inside a tree it is listed, not entered.
 *
 *   inspect   the live side: exit 3 no root, 4 a folder on the way is
 *             missing, 5 a reparse point on the way; else prints
 *             exists=0|1, avail=BYTES (Win32_LogicalDisk FreeSpace of
 *             the drive) and staged=0|1 (PATH+sfx exists).
 *   probe     PATH inside a shadow copy: exit 4 not there, 5 reparse
 *             point on the way; else dir=0|1, bytes=SIZE (all files) and
 *             links=N (reparse points inside, which robocopy /XJ skips).
 *   manifest  a file or tree: one line per entry, "d|NAME", "o|NAME"
 *             (reparse point) or "f|SIZE|SHA256|NAME" (Get-FileHash);
 *             NAME is relative with '\', a lone file's is its own name.
 *   remove    Remove-Item -LiteralPath PATH -Recurse -Force, only for a
 *             path ending in .cordon-restore-A<digits> that holds no
 *             reparse point (exit 7, 5).
 *
 * Output lines end in CRLF on Windows; the parsers take LF too.
 * Errors: 0 or -errno; -EINVAL with *why for a value refused.
 */
#ifndef CORDON_SNAP_VSS_LIVE_H
#define CORDON_SNAP_VSS_LIVE_H

#include <stddef.h>

#include "snap.h"

/* Where one restore's path lies on the host. */
struct vss_where {
	char	drive[3];		/* "C:" */
	char	root[SNAP_PATH_MAX];	/* "C:\Data", or "C:" for "C:\" */
	char	below[SNAP_PATH_MAX];	/* "Data\REL": below the drive */
};

/*
 * root ("X:\" or "X:\dir\...") must lie on volume ("X:" or "X:\"), with
 * the rest a canonical path (vss_rel_norm).  1 or 0 with *why.
 */
int	vss_root_ok(const char *volume, const char *root, const char **why);
/* rel: canonical ('\' separated, vss_rel_norm). */
int	vss_where(const char *root, const char *rel, struct vss_where *,
	    const char **why) WARN_UNUSED;
/* An absolute path: "X:\REL" or a shadow copy device "\REL". */
int	vss_abs_ok(const char *path);
/* Ends in ".cordon-restore-A" and digits, and vss_abs_ok. */
int	vss_staged_ok(const char *path);

/* The scripts (caller frees *ret). */
int	vss_inspect_script(const struct vss_where *, const char *sfx,
	    char **ret, const char **why) WARN_UNUSED;
int	vss_probe_script(const char *dev, const char *below, char **ret,
	    const char **why) WARN_UNUSED;
int	vss_manifest_script(const char *path, char **ret, const char **why)
	    WARN_UNUSED;
int	vss_remove_script(const char *path, char **ret, const char **why)
	    WARN_UNUSED;

/* The value of a "key=DIGITS" line; -EPROTO when absent or not one. */
int	vss_parse_kv(const char *out, size_t len, const char *key,
	    long long *ret) WARN_UNUSED;
/*
 * The manifest script's output in the driver's format (snap.h
 * snap_live_ops): *ret (caller frees) holds *ret_len bytes.
 */
int	vss_parse_manifest(const char *out, size_t len, char **ret,
	    size_t *ret_len, char *err, size_t errlen) WARN_UNUSED;

#endif
