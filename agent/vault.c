#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vault.h"

static char	*vdir;

/*
 * Writes a new random key to path unless one is there (link(2) never
 * replaces: a concurrent creator's key wins and both read it).
 */
static int
fpkey_create(const char *dir, const char *path)
{
	unsigned char	k[SECRET_FP_KEY_LEN];
	char		text[2 * SECRET_FP_KEY_LEN + 1], tmp[4096];
	int		n, r;

	n = snprintf(tmp, sizeof(tmp), "%s/" VAULT_FP_KEY ".%ld.tmp", dir,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		return errno ? -errno : -EIO;
	hex_encode(k, sizeof(k), text);
	text[sizeof(text) - 1] = '\n';
	explicit_bzero(k, sizeof(k));
	(void)unlink(tmp);
	r = write_file_atomic(tmp, text, sizeof(text), 0600);
	explicit_bzero(text, sizeof(text));
	if (r != 0)
		return r;
	r = link(tmp, path) != 0 && errno != EEXIST ? -errno : 0;
	(void)unlink(tmp);
	return r;
}

/* The fingerprint key: read (created on first use) and handed to secret. */
static int
fpkey_load(const char *dir)
{
	struct secret	*s = NULL;
	unsigned char	 k[SECRET_FP_KEY_LEN];
	const char	*why;
	char		 path[4096];
	int		 n, r;

	n = snprintf(path, sizeof(path), "%s/" VAULT_FP_KEY, dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if ((r = secret_read_file(path, &s, &why)) == -ENOENT) {
		if ((r = fpkey_create(dir, path)) != 0)
			return r;
		r = secret_read_file(path, &s, &why);
	}
	if (r != 0)
		return r;
	r = hex_decode(s->s, s->len, k, sizeof(k)) == (int)sizeof(k) ?
	    0 : -EINVAL;
	if (r == 0)
		secret_fp_key(k);
	explicit_bzero(k, sizeof(k));
	secret_free(s);
	return r;
}

int
vault_init(const char *dir)
{
	struct stat	st;
	int		r;

	free(vdir);
	vdir = NULL;
	secret_fp_key(NULL);
	if (dir == NULL)
		return 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		return -EPERM;
	if ((r = fpkey_load(dir)) != 0)
		return r;
	vdir = xstrdup(dir);
	return 0;
}

const char *
vault_dir(void)
{
	return vdir;
}

static int
label_ok(const char *l)
{
	size_t	n = strlen(l), i;

	if (n == 0 || n > VAULT_LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' &&
		    l[i] <= '9') || l[i] == '_' || l[i] == '-'))
			return 0;
	return 1;
}

static int
path_of(int64_t action, const char *label, const char *suffix, char *out,
    size_t len)
{
	int	n;

	if (vdir == NULL)
		return -ENOENT;
	if (!label_ok(label) || action <= 0)
		return -EINVAL;
	n = snprintf(out, len, "%s/A%lld-%s%s", vdir, (long long)action,
	    label, suffix);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int
vault_put(int64_t action, const char *label, const void *data, size_t len,
    char fp[24])
{
	struct secret	 s = { (char *)data, len };
	char		 dst[4096];
	int		 r;

	if ((r = path_of(action, label, "", dst, sizeof(dst))) != 0 ||
	    (r = write_file_atomic(dst, data, len, 0600)) != 0)
		return r;
	secret_fp(&s, fp);
	return 0;
}

int
vault_get(int64_t action, const char *label, struct secret **ret)
{
	const char	*why;
	char		 path[4096];
	int		 r;

	if ((r = path_of(action, label, "", path, sizeof(path))) != 0)
		return r;
	return secret_read_file(path, ret, &why);
}

/*
 * The labels the vault holds for action id ("A<id>-<label>"), at most
 * VAULT_LABELS; the count, or -errno.
 */
int
vault_labels(int64_t id, char labels[VAULT_LABELS][VAULT_LABEL_MAX + 1])
{
	DIR		*d;
	struct dirent	*de;
	char		 pfx[32];
	size_t		 pl, nl;
	int		 n = 0;

	if (vdir == NULL)
		return -ENOENT;
	(void)snprintf(pfx, sizeof(pfx), "A%lld-", (long long)id);
	pl = strlen(pfx);
	if ((d = opendir(vdir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL && n < VAULT_LABELS) {
		if (strncmp(de->d_name, pfx, pl) != 0)
			continue;
		nl = strlen(de->d_name + pl);
		if (nl == 0 || nl > VAULT_LABEL_MAX ||
		    strchr(de->d_name + pl, '.') != NULL)
			continue;		/* a .tmp in progress */
		memcpy(labels[n++], de->d_name + pl, nl + 1);
	}
	(void)closedir(d);
	return n;
}

static const char	 def_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789-_.,:+=@%";

size_t
secret_alphabet_len(const char *alphabet)
{
	return strlen(alphabet ? alphabet : def_alphabet);
}

int
secret_random(size_t len, const char *alphabet, struct secret **ret)
{
	const char		*a = alphabet ? alphabet : def_alphabet;
	size_t			 n = strlen(a), i = 0, lim;
	unsigned char		 buf[256];
	struct secret		*s;
	ssize_t			 got;

	if (n < 2 || n > 256 || len == 0 || len > SECRET_MAX)
		return -EINVAL;
	/* Reject bytes past the largest multiple of n: no modulo bias. */
	lim = 256 - 256 % n;
	s = xcalloc(1, sizeof(*s));
	s->s = xmalloc(len + 1);
	s->len = len;
	while (i < len) {
		size_t k;

		if ((got = getrandom(buf, sizeof(buf), 0)) < 0) {
			if (errno == EINTR)
				continue;
			secret_free(s);
			explicit_bzero(buf, sizeof(buf));
			return -errno;
		}
		for (k = 0; k < (size_t)got && i < len; k++)
			if (buf[k] < lim)
				s->s[i++] = a[buf[k] % n];
	}
	s->s[len] = '\0';
	explicit_bzero(buf, sizeof(buf));
	*ret = s;
	return 0;
}
