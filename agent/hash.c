#include <string.h>

#include <openssl/evp.h>

#include "hash.h"
#include "log.h"

static void
digest(const void *a, size_t alen, const void *b, size_t blen,
    char out[HASH_HEX_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	EVP_MD_CTX		*ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		fatalx("%s: sha256 failed", __func__);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[HASH_HEX_LEN] = '\0';
}

void
sha256_hex(const void *d, size_t n, char out[HASH_HEX_LEN + 1])
{
	digest(d, n, NULL, 0, out);
}

void
sha256_hex2(const char *a, const char *b, char out[HASH_HEX_LEN + 1])
{
	digest(a, strlen(a), b, strlen(b), out);
}
