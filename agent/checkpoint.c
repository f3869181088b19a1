#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent.h"
#include "checkpoint.h"
#include "journal.h"
#include "log.h"
#include "redact.h"

static const char	zeros[HASH_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int
is_hex64(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != HASH_HEX_LEN)
		return 0;
	for (i = 0; i < HASH_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

static int
customer_ok(const char *c)
{
	size_t	n = strlen(c), i;

	if (n == 0 || n > CHECKPOINT_CUSTOMER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			return 0;
	return 1;
}

int
checkpoint_text(const char *customer, int64_t size, const char *head,
    const char *prev, char *out, size_t len)
{
	int	n;

	if (prev == NULL)
		prev = zeros;
	if (!customer_ok(customer) || size < 0 || !is_hex64(head) ||
	    !is_hex64(prev))
		return -EINVAL;
	n = snprintf(out, len, CHECKPOINT_ORIGIN "%s\n%lld\n%s\nprev %s\n",
	    customer, (long long)size, head, prev);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

int
checkpoint_parse(const char *text, size_t len,
    char ret_customer[CHECKPOINT_CUSTOMER_MAX + 1], int64_t *ret_size,
    char ret_head[HASH_HEX_LEN + 1], char ret_prev[HASH_HEX_LEN + 1])
{
	char		 cust[CHECKPOINT_CUSTOMER_MAX + 1], buf[CHECKPOINT_TEXT_MAX];
	char		 head[HASH_HEX_LEN + 1], prev[HASH_HEX_LEN + 1];
	const char	*p, *nl;
	char		*end;
	long long	 size;
	size_t		 ol = strlen(CHECKPOINT_ORIGIN);

	if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len))
		return -EBADMSG;
	if (len < ol || memcmp(text, CHECKPOINT_ORIGIN, ol) != 0)
		return -EBADMSG;
	p = text + ol;
	if ((nl = memchr(p, '\n', len - ol)) == NULL ||
	    (size_t)(nl - p) > CHECKPOINT_CUSTOMER_MAX)
		return -EBADMSG;
	memcpy(cust, p, (size_t)(nl - p));
	cust[nl - p] = '\0';
	p = nl + 1;
	if (p >= text + len || *p < '0' || *p > '9')
		return -EBADMSG;
	errno = 0;
	size = strtoll(p, &end, 10);
	if (errno != 0 || *end != '\n' || (*p == '0' && end != p + 1))
		return -EBADMSG;
	p = end + 1;
	if ((size_t)(text + len - p) != 2 * (HASH_HEX_LEN + 1) + 5)
		return -EBADMSG;
	memcpy(head, p, HASH_HEX_LEN);
	head[HASH_HEX_LEN] = '\0';
	p += HASH_HEX_LEN;
	if (*p++ != '\n' || memcmp(p, "prev ", 5) != 0)
		return -EBADMSG;
	p += 5;
	memcpy(prev, p, HASH_HEX_LEN);
	prev[HASH_HEX_LEN] = '\0';
	if (p[HASH_HEX_LEN] != '\n' || !is_hex64(head) || !is_hex64(prev))
		return -EBADMSG;
	/* Round trip: exactly the bytes checkpoint_text() writes. */
	if (checkpoint_text(cust, size, head, prev, buf, sizeof(buf)) !=
	    (int)len || memcmp(buf, text, len) != 0)
		return -EBADMSG;
	memcpy(ret_customer, cust, sizeof(cust));
	*ret_size = size;
	memcpy(ret_head, head, sizeof(head));
	memcpy(ret_prev, prev, sizeof(prev));
	return 0;
}

int
checkpoint_key_name(const char *customer, char *out, size_t len)
{
	char	h[HASH_HEX_LEN + 1];
	size_t	n = strlen(customer), i;
	int	safe = n > 0 && n <= 64 && customer[0] != '.', w;

	for (i = 0; safe && i < n; i++)
		if (!((customer[i] >= 'a' && customer[i] <= 'z') ||
		    (customer[i] >= 'A' && customer[i] <= 'Z') ||
		    (customer[i] >= '0' && customer[i] <= '9') ||
		    customer[i] == '.' || customer[i] == '_' ||
		    customer[i] == '-'))
			safe = 0;
	if (safe)
		w = snprintf(out, len, "%s", customer);
	else {
		sha256_hex(customer, n, h);
		w = snprintf(out, len, "sha256-%.32s", h);
	}
	if (w < 0 || (size_t)w >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Reads a whole regular file of ours into *ret (NUL-terminated). */
static int
read_private(const char *path, char **ret, size_t *ret_len,
    const char **why)
{
	struct stat	 st;
	char		*p = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, r;

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
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		r = -EPERM;
		*why = "not a regular file of ours";
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		*why = "readable or writable by group or others (chmod 600)";
		goto out;
	}
	if (st.st_size > CHECKPOINT_KEY_MAX) {
		r = -E2BIG;
		*why = "too long";
		goto out;
	}
	p = xmalloc(CHECKPOINT_KEY_MAX + 1);
	while (len < CHECKPOINT_KEY_MAX) {
		n = read(fd, p + len, CHECKPOINT_KEY_MAX - len);
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
	p[len] = '\0';
	*ret = p;
	*ret_len = len;
	p = NULL;
	r = 0;
out:
	if (p != NULL) {
		explicit_bzero(p, CHECKPOINT_KEY_MAX + 1);
		free(p);
	}
	(void)close(fd);
	return r;
}

int
checkpoint_pubkey_pem(EVP_PKEY *k, char **ret, size_t *ret_len)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p;
	long	 n;
	int	 r = -EINVAL;

	if (b == NULL)
		fatalx("%s: out of memory", __func__);
	if (PEM_write_bio_PUBKEY(b, k) != 1 || (n = BIO_get_mem_data(b,
	    &p)) <= 0)
		goto out;
	*ret = xstrndup(p, (size_t)n);
	*ret_len = (size_t)n;
	r = 0;
out:
	BIO_free(b);
	return r;
}

int
checkpoint_pubkey_read(const char *pem, size_t len, EVP_PKEY **ret)
{
	BIO		*b;
	EVP_PKEY	*k;

	if (len > CHECKPOINT_KEY_MAX || (b = BIO_new_mem_buf(pem,
	    (int)len)) == NULL)
		return -EINVAL;
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL)
		return -EBADMSG;
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return -EBADMSG;
	}
	*ret = k;
	return 0;
}

int
checkpoint_key_fp(EVP_PKEY *k, char out[CHECKPOINT_FP_LEN + 1])
{
	unsigned char	*der = NULL;
	int		 n;

	if ((n = i2d_PUBKEY(k, &der)) <= 0)
		return -EINVAL;
	memcpy(out, "SHA256:", 7);
	sha256_hex(der, (size_t)n, out + 7);
	OPENSSL_free(der);
	return 0;
}

static int
key_create(const char *keypath, EVP_PKEY **ret)
{
	EVP_PKEY	*k;
	BIO		*b;
	char		*p;
	long		 n;
	int		 r = -EINVAL;

	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return -EINVAL;
	if ((b = BIO_new(BIO_s_secmem())) == NULL &&
	    (b = BIO_new(BIO_s_mem())) == NULL)
		fatalx("%s: out of memory", __func__);
	if (PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL) != 1 || (n = BIO_get_mem_data(b, &p)) <= 0)
		goto out;
	if ((r = write_file_atomic(keypath, p, (size_t)n, 0600)) != 0)
		goto out;
	*ret = k;
	k = NULL;
out:
	BIO_free(b);
	EVP_PKEY_free(k);
	return r;
}

