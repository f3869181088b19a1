#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void	*p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t sz)
{
	void	*p;

	if (sz && n > SIZE_MAX / sz)
		fatalx("allocation overflow");
	if ((p = realloc(old, (n && sz) ? n * sz : 1)) == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("out of memory");
	return p;
}

void
freep(void *p)
{
	free(*(void **)p);
}

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

int
buf_add(struct buf *b, const void *d, size_t n)
{
	size_t	ncap;

	if (n > b->max || b->len > b->max - n)
		return -E2BIG;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		b->p = xreallocarray(b->p, ncap, 1);
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n, r;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("out of memory");
	r = buf_add(b, p, (size_t)n);
	free(p);
	return r;
}

char *
buf_steal(struct buf *b)
{
	char	*p = b->p ? b->p : xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
fmt_time(time_t t, char out[32])
{
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, 32, "invalid");
}

int
parse_time(const char *s, time_t *ret)
{
	static const char *fmts[] = {
		"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};
	struct tm	 tm, want;
	const char	*end;
	size_t		 i;
	time_t		 t;

	if (strcmp(s, "now") == 0) {
		*ret = time(NULL);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (end == NULL || *end != '\0')
			continue;
		want = tm;
		if ((t = timegm(&tm)) == (time_t)-1)
			return -EINVAL;
		/* timegm normalises Feb 30 to Mar 2: refuse what moved. */
		if (gmtime_r(&t, &tm) == NULL || tm.tm_mday != want.tm_mday ||
		    tm.tm_mon != want.tm_mon || tm.tm_year != want.tm_year ||
		    tm.tm_hour != want.tm_hour || tm.tm_min != want.tm_min ||
		    tm.tm_sec != want.tm_sec)
			return -EINVAL;
		*ret = t;
		return 0;
	}
	return -EINVAL;
}

int
parse_duration(const char *s, int64_t *ret)
{
	char		*end;
	long long	 v;
	int64_t		 mul;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case '\0': case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -EINVAL;
	}
	if (*end && end[1] != '\0')
		return -EINVAL;
	if (v > INT64_MAX / mul)
		return -ERANGE;
	*ret = v * mul;
	return 0;
}

double
now_mono(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
hex_encode(const void *data, size_t n, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*b = data;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One lowercase hex digit's value, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(const char *hex, size_t n, unsigned char *out, size_t max)
{
	size_t	i;
	int	hi, lo;

	if (n % 2 != 0 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n; i += 2) {
		hi = hexval(hex[i]);
		lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int
read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct buf	b;
	char		chunk[8192];
	ssize_t		n;
	int		fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((r = buf_add(&b, chunk, (size_t)n)) != 0)
			break;
	}
	(void)close(fd);
	if (r != 0) {
		buf_free(&b);
		return r;
	}
	if (ret_len)
		*ret_len = b.len;
	*ret = buf_steal(&b);
	return 0;
}

int
fd_write_all(int fd, const void *data, size_t n)
{
	const char	*p = data;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len,
    unsigned int mode)
{
	char	tmp[4096];
	int	fd, n, r;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) < 0)
		return -errno;
	if ((r = fd_write_all(fd, data, len)) != 0)
		goto fail;
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		r = -errno;
		(void)unlink(tmp);
		return r;
	}
	return 0;
fail:
	if (fd >= 0)
		(void)close(fd);
	(void)unlink(tmp);
	return r;
}
