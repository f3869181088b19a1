/*
 * ssh_akeys: authorized_keys text as data, for the drivers that rewrite
 * such files.  Pure functions: no I/O, no logging.
 *
 *   - A line's key is found after any options (which may hold quoted
 *     spaces) and named by its SHA256:... fingerprint (ssh_key_fp).
 *   - keep: "new" (the default), "none", or a comma-separated list of at
 *     most SSH_AKEYS_KEEP_MAX SHA256 fingerprints.
 *
 * Ownership: returned strings and JSON are the caller's.  Files are at
 * most SSH_AKEYS_MAX bytes, lines SSH_AKEYS_LINE_MAX.
 */
#ifndef CORDON_SSH_AKEYS_H
#define CORDON_SSH_AKEYS_H

#include <stddef.h>

#include <jansson.h>

#include "../agent/act.h"

#define SSH_AKEYS_MAX		(256 * 1024)
#define SSH_AKEYS_LINE_MAX	16384
#define SSH_AKEYS_KEEP_MAX	64

enum ssh_keep_mode { SSH_KEEP_NEW, SSH_KEEP_NONE, SSH_KEEP_LIST };

/* Standard base64 of n bytes; NUL-terminated, caller frees. */
char	*ssh_b64_encode(const char *p, size_t n);
/* 0, or -EINVAL for text that is not base64 of at most SSH_AKEYS_MAX. */
int	 ssh_b64_decode(const char *s, char **ret, size_t *ret_len);
/* The fingerprint of the key on one line into out; 0, or -1 if none. */
int	 ssh_akeys_line_fp(const char *line, size_t len, char *out,
	    size_t outlen);
/* The fingerprints of every key in the text, as a JSON array. */
json_t	*ssh_akeys_fps(const char *d, size_t len);
/* 1 when list (an array of strings) holds fp. */
int	 ssh_akeys_has(const json_t *list, const char *fp);
/* The act's keep parameter: 0, or 1 after act_fail. */
int	 ssh_keep_parse(struct act *, enum ssh_keep_mode *ret,
	    json_t **ret_list);
/*
 * Runbook load (struct verb arg_check): a keep value spelled out in the
 * runbook must parse; other args pass.  0, or -EINVAL with err set.
 */
int	 ssh_keep_arg_check(const char *name, const char *value, char *err,
	    size_t errlen);
/* The lines whose key is in keep, each ending in a newline. */
char	*ssh_akeys_kept(const char *data, size_t len, const json_t *keep,
	    size_t *ret_len);

#endif