int
checkpoint_key_open(const char *dir, const char *customer, EVP_PKEY **ret,
    int *ret_created, const char **ret_why)
{
	struct stat	 st;
	EVP_PKEY	*k = NULL;
	BIO		*b = NULL;
	char		 name[80], keyp[4096], pubp[4096], *pem = NULL;
	size_t		 len = 0;
	int		 n, r, created = 0;

	*ret_why = NULL;
	if ((r = checkpoint_key_name(customer, name, sizeof(name))) != 0)
		return r;
	n = snprintf(keyp, sizeof(keyp), "%s/%s.key", dir, name);
	if (n < 0 || (size_t)n >= sizeof(keyp))
		return -ENAMETOOLONG;
	n = snprintf(pubp, sizeof(pubp), "%s/%s.pub", dir, name);
	if (n < 0 || (size_t)n >= sizeof(pubp))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		*ret_why = "cannot create the directory";
		return -errno;
	}
	if (lstat(dir, &st) != 0) {
		*ret_why = "cannot stat the directory";
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IRWXG | S_IRWXO))) {
		*ret_why = "the directory must be ours, mode 0700";
		return -EPERM;
	}
	r = read_private(keyp, &pem, &len, ret_why);
	if (r == -ENOENT) {
		if ((r = key_create(keyp, &k)) != 0) {
			*ret_why = "cannot create the key";
			goto out;
		}
		created = 1;
	} else if (r != 0) {
		goto out;
	} else {
		if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
			fatalx("%s: out of memory", __func__);
		if ((k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) ==
		    NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
			r = -EBADMSG;
			*ret_why = "not an Ed25519 private key (PKCS#8 PEM)";
			goto out;
		}
	}
	/* The public half is derived: rewrite it, so it always matches. */
	free(pem);
	pem = NULL;
	if ((r = checkpoint_pubkey_pem(k, &pem, &len)) != 0 ||
	    (r = write_file_atomic(pubp, pem, len, 0644)) != 0) {
		*ret_why = "cannot write the public key";
		goto out;
	}
	*ret = k;
	k = NULL;
	*ret_created = created;
	r = 0;
