/*
 * seal: CMS envelopes to a recipient's certificate (seal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "seal.h"

#define SEAL_RSA_MIN_BITS	2048

static int
seal_err(char *err, size_t errlen, int r, const char *fmt, const char *arg)
{
	(void)snprintf(err, errlen, fmt, arg);
	ERR_clear_error();
	return r;
}

/* The certificate in path, checked; *ret owned by the caller. */
static int
cert_load(const char *path, X509 **ret, char fp[SEAL_FP_LEN], char *err,
    size_t errlen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	struct stat	 st;
	EVP_PKEY	*pk;
	X509		*x = NULL;
	BIO		*b = NULL;
	char		*text = NULL;
	size_t		 len = 0;
	int		 r, id;

	/* A FIFO would block the agent in open(2). */
	if (stat(path, &st) != 0)
		return seal_err(err, errlen, -errno, "certificate '%s': "
		    "cannot read it", path);
	if (!S_ISREG(st.st_mode))
		return seal_err(err, errlen, -EINVAL, "certificate '%s': not "
		    "a regular file", path);
	if ((r = read_file(path, SEAL_CERT_MAX, &text, &len)) != 0)
		return seal_err(err, errlen, r, "certificate '%s': cannot "
		    "read it (or larger than 64 KiB)", path);
	if ((b = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		r = seal_err(err, errlen, -EINVAL, "certificate '%s': no PEM "
		    "X.509 certificate in it", path);
		goto out;
	}
	if ((pk = X509_get0_pubkey(x)) == NULL) {
		r = seal_err(err, errlen, -EINVAL, "certificate '%s': "
		    "unreadable public key", path);
		goto out;
	}
	id = EVP_PKEY_get_base_id(pk);
	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) < SEAL_RSA_MIN_BITS) {
		r = seal_err(err, errlen, -EINVAL, "certificate '%s': RSA key "
		    "shorter than 2048 bits", path);
		goto out;
	}
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
		r = seal_err(err, errlen, -EINVAL, "certificate '%s': key is "
		    "neither RSA nor EC", path);
		goto out;
	}
	if (fp != NULL) {
		if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 ||
		    mdlen != 32) {
			r = seal_err(err, errlen, -EINVAL, "certificate '%s': "
			    "cannot hash it", path);
			goto out;
		}
		for (i = 0; i < mdlen; i++)
			(void)snprintf(fp + 2 * i, 3, "%02x", md[i]);
	}
	*ret = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	BIO_free(b);
	free(text);
	return r;
}

int
seal_cert_check(const char *path, char fp[SEAL_FP_LEN], char *err,
    size_t errlen)
{
	X509	*x = NULL;
	int	 r;

	if ((r = cert_load(path, &x, fp, err, errlen)) == 0)
		X509_free(x);
	return r;
}

int
seal_cms(const char *cert_path, const void *data, size_t len,
    char **ret_pem, size_t *ret_len, char fp[SEAL_FP_LEN], char *err,
    size_t errlen)
{
	const unsigned int	 fl = CMS_BINARY | CMS_PARTIAL |
	    CMS_KEY_PARAM;
	CMS_RecipientInfo	*ri;
	CMS_ContentInfo		*cms = NULL;
	EVP_PKEY_CTX		*pctx;
	X509			*x = NULL;
	BIO			*in = NULL, *out = NULL;
	BUF_MEM			*bm;
	int			 r;

	if (len > SEAL_OUT_MAX / 2)
		return seal_err(err, errlen, -E2BIG, "%s: secret too large",
		    "seal");
	if ((r = cert_load(cert_path, &x, fp, err, errlen)) != 0)
		return r;
	/* Read-only over the caller's bytes: no copy of ours to wipe. */
	if ((in = BIO_new_mem_buf(data, (int)len)) == NULL ||
	    (out = BIO_new(BIO_s_mem())) == NULL) {
		r = seal_err(err, errlen, -ENOMEM, "%s: out of memory",
		    "seal");
		goto out;
	}
	/*
	 * Partial, so the recipient's key transport can be set before the
	 * content is encrypted: RSA-OAEP instead of PKCS #1 v1.5.
	 */
	if ((cms = CMS_encrypt(NULL, NULL, EVP_aes_256_gcm(), fl)) == NULL ||
	    (ri = CMS_add1_recipient_cert(cms, x, fl)) == NULL) {
		r = seal_err(err, errlen, -EIO, "certificate '%s': OpenSSL "
		    "cannot address an envelope to it", cert_path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(x)) == EVP_PKEY_RSA &&
	    ((pctx = CMS_RecipientInfo_get0_pkey_ctx(ri)) == NULL ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0)) {
		r = seal_err(err, errlen, -EIO, "certificate '%s': cannot "
		    "select RSA-OAEP", cert_path);
		goto out;
	}
	if (CMS_final(cms, in, NULL, CMS_BINARY) != 1 ||
	    PEM_write_bio_CMS_stream(out, cms, NULL, 0) != 1) {
		r = seal_err(err, errlen, -EIO, "%s: OpenSSL could not make "
		    "the envelope", "seal");
		goto out;
	}
	BIO_get_mem_ptr(out, &bm);
	if (bm == NULL || bm->length == 0 || bm->length > SEAL_OUT_MAX) {
		r = seal_err(err, errlen, -EIO, "%s: bad envelope size",
		    "seal");
		goto out;
	}
	*ret_pem = xstrndup(bm->data, bm->length);
	*ret_len = bm->length;
	r = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	X509_free(x);
	return r;
}
