/*
 * feed_hec: records POSTed to a Splunk HTTP Event Collector
 * (POST /services/collector/event, "Authorization: Splunk TOKEN").
 *
 * Settings: url (https only, e.g.
 * "https://siem.example:8088/services/collector/event"), token_file (the
 * HEC token, a 0600 file; it goes into the header and nowhere else),
 * ca_file (PEM; default: the system's CAs), batch (events per POST, 100),
 * timeout (seconds per POST, 10), index, source ("cordon"), host
 * (default: the host's name), retry_max (seconds, see feed.c).
 * sourcetype is "cordon:journal" or "cordon:checkpoint".
 *
 * One POST carries a batch as concatenated event objects
 *   {"time": EPOCH, "host": H, "source": S, "sourcetype": T,
 *    ["index": I,] "event": RECORD}
 * and counts as delivered only when the collector answers 200 with
 * {"code": 0} (HEC's "Success").  Anything else (an error code, 429 or
 * 503 busy, a TLS or connection failure, a timeout) leaves the position
 * where it was; feed.c retries with backoff.  The collector's answer text
 * goes into the error message, never the token.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "feed.h"
#include "secret.h"

#define HEC_BATCH	100
#define HEC_BATCH_MAX	1000
#define HEC_BODY_MAX	(16 * 1024 * 1024)	/* one POST */
#define HEC_REPLY_MAX	(64 * 1024)

struct fhec {
	CURL			*curl;
	struct curl_slist	*hdrs;	/* holds the token: wiped on free */
	char			*url;
	char			*ca_file;
	char			*index;
	char			*source;
	char			 host[256];
	long			 timeout_s;
	struct buf		 reply;
};

static int
fhec_check(const json_t *opts, char *err, size_t len)
{
	static const char *const keys[] = { "type", "url", "token_file",
	    "ca_file", "batch", "timeout", "index", "source", "host",
	    "retry_max", NULL };
	static const char *const strs[] = { "index", "source", "host",
	    "ca_file", NULL };
	const char	*u = feed_opt_str(opts, "url");
	const char	*t = feed_opt_str(opts, "token_file");
	size_t		 i;

	if (feed_opt_only(opts, keys, err, len) != 0)
		return -EINVAL;
	if (u == NULL || strncmp(u, "https://", 8) != 0 || u[8] == '\0' ||
	    strpbrk(u, " \t\r\n") != NULL) {
		(void)snprintf(err, len, "'url' must be an https:// URL");
		return -EINVAL;
	}
	/* The URL goes into logs and errors: no credentials in it. */
	if (memchr(u + 8, '@', strcspn(u + 8, "/?#")) != NULL) {
		(void)snprintf(err, len, "'url' must not hold a user name or "
		    "password (user:pass@); the token goes in token_file");
		return -EINVAL;
	}
	if (t == NULL || t[0] != '/') {
		(void)snprintf(err, len, "'token_file' must be an absolute "
		    "path");
		return -EINVAL;
	}
	for (i = 0; strs[i] != NULL; i++)
		if (json_object_get(opts, strs[i]) != NULL &&
		    feed_opt_str(opts, strs[i]) == NULL) {
			(void)snprintf(err, len, "'%s' must be a string",
			    strs[i]);
			return -EINVAL;
		}
	if (feed_opt_int(opts, "batch", HEC_BATCH, 1, HEC_BATCH_MAX) < 0) {
		(void)snprintf(err, len, "'batch' must be between 1 and %d",
		    HEC_BATCH_MAX);
		return -EINVAL;
	}
	if (feed_opt_int(opts, "timeout", 10, 1, 300) < 0) {
		(void)snprintf(err, len, "'timeout' must be between 1 and "
		    "300 seconds");
		return -EINVAL;
	}
	return 0;
}

static int
fhec_key(const json_t *opts, char *out, size_t len)
{
	int	n = snprintf(out, len, "hec:%s", feed_opt_str(opts, "url"));

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static size_t
fhec_batch(const json_t *opts)
{
	return (size_t)feed_opt_int(opts, "batch", HEC_BATCH, 1,
	    HEC_BATCH_MAX);
}

static void
fhec_close(void *p)
{
	struct fhec		*h = p;
	struct curl_slist	*l;

	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	for (l = h->hdrs; l != NULL; l = l->next)
		if (l->data != NULL)
			explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h->hdrs);
	free(h->url);
	free(h->ca_file);
	free(h->index);
	free(h->source);
	buf_free(&h->reply);
	free(h);
}

