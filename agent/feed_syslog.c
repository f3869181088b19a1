/*
 * feed_syslog: records as RFC 5424 syslog messages over UDP (RFC 5426,
 * one message per datagram) or TCP (RFC 6587 octet counting:
 * "LEN SP MSG", so a message may hold any byte).
 *
 * Settings: host (default "127.0.0.1"), port (514), transport "tcp"
 * (default) or "udp", format of MSG "jsonl" (default) or "cef",
 * facility (name, "authpriv"), severity (name, "notice": the least an
 * entry gets; refusals are at least "warning", failed or unknown
 * actions at least "err"), hostname (default: the host's name), app_name
 * ("cordon"), timeout (seconds for connect and send, 5), retry_max
 * (seconds, see feed.c).
 *
 * A message:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
 * TIMESTAMP is the entry's ts (checkpoint's at), PROCID the agent's pid,
 * MSGID the event name (or "journal" when it is not a valid MSGID) or
 * "checkpoint".  SD is one element, cordon@32473 (32473 is the private
 * enterprise number RFC 5612 reserves for documentation: cordon has none
 * of its own), with seq, event, incident, actor and hash for an entry,
 * checkpoint, customer, size and head for a checkpoint.  MSG is the
 * record's JSON line or CEF line, ASCII for jsonl (no BOM).
 *
 * Plain syslog has no acknowledgement: a batch counts as delivered once
 * the kernel took it.  Before each TCP batch the connection is checked
 * for a close by the receiver (a syslog receiver never writes), so a
 * receiver that restarted between batches gets a new connection rather
 * than a write into a dead one.  A receiver that dies while a batch is
 * in flight can still lose that batch; RELP would be needed to close
 * that gap.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "feed.h"

#define SYSLOG_BATCH		100
#define SYSLOG_MSG_MAX		(1024 * 1024)	/* one message, TCP */
#define SYSLOG_UDP_MAX		65000		/* one datagram */
#define SYSLOG_BUF_MAX		(8 * 1024 * 1024)	/* one TCP batch */
#define SYSLOG_SD_ID		"cordon@32473"
#define SYSLOG_NIL		"-"

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6",
	"local7",
};
static const char *const severities[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

struct fsys {
	struct feed_syslog_hdr	 h;
	char			 hostname[256];
	char			 app_name[49];
	char			 procid[24];
	char			*host;
	char			 port[8];
	int			 tcp;
	int			 timeout_ms;
	int			 fd;
};

static int
name_index(const char *const *names, size_t n, const char *v)
{
	size_t	i;

	for (i = 0; v != NULL && i < n; i++)
		if (strcmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

/* PRINTUSASCII (33..126), 1..max characters. */
static int
printusascii(const char *s, size_t max)
{
	size_t	n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] < 33 || (unsigned char)s[n] > 126)
			return 0;
	return n >= 1 && n <= max;
}

static int
fsys_check(const json_t *opts, char *err, size_t len)
{
	static const char *const keys[] = { "type", "host", "port",
	    "transport", "format", "facility", "severity", "hostname",
	    "app_name", "timeout", "retry_max",
	    NULL };
	const char	*t = feed_opt_str(opts, "transport");
	const char	*v;

	if (feed_opt_only(opts, keys, err, len) != 0)
		return -EINVAL;
	if (json_object_get(opts, "host") != NULL &&
	    ((v = feed_opt_str(opts, "host")) == NULL || v[0] == '\0')) {
		(void)snprintf(err, len, "'host' must be a host name or "
		    "address");
		return -EINVAL;
	}
	if (feed_opt_int(opts, "port", 514, 1, 65535) < 0) {
		(void)snprintf(err, len, "'port' must be between 1 and 65535");
		return -EINVAL;
	}
	if (json_object_get(opts, "transport") != NULL && (t == NULL ||
	    (strcmp(t, "tcp") != 0 && strcmp(t, "udp") != 0))) {
		(void)snprintf(err, len, "'transport' must be \"tcp\" or "
		    "\"udp\"");
		return -EINVAL;
	}
	if (feed_opt_format(opts) < 0) {
		(void)snprintf(err, len, "'format' must be \"jsonl\" or "
		    "\"cef\"");
		return -EINVAL;
	}
	if (json_object_get(opts, "facility") != NULL &&
	    name_index(facilities, ARRAY_SIZE(facilities),
	    feed_opt_str(opts, "facility")) < 0) {
		(void)snprintf(err, len, "unknown 'facility' (kern, user, "
		    "daemon, auth, authpriv, local0 ... local7, ...)");
		return -EINVAL;
	}
	if (json_object_get(opts, "severity") != NULL &&
	    name_index(severities, ARRAY_SIZE(severities),
	    feed_opt_str(opts, "severity")) < 0) {
		(void)snprintf(err, len, "unknown 'severity' (emerg, alert, "
		    "crit, err, warning, notice, info, debug)");
		return -EINVAL;
	}
	if (json_object_get(opts, "hostname") != NULL &&
	    ((v = feed_opt_str(opts, "hostname")) == NULL ||
	    !printusascii(v, 255))) {
		(void)snprintf(err, len, "'hostname' must be 1 to 255 "
		    "printable ASCII characters, no space");
		return -EINVAL;
	}
	if (json_object_get(opts, "app_name") != NULL &&
	    ((v = feed_opt_str(opts, "app_name")) == NULL ||
	    !printusascii(v, 48))) {
		(void)snprintf(err, len, "'app_name' must be 1 to 48 "
		    "printable ASCII characters, no space");
		return -EINVAL;
	}
	if (feed_opt_int(opts, "timeout", 5, 1, 300) < 0) {
		(void)snprintf(err, len, "'timeout' must be between 1 and "
		    "300 seconds");
		return -EINVAL;
	}
	return 0;
}

static int
fsys_key(const json_t *opts, char *out, size_t len)
{
	const char	*t = feed_opt_str(opts, "transport");
	const char	*h = feed_opt_str(opts, "host");
	int		 n;

	n = snprintf(out, len, "syslog:%s:%s:%lld", t ? t : "tcp",
	    h ? h : "127.0.0.1",
	    (long long)feed_opt_int(opts, "port", 514, 1, 65535));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static size_t
fsys_batch(const json_t *opts)
{
	(void)opts;
	return SYSLOG_BATCH;
}

int
feed_sd_value(struct buf *b, const char *s)
{
	int	r;

	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == ']')
			r = buf_addc(b, '\\');
		else
			r = 0;
		if (r != 0 || (r = buf_addc(b, *s)) != 0)
			return r;
	}
	return 0;
}

