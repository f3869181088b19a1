/*
 * feed_file: journal entries appended to a file a SIEM tails (Wazuh
 * `json` localfile, or any CEF reader).
 *
 * Settings: path (absolute), format "jsonl" (default) or "cef",
 * retry_max (seconds, see feed.c).
 * A batch is written whole and fdatasync()ed before it counts as
 * delivered; a failed write is cut back to the size the file had before
 * it, so the file never holds half a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed.h"
#include "log.h"

#define FEED_FILE_BATCH		1000			/* lines per write */
#define FEED_FILE_BUF_MAX	(32 * 1024 * 1024)	/* bytes per write */

struct ffile {
	char	*path;
	int	 format;
};

static int
ffile_check(const json_t *opts, char *err, size_t len)
{
	static const char *const keys[] = { "type", "path", "format",
	    "retry_max", NULL };
	const char	*p = feed_opt_str(opts, "path");

	if (feed_opt_only(opts, keys, err, len) != 0)
		return -EINVAL;
	if (p == NULL || p[0] != '/') {
		(void)snprintf(err, len, "'path' must be an absolute path");
		return -EINVAL;
	}
	if (feed_opt_format(opts) < 0) {
		(void)snprintf(err, len, "'format' must be \"jsonl\" or "
		    "\"cef\"");
		return -EINVAL;
	}
	return 0;
}

/* "jsonl:PATH": what the single-file feed of earlier versions used. */
static int
ffile_key(const json_t *opts, char *out, size_t len)
{
	int	n = snprintf(out, len, "%s:%s", feed_opt_format(opts) == 1 ?
	    "cef" : "jsonl", feed_opt_str(opts, "path"));

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static size_t
ffile_batch(const json_t *opts)
{
	(void)opts;
	return FEED_FILE_BATCH;
}

static int
ffile_open(const json_t *opts, void **ret, char *err, size_t len)
{
	struct ffile	*f = xcalloc(1, sizeof(*f));

	(void)err;
	(void)len;
	f->path = xstrdup(feed_opt_str(opts, "path"));
	f->format = feed_opt_format(opts);
	*ret = f;
	return 0;
}

static void
ffile_close(void *p)
{
	struct ffile	*f = p;

	if (f == NULL)
		return;
	free(f->path);
	free(f);
}

static int
ffile_send(void *p, const struct feed_rec *recs, size_t n, size_t *ret_sent,
    char *err, size_t len)
{
	struct ffile	*f = p;
	struct buf	 b;
	struct stat	 sb;
	size_t		 i, keep;
	int		 fd = -1, r = 0;

	buf_init(&b, FEED_FILE_BUF_MAX);
	for (i = 0; i < n; i++) {
		keep = b.len;
		r = f->format == 1 ? feed_line_cef(&b, &recs[i]) :
		    feed_line_json(&b, &recs[i]);
		if (r == 0)
			r = buf_addc(&b, '\n');
		if (r == -E2BIG && i > 0) {
			/* Full: the rest goes in the next write. */
			b.len = keep;
			b.p[keep] = '\0';
			r = 0;
			break;
		}
		if (r != 0)
			break;
	}
	if (r != 0) {
		(void)snprintf(err, len, "cannot format entry %lld: %s",
		    (long long)recs[i].id, strerror(-r));
		goto out;
	}
	if ((fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(fd, &sb) != 0)
		r = -errno;
	else if (!S_ISREG(sb.st_mode))
		r = -EINVAL;
	else if ((r = fd_write_all(fd, b.p, b.len)) == 0 && fdatasync(fd) != 0)
		r = -errno;
	if (r != 0 && r != -EINVAL && ftruncate(fd, sb.st_size) != 0)
		log_warn("%s: cannot cut '%s' back after a failed write",
		    __func__, f->path);
	if (r == 0)
		*ret_sent = i;
fail:
	if (r != 0)
		(void)snprintf(err, len, "'%s': %s", f->path, r == -EINVAL ?
		    "not a regular file" : strerror(-r));
out:
	if (fd >= 0)
		(void)close(fd);
	buf_free(&b);
	return r;
}

const struct feed_sink feed_file_sink = {
	.type = "file",
	.checkpoints = 0,
	.check = ffile_check,
	.key = ffile_key,
	.batch = ffile_batch,
	.open = ffile_open,
	.send = ffile_send,
	.close = ffile_close,
};
