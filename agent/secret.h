/*
 * secret: credentials in memory.  Read only from files that nobody but
 * the owner can read (refused otherwise, as ssh refuses a loose key),
 * wiped with explicit_bzero when freed, and only ever shown to the outside
 * as a fingerprint.
 */
#ifndef CORDON_SECRET_H
#define CORDON_SECRET_H

#include <stddef.h>

#include "util.h"

#define SECRET_MAX 4096

struct secret {
	char	*s;
	size_t	 len;
};

/*
 * Reads path; strips one trailing newline.  -EPERM with *ret_why set when
 * the file is group/other readable or not a regular file.
 */
int	secret_read_file(const char *path, struct secret **ret,
	    const char **ret_why) WARN_UNUSED;
void	secret_free(struct secret *);
#define SECRET_FP_KEY_LEN	32

/*
 * "sha256:" + 16 hex digits: enough to tell secrets apart in logs.  Once
 * a key is set (vault_init sets the agent's), they are the first 64 bits
 * of HMAC-SHA-256(key, secret), so a journal reader cannot test guesses
 * against them; without a key, of SHA-256(secret).
 */
void	secret_fp(const struct secret *, char out[24]);
/* Sets the fingerprint key (SECRET_FP_KEY_LEN bytes, copied); NULL unsets. */
void	secret_fp_key(const unsigned char *key);

#endif