static int
sd_param(struct buf *b, const char *name, const char *value)
{
	int	r;

	if (value == NULL)
		return 0;
	if ((r = buf_printf(b, " %s=\"", name)) != 0 ||
	    (r = feed_sd_value(b, value)) != 0)
		return r;
	return buf_addc(b, '"');
}

static const char *
ostr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int
feed_syslog_msg(struct buf *b, const struct feed_syslog_hdr *h,
    const struct feed_rec *rec)
{
	const json_t	*o = rec->obj;
	const char	*ev = ostr(o, "event"), *to;
	char		 ts[32], num[32], size[32];
	int		 sev = h->severity, r;

	if (rec->kind == FEED_ENTRY) {
		to = json_string_value(json_object_get(json_object_get(o,
		    "payload"), "to"));
		if (ev != NULL && strcmp(ev, "refused") == 0 && sev > 4)
			sev = 4;
		else if (to != NULL && (strcmp(to, "failed") == 0 ||
		    strcmp(to, "unknown") == 0) && sev > 3)
			sev = 3;
	}
	fmt_time(rec->t, ts);
	if ((r = buf_printf(b, "<%d>1 %s %s %s %s %s [" SYSLOG_SD_ID,
	    h->facility * 8 + sev, ts, h->hostname, h->app_name, h->procid,
	    rec->kind == FEED_CHECKPOINT ? "checkpoint" :
	    ev != NULL && printusascii(ev, 32) ? ev : "journal")) != 0)
		return r;
	(void)snprintf(num, sizeof(num), "%lld", (long long)rec->id);
	if (rec->kind == FEED_CHECKPOINT) {
		(void)snprintf(size, sizeof(size), "%lld", (long long)
		    json_integer_value(json_object_get(o, "size")));
		if ((r = sd_param(b, "checkpoint", num)) != 0 ||
		    (r = sd_param(b, "customer", ostr(o, "customer"))) != 0 ||
		    (r = sd_param(b, "size", size)) != 0 ||
		    (r = sd_param(b, "head", ostr(o, "head"))) != 0)
			return r;
	} else if ((r = sd_param(b, "seq", num)) != 0 ||
	    (r = sd_param(b, "event", ev)) != 0 ||
	    (r = sd_param(b, "incident", ostr(o, "incident"))) != 0 ||
	    (r = sd_param(b, "actor", ostr(o, "actor"))) != 0 ||
	    (r = sd_param(b, "hash", ostr(o, "hash"))) != 0)
		return r;
	if ((r = buf_adds(b, "] ")) != 0)
		return r;
	return h->format == 1 ? feed_line_cef(b, rec) : feed_line_json(b, rec);
}

