/*
 * util: allocation that never returns NULL, bounded growable buffers,
 * time helpers, lowercase hex.
 *
 * Running out of memory is fatal by design: the journal is written before
 * every side effect, so dying is always safe, and callers never carry
 * half-handled ENOMEM paths.
 */
#ifndef CORDON_UTIL_H
#define CORDON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CLEANUP(f) __attribute__((cleanup(f)))
#define WARN_UNUSED __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 freep(void *);		/* for CLEANUP(freep) on any pointer */

/*
 * A growable byte buffer that refuses to grow past max: every buffer fed by
 * outside input has a named limit.  Always NUL-terminated.
 */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};
void	buf_init(struct buf *, size_t max);
int	buf_add(struct buf *, const void *, size_t) WARN_UNUSED; /* -E2BIG */
int	buf_addc(struct buf *, char) WARN_UNUSED;
int	buf_adds(struct buf *, const char *) WARN_UNUSED;
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3))) WARN_UNUSED;
char	*buf_steal(struct buf *);	/* caller frees; buffer is reset */
void	buf_free(struct buf *);

/* UTC RFC 3339 with seconds: "2026-11-26T06:36:41Z". */
void	fmt_time(time_t, char out[32]);
/* Parses RFC 3339 UTC ("...Z"), "YYYY-MM-DD HH:MM", or "now". */
int	parse_time(const char *, time_t *ret) WARN_UNUSED;
/* Durations like "90s", "15m", "4h", "2d". */
int	parse_duration(const char *, int64_t *ret_seconds) WARN_UNUSED;
double	now_mono(void);

/* out receives 2n lowercase hex digits and a NUL. */
void	hex_encode(const void *, size_t n, char *out);
/*
 * len lowercase hex digits into at most max bytes of out: the byte count,
 * or -EINVAL (odd length, too long, not lowercase hex).
 */
int	hex_decode(const char *, size_t len, unsigned char *out, size_t max)
	    WARN_UNUSED;

/* Reads a whole file up to max bytes; -E2BIG past it. */
int	read_file(const char *path, size_t max, char **ret, size_t *ret_len)
	    WARN_UNUSED;

/* write(2) until all n bytes are out (EINTR retried): files and pipes;
 * ctl_write_all is for sockets.  0 or -errno. */
int	fd_write_all(int fd, const void *, size_t n) WARN_UNUSED;

/*
 * Writes path whole or not at all: PATH.tmp (created, never followed),
 * written, given mode, fsync'd, renamed over path.  0 or -errno.
 */
int	write_file_atomic(const char *path, const void *, size_t,
	    unsigned int mode) WARN_UNUSED;

#endif