static size_t
on_reply(char *p, size_t sz, size_t n, void *arg)
{
	struct fhec	*h = arg;

	/* Past the limit curl gets a short count and fails the transfer. */
	if (buf_add(&h->reply, p, sz * n) != 0)
		return 0;
	return sz * n;
}

/*
 * Appends a header line.  On failure curl leaves the list as it was:
 * keep it, so that close still wipes the token in it.
 */
static int
hdr_add(struct fhec *h, const char *line)
{
	struct curl_slist	*l = curl_slist_append(h->hdrs, line);

	if (l == NULL)
		return -ENOMEM;
	h->hdrs = l;
	return 0;
}

/* The Authorization header; the token must be one header-safe word. */
static int
auth_header(struct fhec *h, const struct secret *tok)
{
	struct buf	 b;
	size_t		 i;
	int		 r;

	for (i = 0; i < tok->len; i++)
		if ((unsigned char)tok->s[i] <= 32 ||
		    (unsigned char)tok->s[i] >= 127)
			return -EINVAL;
	if (tok->len == 0)
		return -EINVAL;
	buf_init(&b, SECRET_MAX + 64);
	if ((r = buf_adds(&b, "Authorization: Splunk ")) == 0 &&
	    (r = buf_add(&b, tok->s, tok->len)) == 0)
		r = hdr_add(h, b.p);
	explicit_bzero(b.p, b.len);
	buf_free(&b);
	return r;
}

static int
fhec_open(const json_t *opts, void **ret, char *err, size_t len)
{
	struct fhec	*h = xcalloc(1, sizeof(*h));
	struct secret	*tok = NULL;
	const char	*why = NULL, *v;
	int		 r;

	/* curl_global_init: the agent's, before any sender thread ran. */
	buf_init(&h->reply, HEC_REPLY_MAX);
	h->url = xstrdup(feed_opt_str(opts, "url"));
	if ((v = feed_opt_str(opts, "ca_file")) != NULL)
		h->ca_file = xstrdup(v);
	if ((v = feed_opt_str(opts, "index")) != NULL)
		h->index = xstrdup(v);
	h->source = xstrdup((v = feed_opt_str(opts, "source")) ? v :
	    "cordon");
	if ((v = feed_opt_str(opts, "host")) != NULL)
		(void)snprintf(h->host, sizeof(h->host), "%s", v);
	else if (gethostname(h->host, sizeof(h->host) - 1) != 0)
		(void)snprintf(h->host, sizeof(h->host), "cordon");
	h->timeout_s = (long)feed_opt_int(opts, "timeout", 10, 1, 300);
	if ((r = secret_read_file(feed_opt_str(opts, "token_file"), &tok,
	    &why)) != 0) {
		(void)snprintf(err, len, "token_file '%s': %s",
		    feed_opt_str(opts, "token_file"), why ? why :
		    strerror(-r));
		goto out;
	}
	if ((r = auth_header(h, tok)) != 0) {
		(void)snprintf(err, len, "token_file '%s': %s",
		    feed_opt_str(opts, "token_file"), r == -EINVAL ?
		    "empty, or holds a space or control character" :
		    strerror(-r));
		goto out;
	}
	if (hdr_add(h, "Content-Type: application/json") != 0 ||
	    hdr_add(h, "Expect:") != 0 ||
	    (h->curl = curl_easy_init()) == NULL) {
		r = -ENOMEM;
		(void)snprintf(err, len, "cannot set up curl");
		goto out;
	}
	if (curl_easy_setopt(h->curl, CURLOPT_URL, h->url) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (h->ca_file != NULL && curl_easy_setopt(h->curl, CURLOPT_CAINFO,
	    h->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->timeout_s) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, h->timeout_s) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "cordon") !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_reply) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h) != CURLE_OK) {
		r = -EINVAL;
		(void)snprintf(err, len, "cannot set up curl");
		goto out;
	}
	*ret = h;
	h = NULL;
out:
	secret_free(tok);
	fhec_close(h);
	return r;
}