static void
fsys_close(void *p)
{
	struct fsys	*s = p;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		(void)close(s->fd);
	free(s->host);
	free(s);
}

/* Connects (TCP within the timeout); 0 or -errno, s->fd set. */
static int
fsys_connect(struct fsys *s)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	struct pollfd	 pfd;
	struct timeval	 tv;
	socklen_t	 sl;
	int		 fd = -1, r = -EHOSTUNREACH, e, fl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = s->tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(s->host, s->port, &hints, &res)) != 0)
		return e == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol)) < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		r = -errno;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			sl = sizeof(e);
			if (poll(&pfd, 1, s->timeout_ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0) {
				if (e == 0)
					break;
				r = -e;
			} else
				r = -ETIMEDOUT;
		}
		(void)close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return r;
	/* Blocking from here on, each send bounded by the timeout. */
	tv.tv_sec = s->timeout_ms / 1000;
	tv.tv_usec = 0;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	s->fd = fd;
	return 0;
}

static int
fsys_open(const json_t *opts, void **ret, char *err, size_t len)
{
	struct fsys	*s = xcalloc(1, sizeof(*s));
	const char	*v;
	int		 r;

	s->fd = -1;
	s->h.facility = name_index(facilities, ARRAY_SIZE(facilities),
	    (v = feed_opt_str(opts, "facility")) ? v : "authpriv");
	s->h.severity = name_index(severities, ARRAY_SIZE(severities),
	    (v = feed_opt_str(opts, "severity")) ? v : "notice");
	s->h.format = feed_opt_format(opts);
	if ((v = feed_opt_str(opts, "hostname")) != NULL)
		(void)snprintf(s->hostname, sizeof(s->hostname), "%s", v);
	else if (gethostname(s->hostname, sizeof(s->hostname) - 1) != 0 ||
	    !printusascii(s->hostname, 255))
		(void)snprintf(s->hostname, sizeof(s->hostname), SYSLOG_NIL);
	(void)snprintf(s->app_name, sizeof(s->app_name), "%s",
	    (v = feed_opt_str(opts, "app_name")) ? v : "cordon");
	(void)snprintf(s->procid, sizeof(s->procid), "%ld", (long)getpid());
	s->h.hostname = s->hostname;
	s->h.app_name = s->app_name;
	s->h.procid = s->procid;
	s->host = xstrdup((v = feed_opt_str(opts, "host")) ? v : "127.0.0.1");
	(void)snprintf(s->port, sizeof(s->port), "%lld",
	    (long long)feed_opt_int(opts, "port", 514, 1, 65535));
	s->tcp = (v = feed_opt_str(opts, "transport")) == NULL ||
	    strcmp(v, "tcp") == 0;
	s->timeout_ms = (int)feed_opt_int(opts, "timeout", 5, 1, 300) * 1000;
	if ((r = fsys_connect(s)) != 0) {
		(void)snprintf(err, len, "cannot connect to %s port %s: %s",
		    s->host, s->port, strerror(-r));
		fsys_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* 1 when the receiver closed the TCP connection (it never writes). */
static int
peer_closed(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char		c;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return 1;
	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* m: rec's stand-in (feed_rec_cut), when rec does not fit one message. */
static int
cut_msg(struct fsys *s, struct buf *m, const struct feed_rec *rec)
{
	struct feed_rec	cut;
	int		r;

	if ((r = feed_rec_cut(rec, &cut)) != 0)
		return r;
	m->len = 0;
	r = feed_syslog_msg(m, &s->h, &cut);
	json_decref(cut.obj);
	return r;
}

static int
fsys_send(void *p, const struct feed_rec *recs, size_t n, size_t *ret_sent,
    char *err, size_t len)
{
	struct fsys	*s = p;
	struct buf	 b, m;
	char		 warn[FEED_ERR_MAX] = "";
	size_t		 i, keep = 0;
	int		 r = 0;

	if (s->tcp && peer_closed(s->fd)) {
		(void)close(s->fd);
		s->fd = -1;
		if ((r = fsys_connect(s)) != 0) {
			(void)snprintf(err, len, "cannot connect again to %s "
			    "port %s: %s", s->host, s->port, strerror(-r));
			return r;
		}
	}
	buf_init(&b, SYSLOG_BUF_MAX);
	buf_init(&m, s->tcp ? SYSLOG_MSG_MAX : SYSLOG_UDP_MAX);
	for (i = 0; i < n; i++) {
		keep = b.len;
		m.len = 0;
		if ((r = feed_syslog_msg(&m, &s->h, &recs[i])) == -E2BIG &&
		    (r = cut_msg(s, &m, &recs[i])) == 0)
			(void)snprintf(warn, sizeof(warn), "record %lld does "
			    "not fit in one %s message: sent cut down",
			    (long long)recs[i].id, s->tcp ? "syslog" : "UDP");
		if (r != 0) {
			(void)snprintf(err, len, "record %lld: %s",
			    (long long)recs[i].id, strerror(-r));
			break;
		}
		if (!s->tcp) {
			if ((r = send_all(s->fd, m.p, m.len)) != 0)
				break;
			continue;
		}
		keep = b.len;
		if ((r = buf_printf(&b, "%zu ", m.len)) != 0 ||
		    (r = buf_add(&b, m.p, m.len)) != 0)
			break;
	}
	if (r != 0 && i > 0) {
		/* Full, or a datagram failed: what went is delivered. */
		b.len = keep;
		r = 0;
	}
	if (r == 0 && s->tcp)
		r = send_all(s->fd, b.p, b.len);
	if (r != 0 && err[0] == '\0')
		(void)snprintf(err, len, "cannot send to %s port %s: %s",
		    s->host, s->port, strerror(-r));
	if (r == 0) {
		*ret_sent = i;
		(void)snprintf(err, len, "%s", warn);
	}
	buf_free(&m);
	buf_free(&b);
	return r;
}

const struct feed_sink feed_syslog_sink = {
	.type = "syslog",
	.checkpoints = 1,
	.check = fsys_check,
	.key = fsys_key,
	.batch = fsys_batch,
	.open = fsys_open,
	.send = fsys_send,
	.close = fsys_close,
};