out:
	if (pem != NULL) {
		explicit_bzero(pem, len);
		free(pem);
	}
	BIO_free(b);
	EVP_PKEY_free(k);
	return r;
}

int
checkpoint_sign(EVP_PKEY *k, const char *text, size_t len,
    unsigned char sig[CHECKPOINT_SIG_LEN])
{
	EVP_MD_CTX	*ctx;
	size_t		 sl = CHECKPOINT_SIG_LEN;
	int		 r = -EINVAL;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)text,
	    len) == 1 && sl == CHECKPOINT_SIG_LEN)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return r;
}

int
checkpoint_verify(EVP_PKEY *k, const char *text, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	int		 r = -EBADMSG;

	if (siglen != CHECKPOINT_SIG_LEN)
		return -EBADMSG;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)text,
	    len) == 1)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return r;
}

/* dir/name as a path in out; fails the bundle check when it does not fit. */
static int
bpath(const char *dir, const char *name, char *out, size_t len)
{
	int	n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

struct hist {
	int64_t	size;
	char	head[HASH_HEX_LEN + 1];
};

static int
hist_cmp(const void *a, const void *b)
{
	const struct hist	*x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static int
txt_only(const struct dirent *de)
{
	size_t	n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 4 &&
	    strcmp(de->d_name + n - 4, ".txt") == 0;
}

/*
 * The stored checkpoints in dir/checkpoints, oldest first: each signed by
 * k, of the same customer, chained by prev, covering at most count
 * entries, the newest equal to the final checkpoint (ftext); and each
 * head the hash of the entry it names, read from chain (one pass).
 */
static int
verify_history(const char *dir, EVP_PKEY *k, const char *customer,
    int64_t count, const char *ftext, size_t flen, FILE *chain, char *err,
    size_t errlen)
{
	struct dirent	**de = NULL;
	struct hist	 *h = NULL;
	char		  p[4096], cu[CHECKPOINT_CUSTOMER_MAX + 1];
	char		  prev[HASH_HEX_LEN + 1], last[HASH_HEX_LEN + 1];
	char		 *text = NULL, *sig = NULL, *line = NULL;
	size_t		  tlen = 0, slen, cap = 0, j = 0;
	int64_t		  lineno = 0;
	ssize_t		  n;
	int		  nde, i, r = 0;

	if ((r = bpath(dir, "checkpoints", p, sizeof(p))) != 0)
		return r;
	if ((nde = scandir(p, &de, txt_only, alphasort)) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (nde > CHECKPOINT_BUNDLE_MAX) {
		r = -E2BIG;
		(void)snprintf(err, errlen, "checkpoints: more than %d",
		    CHECKPOINT_BUNDLE_MAX);
		goto out;
	}
	h = xcalloc((size_t)nde + 1, sizeof(*h));
	for (i = 0; i < nde; i++) {
		const char	*nm = de[i]->d_name;
		int		 w;

		free(text);
		free(sig);
		text = sig = NULL;
		w = snprintf(p, sizeof(p), "%s/checkpoints/%s", dir, nm);
		if (w < 0 || (size_t)w >= sizeof(p)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		if ((r = read_file(p, CHECKPOINT_TEXT_MAX, &text, &tlen)) != 0)
			goto bad_file;
		memcpy(p + w - 3, "sig", 3);
		if ((r = read_file(p, CHECKPOINT_SIG_LEN + 1, &sig,
		    &slen)) != 0)
			goto bad_file;
		if ((r = checkpoint_verify(k, text, tlen,
		    (unsigned char *)sig, slen)) != 0 ||
		    (r = checkpoint_parse(text, tlen, cu, &h[i].size,
		    h[i].head, prev)) != 0 || strcmp(cu, customer) != 0 ||
		    h[i].size > count || (i > 0 && strcmp(prev, last) != 0) ||
		    (h[i].size == 0 && strcmp(h[i].head, zeros) != 0)) {
			r = -EBADMSG;
			(void)snprintf(err, errlen, "checkpoints/%s: bad "
			    "signature, another customer, more entries than "
			    "the journal, or not chained to the one before",
			    nm);
			goto out;
		}
		sha256_hex(text, tlen, last);
	}
	if (nde > 0 && (tlen != flen || memcmp(text, ftext, flen) != 0)) {
		r = -EBADMSG;
		(void)snprintf(err, errlen, "checkpoint.txt is not the newest "
		    "stored checkpoint");
		goto out;
	}
	qsort(h, (size_t)nde, sizeof(*h), hist_cmp);
	while (j < (size_t)nde && h[j].size == 0)
		j++;
	while (j < (size_t)nde && (n = getline(&line, &cap, chain)) > 0) {
		lineno++;
		for (; j < (size_t)nde && h[j].size == lineno; j++)
			if (n < 2 * HASH_HEX_LEN + 2 || memcmp(line +
			    HASH_HEX_LEN + 1, h[j].head, HASH_HEX_LEN) != 0) {
				r = -EBADMSG;
				(void)snprintf(err, errlen, "a stored "
				    "checkpoint's head is not the hash of "
				    "entry %lld", (long long)lineno);
				goto out;
			}
	}
	if (j < (size_t)nde) {
		r = -EBADMSG;
		(void)snprintf(err, errlen, "a stored checkpoint names an "
		    "entry chain.txt lacks");
	}
	goto out;
bad_file:
	(void)snprintf(err, errlen, "%s: %s", p, strerror(-r));
out:
	for (i = 0; i < nde; i++)
		free(de[i]);
	free(de);
	free(h);
	free(text);
	free(sig);
	free(line);
	return r;
}

/* SHA-256 of the file dir/name into out. */
static int
file_sha(const char *dir, const char *name, char out[HASH_HEX_LEN + 1])
{
	char	p[4096];
	FILE	*f;
	int	r;

	if ((r = bpath(dir, name, p, sizeof(p))) != 0)
		return r;
	if ((f = fopen(p, "re")) == NULL)
		return -errno;
	r = redact_file_sha(f, out);
	(void)fclose(f);
	return r;
}

/*
 * An incident bundle's manifest (redact.h): signed by k, of the
 * checkpoint's customer, and naming the files as they are.
 */
static int
verify_manifest(const char *dir, EVP_PKEY *k, const char *customer,
    const char *ctext, size_t clen, struct redact_manifest *m, char *err,
    size_t errlen)
{
	char	 p[4096], sha[HASH_HEX_LEN + 1];
	char	*text = NULL, *sig = NULL;
	size_t	 tlen, slen;
	int	 r;

	if ((r = bpath(dir, "manifest.txt", p, sizeof(p))) != 0 ||
	    (r = read_file(p, REDACT_MANIFEST_MAX, &text, &tlen)) != 0 ||
	    (r = bpath(dir, "manifest.sig", p, sizeof(p))) != 0 ||
	    (r = read_file(p, CHECKPOINT_SIG_LEN + 1, &sig, &slen)) != 0) {
		(void)snprintf(err, errlen, "manifest: %s", strerror(-r));
		goto out;
	}
	if ((r = checkpoint_verify(k, text, tlen, (unsigned char *)sig,
	    slen)) != 0) {
		(void)snprintf(err, errlen, "manifest.sig: signature does not "
		    "verify with pubkey.pem");
		goto out;
	}
	if ((r = redact_manifest_parse(text, tlen, m)) != 0 ||
	    strcmp(m->customer, customer) != 0) {
		r = -EBADMSG;
		(void)snprintf(err, errlen, "manifest.txt: malformed, or of "
		    "another customer than checkpoint.txt");
		goto out;
	}
	sha256_hex(ctext, clen, sha);
	if (strcmp(sha, m->sha_checkpoint) != 0) {
		r = -EBADMSG;
		(void)snprintf(err, errlen, "checkpoint.txt is not the one "
		    "manifest.txt names");
		goto out;
	}
	if ((r = file_sha(dir, "journal.jsonl", sha)) != 0 ||
	    strcmp(sha, m->sha_journal) != 0 ||
	    (r = file_sha(dir, "chain.txt", sha)) != 0 ||
	    strcmp(sha, m->sha_chain) != 0) {
		r = r ? r : -EBADMSG;
		(void)snprintf(err, errlen, "journal.jsonl or chain.txt is not "
		    "as exported (its SHA-256 is not manifest.txt's)");
		goto out;
	}
out:
	free(text);
	free(sig);
	return r;
}

int
checkpoint_bundle_verify(const char *dir, const char *want_fp,
    struct checkpoint_bundle *ret, char *err, size_t errlen)
{
	EVP_PKEY	*k = NULL;
	FILE		*jf = NULL, *cf = NULL;
	char		 p[4096], head[HASH_HEX_LEN + 1], prev[HASH_HEX_LEN + 1];
	char		 jerr[512], jhead[HASH_HEX_LEN + 1];
	char		*pem = NULL, *text = NULL, *sig = NULL;
	size_t		 plen, tlen, slen;
	int64_t		 count = 0;
	struct redact_manifest man = { .seqs = NULL };
	json_t		*seqs = NULL;
	int		 r;

	memset(ret, 0, sizeof(*ret));
	if ((r = bpath(dir, "pubkey.pem", p, sizeof(p))) != 0 ||
	    (r = read_file(p, CHECKPOINT_KEY_MAX, &pem, &plen)) != 0) {
		(void)snprintf(err, errlen, "pubkey.pem: %s", strerror(-r));
		goto out;
	}
	if ((r = checkpoint_pubkey_read(pem, plen, &k)) != 0 ||
	    (r = checkpoint_key_fp(k, ret->fp)) != 0) {
		(void)snprintf(err, errlen, "pubkey.pem: not an Ed25519 "
		    "public key");
		goto out;
	}
	if ((r = bpath(dir, "checkpoint.txt", p, sizeof(p))) != 0 ||
	    (r = read_file(p, CHECKPOINT_TEXT_MAX, &text, &tlen)) != 0 ||
	    (r = bpath(dir, "checkpoint.sig", p, sizeof(p))) != 0 ||
	    (r = read_file(p, CHECKPOINT_SIG_LEN + 1, &sig, &slen)) != 0) {
		(void)snprintf(err, errlen, "checkpoint: %s", strerror(-r));
		goto out;
	}
	if ((r = checkpoint_verify(k, text, tlen, (unsigned char *)sig,
	    slen)) != 0) {
		(void)snprintf(err, errlen, "checkpoint.sig: signature does "
		    "not verify with pubkey.pem");
		goto out;
	}
	if ((r = checkpoint_parse(text, tlen, ret->customer, &ret->size,
	    head, prev)) != 0) {
		(void)snprintf(err, errlen, "checkpoint.txt: malformed");
		goto out;
	}
	memcpy(ret->head, head, sizeof(head));
	if (want_fp != NULL && strcmp(want_fp, ret->fp) != 0) {
		r = -EKEYREJECTED;
		(void)snprintf(err, errlen, "key fingerprint %s is not the "
		    "expected %s", ret->fp, want_fp);
		goto out;
	}
	/* An incident bundle (redact.h) has a signed manifest. */
	if ((r = bpath(dir, "manifest.txt", p, sizeof(p))) != 0)
		goto out;
	if (access(p, F_OK) == 0) {
		if ((r = verify_manifest(dir, k, ret->customer, text, tlen,
		    &man, err, errlen)) != 0)
			goto out;
		(void)snprintf(ret->incident, sizeof(ret->incident), "%s",
		    man.incident);
	}
	if ((r = bpath(dir, "journal.jsonl", p, sizeof(p))) != 0 ||
	    (jf = fopen(p, "re")) == NULL ||
	    (r = bpath(dir, "chain.txt", p, sizeof(p))) != 0 ||
	    (cf = fopen(p, "re")) == NULL) {
		if (r == 0)
			r = -errno;
		(void)snprintf(err, errlen, "%s: %s", p, strerror(-r));
		goto out;
	}
	if ((r = man.seqs != NULL ? redact_verify(jf, cf, man.incident,
	    &count, jhead, &seqs, jerr, sizeof(jerr)) :
	    journal_verify_chain(jf, cf, &count, jhead, jerr,
	    sizeof(jerr))) != 0) {
		(void)snprintf(err, errlen, "journal.jsonl: %s", jerr);
		goto out;
	}
	if (man.seqs != NULL && !json_equal(seqs, man.seqs)) {
		r = -EBADMSG;
		(void)snprintf(err, errlen, "journal.jsonl: the entries in "
		    "full are not the ones manifest.txt names");
		goto out;
	}
	if (count != ret->size || strcmp(jhead, head) != 0) {
		r = -EBADMSG;
		(void)snprintf(err, errlen, "journal.jsonl holds %lld entries "
		    "with head %s, but the signed checkpoint covers %lld "
		    "with head %s (entries removed or added)",
		    (long long)count, jhead, (long long)ret->size, head);
		goto out;
	}
	rewind(cf);
	if ((r = verify_history(dir, k, ret->customer, count, text, tlen, cf,
	    err, errlen)) != 0)
		goto out;
	r = 0;
out:
	json_decref(man.seqs);
	json_decref(seqs);
	if (jf != NULL)
		(void)fclose(jf);
	if (cf != NULL)
		(void)fclose(cf);
	EVP_PKEY_free(k);
	free(pem);
	free(text);
	free(sig);
	return r;
}

/*
 * Agent side: one key per customer, found by name; customers added by a
 * reload get theirs on first use.
 */
struct ckey {
	char		*customer;
	EVP_PKEY	*key;
	char		 fp[CHECKPOINT_FP_LEN + 1];
	int64_t		 last_size;	/* of the last checkpoint, -1: none */
	time_t		 last_at;
	time_t		 failed_at;	/* last failure; retry a minute on */
	char		 last_sha[HASH_HEX_LEN + 1];	/* of its text */
};

static struct ckey	*ckeys;
static size_t		 nckeys;
static time_t		 open_tried;	/* keys of customers added by reload */

#define CHECKPOINT_RETRY_S	60

static struct ckey *
ckey_find(const char *customer)
{
	size_t	i;

	for (i = 0; i < nckeys; i++)
		if (strcmp(ckeys[i].customer, customer) == 0)
			return &ckeys[i];
	return NULL;
}

static struct ckey *
ckey_open(struct agent *ag, const char *customer)
{
	struct ckey	*ck;
	sqlite3_stmt	*st;
	EVP_PKEY	*k = NULL;
	const char	*why = NULL, *text;
	time_t		 at;
	int		 created = 0, r;

	if ((ck = ckey_find(customer)) != NULL)
		return ck;
	if ((r = checkpoint_key_open(ag->cfg->keys_dir, customer, &k,
	    &created, &why)) != 0) {
		log_warnx("%s: checkpoint key for customer '%s' in '%s': %s",
		    __func__, customer, ag->cfg->keys_dir, why && r == -EPERM ?
		    why : strerror(-r));
		return NULL;
	}
	ckeys = xreallocarray(ckeys, nckeys + 1, sizeof(*ckeys));
	ck = &ckeys[nckeys++];
	memset(ck, 0, sizeof(*ck));
	ck->customer = xstrdup(customer);
	ck->key = k;
	if (checkpoint_key_fp(k, ck->fp) != 0)
		fatalx("%s: cannot encode a public key", __func__);
	ck->last_size = -1;
	memcpy(ck->last_sha, zeros, sizeof(zeros));
	st = store_q(ag->store, "SELECT size, text, at FROM checkpoints "
	    "WHERE customer = ? ORDER BY id DESC LIMIT 1", "s", customer);
	if (sqlite3_step(st) == SQLITE_ROW) {
		ck->last_size = sqlite3_column_int64(st, 0);
		text = (const char *)sqlite3_column_text(st, 1);
		sha256_hex(text ? text : "", text ? strlen(text) : 0,
		    ck->last_sha);
		if (sqlite3_column_text(st, 2) == NULL ||
		    parse_time((const char *)sqlite3_column_text(st, 2),
		    &at) != 0)
			at = 0;
		ck->last_at = at;
	}
	(void)sqlite3_reset(st);
	log_info("checkpoint key for customer '%s': %s%s", customer, ck->fp,
	    created ? " (new)" : "");
	return ck;
}

EVP_PKEY *
checkpoint_key_of(struct agent *ag, const char *customer,
    const char **ret_fp)
{
	struct ckey	*ck = ckey_open(ag, customer);

	if (ck == NULL)
		return NULL;
	if (ret_fp != NULL)
		*ret_fp = ck->fp;
	return ck->key;
}

int
checkpoint_init(struct agent *ag)
{
	size_t	i;

	for (i = 0; i < ag->cfg->ncustomers; i++)
		if (ckey_open(ag, ag->cfg->customers[i].name) == NULL)
			return -EPERM;
	return 0;
}

int
checkpoint_make(struct agent *ag, const char *customer, int64_t *ret_id)
{
	struct ckey	*ck;
	unsigned char	 sig[CHECKPOINT_SIG_LEN];
	char		 text[CHECKPOINT_TEXT_MAX], at[32];
	sqlite3_stmt	*st;
	time_t		 now = time(NULL);
	int		 n, r;

	if ((ck = ckey_open(ag, customer)) == NULL)
		return -ENOKEY;
	if ((n = checkpoint_text(customer, ag->store->jseq, ag->store->jhead,
	    ck->last_sha, text, sizeof(text))) < 0)
		return n;
	if ((r = checkpoint_sign(ck->key, text, (size_t)n, sig)) != 0)
		return r;
	fmt_time(now, at);
	st = store_q(ag->store, "INSERT INTO checkpoints(customer, size, "
	    "head, text, at, sig) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", "sisss",
	    customer, ag->store->jseq, ag->store->jhead, text, at);
	if (sqlite3_bind_blob(st, 6, sig, sizeof(sig), SQLITE_TRANSIENT) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		(void)sqlite3_reset(st);
		return -EIO;
	}
	(void)sqlite3_reset(st);
	if (ret_id != NULL)
		*ret_id = sqlite3_last_insert_rowid(ag->store->db);
	ck->last_size = ag->store->jseq;
	ck->last_at = now;
	sha256_hex(text, (size_t)n, ck->last_sha);
	log_debug("%s: customer '%s' at %lld", __func__, customer,
	    (long long)ag->store->jseq);
	return 0;
}

void
checkpoint_state_change(struct agent *ag, const char *customer)
{
	struct ckey	*ck;
	int		 r;

	if (ag->store->in_tx || (ck = ckey_open(ag, customer)) == NULL)
		return;
	if (ck->last_size == ag->store->jseq)
		return;
	if ((r = checkpoint_make(ag, customer, NULL)) != 0) {
		log_warnx("%s: customer '%s': %s", __func__, customer,
		    strerror(-r));
		ck->failed_at = time(NULL);
	}
}

void
checkpoint_tick(struct agent *ag)
{
	struct ckey	*ck;
	time_t		 now = time(NULL);
	int64_t		 seq = ag->store->jseq, behind;
	size_t		 i;
	int		 r;

	if (ag->store->in_tx)
		return;
	for (i = 0; i < ag->cfg->ncustomers; i++) {
		const char *name = ag->cfg->customers[i].name;

		if ((ck = ckey_find(name)) == NULL) {
			/* A customer added by a reload: open its key, but
			 * do not retry a failing one on every loop. */
			if (now - open_tried < CHECKPOINT_RETRY_S)
				continue;
			open_tried = now;
			if ((ck = ckey_open(ag, name)) == NULL)
				continue;
		}
		if (now - ck->failed_at < CHECKPOINT_RETRY_S)
			continue;
		/* The first checkpoint is due at once (last_at is 0). */
		behind = seq - (ck->last_size < 0 ? 0 : ck->last_size);
		if (ck->last_size >= 0 && behind <= 0)
			continue;
		if (behind < ag->cfg->checkpoint_every && now - ck->last_at <
		    ag->cfg->checkpoint_minutes * 60)
			continue;
		if ((r = checkpoint_make(ag, name, NULL)) != 0) {
			log_warnx("%s: customer '%s': %s", __func__, name,
			    strerror(-r));
			ck->failed_at = now;
		}
	}
}

void
checkpoint_shutdown(void)
{
	size_t	i;

	for (i = 0; i < nckeys; i++) {
		EVP_PKEY_free(ckeys[i].key);
		free(ckeys[i].customer);
	}
	free(ckeys);
	ckeys = NULL;
	nckeys = 0;
}

int
checkpoint_bundle_reaches(const char *dir, const struct checkpoint_bundle *b,
    const char *known, size_t len, char *err, size_t errlen)
{
	char		 cust[CHECKPOINT_CUSTOMER_MAX + 1], head[HASH_HEX_LEN + 1];
	char		 prev[HASH_HEX_LEN + 1], p[4096], *line = NULL, *sp;
	size_t		 cap = 0;
	int64_t		 size, n = 0;
	FILE		*f;
	int		 r = -EBADMSG;

	if (checkpoint_parse(known, len, cust, &size, head, prev) != 0) {
		(void)snprintf(err, errlen, "the known checkpoint is not a "
		    "checkpoint text (4 lines: origin, size, head, prev)");
		return -EINVAL;
	}
	if (strcmp(cust, b->customer) != 0) {
		(void)snprintf(err, errlen, "the known checkpoint is of "
		    "another customer");
		return -EBADMSG;
	}
	if (size > b->size) {
		(void)snprintf(err, errlen, "the bundle covers %lld entries, "
		    "the known checkpoint %lld: entries were removed (cut back "
		    "to an earlier checkpoint)", (long long)b->size,
		    (long long)size);
		return -EBADMSG;
	}
	if (size == 0)
		return strspn(head, "0") == HASH_HEX_LEN ? 0 : -EBADMSG;
	if ((r = bpath(dir, "chain.txt", p, sizeof(p))) != 0)
		return r;
	if ((f = fopen(p, "re")) == NULL) {
		(void)snprintf(err, errlen, "chain.txt: %s", strerror(errno));
		return -errno;
	}
	r = -EBADMSG;
	while (getline(&line, &cap, f) > 0)
		if (++n == size) {
			/* "prev hash rest": the second field is entry n's. */
			sp = strchr(line, ' ');
			if (sp != NULL && strncmp(sp + 1, head,
			    HASH_HEX_LEN) == 0 && sp[1 + HASH_HEX_LEN] == ' ')
				r = 0;
			break;
		}
	free(line);
	(void)fclose(f);
	if (r != 0)
		(void)snprintf(err, errlen, "entry %lld is not the one the "
		    "known checkpoint names (head %.16s...): the journal was "
		    "rewritten", (long long)size, head);
	return r;
}

/*
 * `keys show`: each customer's checkpoint public key and fingerprint, for
 * the DPO to write down at setup and pass to the verifiers (--key-fp).
 * Public data, so any role for the customer may read it.
 */
json_t *
h_keys_show(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*want = json_string_value(json_object_get(req,
	    "customer"));
	struct customer	*cu;
	json_t		*list, *e;
	EVP_PKEY	*k;
	const char	*fp;
	char		*pem, *file, name[256];
	size_t		 i, len;

	if ((e = require_role_named(ag, c, want, ROLE_AUDITOR)) != NULL)
		return e;
	list = json_array();
	for (i = 0; i < ag->cfg->ncustomers; i++) {
		cu = &ag->cfg->customers[i];
		if ((want != NULL && strcmp(cu->name, want) != 0) ||
		    config_role(cu, c->uid) < ROLE_AUDITOR)
			continue;
		if ((k = checkpoint_key_of(ag, cu->name, &fp)) == NULL ||
		    checkpoint_pubkey_pem(k, &pem, &len) != 0 ||
		    checkpoint_key_name(cu->name, name, sizeof(name)) != 0) {
			json_decref(list);
			return reply_err(EXIT_FAILED, "cannot read the "
			    "checkpoint key of customer '%s' (see the agent's "
			    "log)", cu->name);
		}
		file = xasprintf("%s/%s.pub", ag->cfg->keys_dir, name);
		(void)json_array_append_new(list, json_pack("{s:s,s:s,s:s%,"
		    "s:s}", "customer", cu->name, "fingerprint", fp,
		    "public_key", pem, len, "file", file));
		free(file);
		free(pem);
	}
	if (want == NULL && json_array_size(list) == 0) {
		json_decref(list);
		return refuse(ag, c, NULL, 0, "%s has no role for any "
		    "customer", c->actor);
	}
	e = reply_ok();
	(void)json_object_set_new(e, "keys", list);
	return e;
}
