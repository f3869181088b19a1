/*
 * seal: a secret encrypted to one named recipient's X.509 certificate, in
 * a format the recipient opens with a standard tool and that a well-kept
 * library writes: a CMS (RFC 5652) envelope made by OpenSSL's CMS API.
 *
 *   - content encryption AES-256-GCM, so the envelope is an RFC 5083
 *     AuthEnvelopedData: tampering makes decryption fail instead of
 *     yielding altered bytes.  OpenSSL 3.0 and later open it:
 *       openssl cms -decrypt -in FILE -inform PEM -inkey KEY -recip CERT
 *   - the content key is wrapped with RSA-OAEP for an RSA certificate and
 *     with ECDH (OpenSSL's default key agreement) for an EC one; other key
 *     types are refused when the config is loaded.
 *   - output is PEM ("-----BEGIN CMS-----"), safe to mail or paste.
 *
 * Nothing here writes a file or logs.  The plaintext is only read (a
 * read-only memory BIO over the caller's buffer); the caller owns it and
 * wipes it.  Certificates are read from a file of at most SEAL_CERT_MAX
 * bytes.  Errors: 0 or -errno, with a message (no prefix, never a
 * secret) in err.
 */
#ifndef CORDON_SEAL_H
#define CORDON_SEAL_H

#include <stddef.h>

#include "util.h"

#define SEAL_CERT_MAX	(64 * 1024)
#define SEAL_OUT_MAX	(64 * 1024)	/* PEM of a sealed SECRET_MAX */
/* Lowercase hex SHA-256 of the certificate's DER, NUL-terminated. */
#define SEAL_FP_LEN	65

/*
 * path holds one PEM X.509 certificate with an RSA (2048 bits or more)
 * or EC public key.  fp (may be NULL) receives its fingerprint, the same
 * as `openssl x509 -in CERT -outform DER | sha256sum`.
 */
int	seal_cert_check(const char *path, char fp[SEAL_FP_LEN], char *err,
	    size_t errlen) WARN_UNUSED;

/*
 * Seals len bytes of data to the certificate in cert_path.  *ret_pem is
 * a NUL-terminated PEM text (caller frees), *ret_len its length; fp gets
 * the certificate's fingerprint as above.
 */
int	seal_cms(const char *cert_path, const void *data, size_t len,
	    char **ret_pem, size_t *ret_len, char fp[SEAL_FP_LEN], char *err,
	    size_t errlen) WARN_UNUSED;

#endif
