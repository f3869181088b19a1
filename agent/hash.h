/*
 * hash: SHA-256 as lowercase hex (OpenSSL EVP).  The journal chain and the
 * approval binding both use it; secrets are stored only as such
 * fingerprints.
 */
#ifndef CORDON_HASH_H
#define CORDON_HASH_H

#include <stddef.h>

#define HASH_HEX_LEN 64

/* out receives 64 hex digits and a NUL. */
void	sha256_hex(const void *, size_t, char out[HASH_HEX_LEN + 1]);
/* SHA-256 over a ‖ b, without building the concatenation. */
void	sha256_hex2(const char *a, const char *b, char out[HASH_HEX_LEN + 1]);

#endif
