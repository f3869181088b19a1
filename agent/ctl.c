#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

static int
fill_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s",
	    path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int
ctl_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r, probe;

	if ((r = fill_addr(&sun, path)) != 0)
		return r;
	/* A socket someone still answers on is another agent: keep off. */
	if ((probe = ctl_connect(path)) >= 0) {
		(void)close(probe);
		return -EADDRINUSE;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 64) != 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	return fd;
}

int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r;

	if ((r = fill_addr(&sun, path)) != 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	return fd;
}

int
ctl_peer_uid(int fd, uid_t *ret)
{
	struct ucred	cr;
	socklen_t	len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return -errno;
	*ret = cr.uid;
	return 0;
}

int
ctl_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ctl_send(int fd, const json_t *o)
{
	char	*s = json_dumps(o, JSON_COMPACT);
	int	 r;

	if (s == NULL)
		return -ENOMEM;
	if ((r = ctl_write_all(fd, s, strlen(s))) == 0)
		r = ctl_write_all(fd, "\n", 1);
	free(s);
	return r;
}

int
ctl_recv(int fd, size_t max, json_t **ret)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	struct buf	 b;
	json_error_t	 je;
	char		 chunk[65536], *nl;
	ssize_t		 n;
	int		 r = 0;

	buf_init(&b, max);
	for (;;) {
		if ((r = poll(&pfd, 1, CTL_TIMEOUT_MS)) <= 0) {
			r = r == 0 ? -ETIMEDOUT : -errno;
			if (r == -EINTR)
				continue;
			goto out;
		}
		/* Peek, then consume only up to the newline: what follows
		 * belongs to a stream the caller reads itself. */
		n = recv(fd, chunk, sizeof(chunk), MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0) {
			r = -ECONNRESET;
			goto out;
		}
		if ((nl = memchr(chunk, '\n', (size_t)n)) != NULL)
			n = nl - chunk + 1;
		if ((n = recv(fd, chunk, (size_t)n, 0)) <= 0) {
			r = n == 0 ? -ECONNRESET : -errno;
			goto out;
		}
		if ((r = buf_add(&b, chunk, (size_t)n)) != 0)
			goto out;
		if (nl != NULL) {
			b.p[b.len - 1] = '\0';
			break;
		}
	}
	if ((*ret = json_loads(b.p, 0, &je)) == NULL)
		r = -EBADMSG;
out:
	buf_free(&b);
	return r;
}
