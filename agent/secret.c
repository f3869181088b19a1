#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hash.h"
#include "log.h"
#include "secret.h"

/* The agent's fingerprint key (vault.c loads it); unset: plain SHA-256. */
static unsigned char	fp_key[SECRET_FP_KEY_LEN];
static int		fp_keyed;

int
secret_read_file(const char *path, struct secret **ret, const char **why)
{
	struct secret	*s = NULL;
	struct stat	 st;
	char		 tmp[SECRET_MAX + 1];
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, r;

	*why = NULL;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the agent. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) < 0) {
		*why = "cannot open";
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		*why = "cannot stat";
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EPERM;
		*why = "not a regular file";
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		*why = "readable or writable by group or others (chmod 600)";
		goto out;
	}
	while (len < sizeof(tmp)) {
		n = read(fd, tmp + len, sizeof(tmp) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			*why = "cannot read";
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECRET_MAX) {
		r = -E2BIG;
		*why = "too long";
		goto out;
	}
	if (len && tmp[len - 1] == '\n')
		len--;
	if (len && tmp[len - 1] == '\r')
		len--;
	s = xcalloc(1, sizeof(*s));
	s->s = xstrndup(tmp, len);
	s->len = len;
	*ret = s;
	r = 0;
out:
	explicit_bzero(tmp, sizeof(tmp));
	(void)close(fd);
	return r;
}

void
secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	if (s->s) {
		explicit_bzero(s->s, s->len);
		free(s->s);
	}
	free(s);
}

void
secret_fp_key(const unsigned char *key)
{
	if (key == NULL) {
		explicit_bzero(fp_key, sizeof(fp_key));
		fp_keyed = 0;
		return;
	}
	memcpy(fp_key, key, sizeof(fp_key));
	fp_keyed = 1;
}

void
secret_fp(const struct secret *s, char out[24])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	char			 h[HASH_HEX_LEN + 1];
	int			 i;

	memcpy(out, "sha256:", 7);
	out[23] = '\0';
	if (!fp_keyed) {
		sha256_hex(s->s, s->len, h);
		memcpy(out + 7, h, 16);
		return;
	}
	/*
	 * HMAC: a short unsalted hash of a weak password is a dictionary
	 * lookup away from the password; without the key it is not.
	 */
	if (HMAC(EVP_sha256(), fp_key, sizeof(fp_key),
	    (const unsigned char *)s->s, s->len, md, &mdlen) == NULL ||
	    mdlen < 8)
		fatalx("%s: HMAC-SHA-256 failed", __func__);
	for (i = 0; i < 8; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 0xf];
	}
	explicit_bzero(md, sizeof(md));
}