/* One event object: the HEC envelope around the record. */
static int
add_event(struct buf *b, const struct fhec *h, const struct feed_rec *rec)
{
	json_t	*ev;
	char	*s;
	int	 r;

	ev = json_pack("{s:I,s:s,s:s,s:s,s:O}", "time", (json_int_t)rec->t,
	    "host", h->host, "source", h->source, "sourcetype",
	    rec->kind == FEED_CHECKPOINT ? "cordon:checkpoint" :
	    "cordon:journal", "event", rec->obj);
	if (ev == NULL)
		return -EINVAL;
	if (h->index != NULL && json_object_set_new(ev, "index",
	    json_string(h->index)) != 0) {
		json_decref(ev);
		return -EINVAL;
	}
	s = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(ev);
	if (s == NULL)
		return -EINVAL;
	if ((r = buf_adds(b, s)) == 0)
		r = buf_addc(b, '\n');
	free(s);
	return r;
}

/* rec's stand-in (feed_rec_cut), when rec does not fit one request. */
static int
cut_event(struct buf *b, const struct fhec *h, const struct feed_rec *rec)
{
	struct feed_rec	cut;
	int		r;

	if ((r = feed_rec_cut(rec, &cut)) != 0)
		return r;
	r = add_event(b, h, &cut);
	json_decref(cut.obj);
	return r;
}

/* The collector's answer for an error message: text and code, bounded. */
static void
reply_why(const struct fhec *h, long status, char *err, size_t len)
{
	json_t		*j = json_loadb(h->reply.p, h->reply.len, 0, NULL);
	const char	*t = json_string_value(json_object_get(j, "text"));
	char		 safe[128];
	size_t		 i;

	(void)snprintf(safe, sizeof(safe), "%s", t ? t : "no HEC answer");
	for (i = 0; safe[i]; i++)
		if ((unsigned char)safe[i] < 32 || safe[i] == '\'')
			safe[i] = '?';
	(void)snprintf(err, len, "%s: HTTP %ld, code %lld, '%s'", h->url,
	    status, (long long)json_integer_value(json_object_get(j, "code")),
	    safe);
	json_decref(j);
}

static int
fhec_send(void *p, const struct feed_rec *recs, size_t n, size_t *ret_sent,
    char *err, size_t len)
{
	struct fhec	*h = p;
	struct buf	 b;
	json_t		*j = NULL;
	char		 warn[FEED_ERR_MAX] = "";
	long		 status = 0;
	size_t		 i, keep;
	CURLcode	 cc;
	int		 r = 0;

	buf_init(&b, HEC_BODY_MAX);
	for (i = 0; i < n; i++) {
		keep = b.len;
		if ((r = add_event(&b, h, &recs[i])) != 0) {
			if (r == -E2BIG && i > 0) {
				b.len = keep;	/* the rest next time */
				r = 0;
				break;
			}
			/* Too big on its own: retried, it would stall all. */
			if (r == -E2BIG && (b.len = keep,
			    r = cut_event(&b, h, &recs[i])) == 0) {
				(void)snprintf(warn, sizeof(warn), "record %lld "
				    "does not fit in one HEC request: sent cut "
				    "down", (long long)recs[i].id);
				continue;
			}
			(void)snprintf(err, len, "record %lld: %s",
			    (long long)recs[i].id, strerror(-r));
			goto out;
		}
	}
	h->reply.len = 0;
	if (curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, b.p) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)b.len) != CURLE_OK) {
		r = -EINVAL;
		(void)snprintf(err, len, "cannot set up curl");
		goto out;
	}
	if ((cc = curl_easy_perform(h->curl)) != CURLE_OK) {
		r = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		(void)snprintf(err, len, "%s: %s", h->url,
		    curl_easy_strerror(cc));
		goto out;
	}
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	j = json_loadb(h->reply.p, h->reply.len, 0, NULL);
	if (status != 200 || !json_is_integer(json_object_get(j, "code")) ||
	    json_integer_value(json_object_get(j, "code")) != 0) {
		r = status == 429 || status >= 500 ? -EAGAIN : -EPROTO;
		reply_why(h, status, err, len);
		goto out;
	}
	*ret_sent = i;
	(void)snprintf(err, len, "%s", warn);
out:
	json_decref(j);
	buf_free(&b);
	return r;
}

const struct feed_sink feed_hec_sink = {
	.type = "hec",
	.checkpoints = 1,
	.check = fhec_check,
	.key = fhec_key,
	.batch = fhec_batch,
	.open = fhec_open,
	.send = fhec_send,
	.close = fhec_close,
};
