/*
 * snap_vss: the exact commands that list and read Windows Volume Shadow
 * Copies over SSH, and the parser of their output.
 *
 * Every command is one PowerShell script run as
 *   powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass
 *       -EncodedCommand BASE64
 * where BASE64 is the script in UTF-16LE: the command line holds only
 * [A-Za-z0-9+/=-.], so neither cmd.exe (OpenSSH for Windows' default
 * shell) nor a POSIX shell parses anything in it.  Runbook values enter
 * the script only as PowerShell single-quoted literals ('' doubles a
 * quote; the Unicode single quotes PowerShell also accepts are doubled
 * too), where $(...), ;, `, " and spaces are plain text.
 *
 *   list     Get-CimInstance Win32_ShadowCopy of one volume: per copy a
 *            line "ID|YYYY-MM-DD HH:MM:SSZ|DeviceObject" (InstallDate in
 *            UTC).
 *   restore  robocopy from DeviceObject\REL (a file or a directory tree)
 *            to STAGING.part, renamed to the staging folder once robocopy
 *            succeeded (so a staging folder is always whole); a file
 *            lands in that folder under its own name.  /XJ never follows
 *            a junction out of the copy, robocopy's exit codes 8 and
 *            above are failures.  Nothing is written to the shadow copy,
 *            and no volume is ever reverted.
 *
 * The snapshot driver's back end "vss" (snap_vss_be.c) runs these, with
 * the live-side scripts of snap_vss_live.h.  No Windows host runs here;
 * tests/unit/test_snap_vss.c checks the exact scripts, their quoting and
 * the parser on output in the real format, and tests/it/it_snapvss.c
 * runs them over real SSH against a stand-in PowerShell.
 *
 * Errors: 0 or -errno (-EINVAL with *why set for a bad value).
 */
#ifndef CORDON_SNAP_VSS_H
#define CORDON_SNAP_VSS_H

#include <stddef.h>

#include "snap.h"

#define VSS_DEV_MAX	128

struct vss_copy {
	struct snap	s;			/* id: "{GUID}" */
	char		dev[VSS_DEV_MAX];	/* \\?\GLOBALROOT\Device\... */
};

/* 'text' as a PowerShell literal appended to b; -EINVAL on control
 * characters or invalid UTF-8 (len: NUL inside is refused too). */
int	vss_ps_literal(struct buf *b, const char *s, size_t len) WARN_UNUSED;
/* The powershell.exe command line running script; caller frees. */
int	vss_encoded_cmd(const char *script, char **ret) WARN_UNUSED;
/* The script of a command line made by vss_encoded_cmd; caller frees. */
int	vss_decode_cmd(const char *cmdline, char **ret) WARN_UNUSED;

/* \\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN (len bytes): 1/0. */
int	vss_dev_ok(const char *s, size_t len);
/* "C:" or "C:\" (len bytes): 1 if a drive root, else 0. */
int	vss_drive_ok(const char *s, size_t len);
/*
 * in (len bytes) made canonical in out ('\' separated, "." dropped): a
 * relative path with no "..", ':', wildcards, "<>|\"", control
 * characters or names ending in '.' or ' '.  -EINVAL with *why set,
 * -ENAMETOOLONG.
 */
int	vss_rel_norm(const char *in, size_t len, char *out, size_t outlen,
	    const char **why) WARN_UNUSED;

/* volume: "C:\" style drive root.  Script text into *ret (caller frees). */
int	vss_list_script(const char *volume, size_t len, char **ret,
	    const char **why) WARN_UNUSED;
/* The list output; *ret (caller frees) gets *ret_n copies, as printed. */
int	vss_parse_list(const char *out, size_t len, struct vss_copy **ret,
	    size_t *ret_n, char *err, size_t errlen) WARN_UNUSED;
/*
 * rel: relative to the volume root, '/' or '\' separated, no "..", ":",
 * wildcards or control characters; staging: an absolute "X:\..." path.
 * is_dir: rel names a directory (copied whole) or a file.
 */
int	vss_restore_script(const struct vss_copy *, const char *rel,
	    size_t rel_len, const char *staging, size_t staging_len,
	    int is_dir, char **ret, const char **why) WARN_UNUSED;

#endif
