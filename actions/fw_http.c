/*
 * fw_http: profile steps over HTTPS with curl multi (see fw_http.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "../agent/cli.h"
#include "../agent/esc.h"
#include "../agent/log.h"
#include "fw_expr.h"
#include "fw_http.h"

#define FW_CONNECT_TIMEOUT_S	10
/* product/version (RFC 9110 10.1.5): CrowdSec's LAPI refuses a login
 * whose User-Agent is not exactly "name/version". */
#define FW_USER_AGENT		"cordon/" CORDON_VERSION

struct fw_http {
	const struct fw_profile	*prof;
	CURLM			*multi;
	char			*ca_file;
	int			 max_parallel;
	long			 timeout_s;
	struct secret		*key, *secret;
	struct secret		*alt;		/* alt_auth's credential */
	char			*token;		/* OAuth2 / login token */
	size_t			 token_len;
	double			 token_exp;	/* now_mono() deadline */
	char			 token_err[FW_MSG_MAX];
	int			 inflight;
	char			*cache_key;
};

/*
 * OAuth2 tokens outlive a batch: one cached per target (cache key), handed
 * to the next handle of that target until it expires or a 401 drops it.
 */
#define FW_TOKEN_CACHE	32

struct token_slot {
	char	*key;
	char	*token;
	size_t	 len;
	double	 exp;
};

static struct token_slot token_cache[FW_TOKEN_CACHE];

static struct token_slot *
token_slot(const char *key, int create)
{
	size_t	i;

	for (i = 0; i < FW_TOKEN_CACHE; i++)
		if (token_cache[i].key && strcmp(token_cache[i].key, key) == 0)
			return &token_cache[i];
	if (!create)
		return NULL;
	for (i = 0; i < FW_TOKEN_CACHE; i++)
		if (token_cache[i].key == NULL) {
			token_cache[i].key = xstrdup(key);
			return &token_cache[i];
		}
	return NULL;
}

static void
slot_clear(struct token_slot *t)
{
	if (t->token) {
		explicit_bzero(t->token, t->len);
		free(t->token);
	}
	t->token = NULL;
	t->len = 0;
	t->exp = 0;
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Header lists may carry a credential: wipe before freeing. */
static void
slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist	*p;

	for (p = l; p; p = p->next)
		if (p->data)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static void
token_drop(struct fw_http *h)
{
	if (h->token) {
		explicit_bzero(h->token, h->token_len);
		free(h->token);
	}
	h->token = NULL;
	h->token_len = 0;
	h->token_exp = 0;
}

struct fw_http *
fw_http_new(const struct fw_profile *prof, const char *cache_key,
    const char *ca_file, int max_parallel, long timeout_s,
    struct secret *key, struct secret *secret)
{
	struct fw_http		*h = xcalloc(1, sizeof(*h));
	struct token_slot	*t;
	static int		 inited;

	if (!inited) {
		(void)curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	h->prof = prof;
	h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	h->max_parallel = max_parallel < 1 ? 1 :
	    max_parallel > FW_PARALLEL_MAX ? FW_PARALLEL_MAX : max_parallel;
	h->timeout_s = timeout_s > 0 ? timeout_s : 30;
	h->key = key;
	h->secret = secret;
	h->cache_key = xstrdup(cache_key);
	if ((t = token_slot(cache_key, 0)) != NULL && t->token &&
	    now_mono() < t->exp) {
		h->token = t->token;
		h->token_len = t->len;
		h->token_exp = t->exp;
		t->token = NULL;
		slot_clear(t);
	}
	if ((h->multi = curl_multi_init()) == NULL)
		fatalx("%s: out of memory", __func__);
	(void)curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)h->max_parallel);
	(void)curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
	    (long)h->max_parallel);
	return h;
}

void
fw_http_free(struct fw_http *h)
{
	struct token_slot	*t;

	if (h == NULL)
		return;
	if (h->token && (t = token_slot(h->cache_key, 1)) != NULL) {
		slot_clear(t);
		t->token = h->token;
		t->len = h->token_len;
		t->exp = h->token_exp;
		h->token = NULL;
	}
	free(h->cache_key);
	token_drop(h);
	if (h->multi)
		(void)curl_multi_cleanup(h->multi);
	secret_free(h->key);
	secret_free(h->secret);
	secret_free(h->alt);
	free(h->ca_file);
	free(h);
}

void
fw_http_set_alt(struct fw_http *h, struct secret *alt)
{
	secret_free(h->alt);
	h->alt = alt;
}

struct fw_job *
fw_job_new(const struct fw_steps *steps, json_t *vars)
{
	struct fw_job	*j = xcalloc(1, sizeof(*j));

	j->steps = steps;
	j->vars = vars;
	return j;
}

static void
job_req_free(struct fw_job *j)
{
	if (j->easy)
		curl_easy_cleanup(j->easy);
	j->easy = NULL;
	slist_wipe_free(j->hdrs);
	j->hdrs = NULL;
	free(j->req_body);
	j->req_body = NULL;
	free(j->resp);
	j->resp = NULL;
	j->resp_len = 0;
	j->resp_over = 0;
}

void
fw_job_free(struct fw_job *j)
{
	if (j == NULL)
		return;
	job_req_free(j);
	json_decref(j->vars);
	json_decref(j->body);
	free(j->text);
	free(j);
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fw_job	*j = arg;
	size_t		 n = size * nmemb;

	if (j->resp_len + n > FW_RESP_MAX) {
		j->resp_over = 1;
		return 0;	/* aborts the transfer */
	}
	j->resp = xreallocarray(j->resp, j->resp_len + n + 1, 1);
	memcpy(j->resp + j->resp_len, p, n);
	j->resp_len += n;
	j->resp[j->resp_len] = '\0';
	return n;
}

static void
job_fail(struct fw_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
job_fail(struct fw_job *j, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	va_end(ap);
	j->ok = 0;
	j->done = 1;
}

static const struct fw_step *
cur_step(const struct fw_job *j)
{
	const struct fw_step	*st = j->steps->v[j->si];

	return j->polling ? st->poll : st;
}

/* Common transfer options: https only, verified, bounded, no redirects. */
static int
easy_base(struct fw_http *h, CURL *e, const char *url, char *errbuf)
{
	errbuf[0] = '\0';
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT, h->timeout_s) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    (long)FW_CONNECT_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, FW_USER_AGENT) != CURLE_OK)
		return -EINVAL;
	if (h->ca_file &&
	    curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file) != CURLE_OK)
		return -EINVAL;
	return 0;
}

/* Wipes the credential copies in a vars object built by login_body(). */
static void
vars_scrub_free(json_t *v)
{
	static const char *const k[] = { "key", "secret" };
	json_t	*s;
	size_t	 i;

	for (i = 0; v && i < 2; i++)
		if (json_is_string(s = json_object_get(v, k[i])))
			explicit_bzero((char *)json_string_value(s),
			    json_string_length(s));
	json_decref(v);
}

/* The login request's body: the profile's template with key and secret. */
static int
login_body(struct fw_http *h, const json_t *vars, char **ret)
{
	json_t	*v = json_deep_copy(vars);
	char	 why[160];
	int	 r;

	(void)json_object_set_new(v, "key", json_string(h->key->s));
	(void)json_object_set_new(v, "secret", json_string(h->secret->s));
	if ((r = fw_expand(h->prof->login_body, v, ret, why,
	    sizeof(why))) != 0)
		(void)snprintf(h->token_err, sizeof(h->token_err), "login: "
		    "body: %s", why);
	vars_scrub_free(v);
	return r;
}

/*
 * OAuth2 client credentials (RFC 6749 4.4), or a login (auth type login:
 * a JSON body holding key and secret, the token at a path of the answer):
 * a blocking POST to the token URL, once per handle until the token
 * expires or a 401 drops it.
 */
static int
token_fetch(struct fw_http *h, const json_t *vars)
{
	struct fw_job	 t;
	struct buf	 body;
	struct curl_slist *hd = NULL;
	CURL		*e = NULL;
	json_t		*doc = NULL, *at, *ex;
	char		*url = NULL, *lb = NULL, why[160];
	const char	*what = h->prof->auth == FW_AUTH_LOGIN ? "login" :
			    "oauth2";
	long		 status = 0;
	CURLcode	 rc;
	int		 r = -EACCES;

	memset(&t, 0, sizeof(t));
	buf_init(&body, 2 * SECRET_MAX * 3 + 64 + (h->prof->token_scope ?
	    strlen(h->prof->token_scope) * 3 + 8 : 0));
	if (h->key == NULL || h->secret == NULL) {
		(void)snprintf(h->token_err, sizeof(h->token_err), "%s: "
		    "no client id or secret", what);
		goto out;
	}
	if (fw_expand(h->prof->token_url, vars, &url, why, sizeof(why)) != 0) {
		(void)snprintf(h->token_err, sizeof(h->token_err), "%s: "
		    "token_url: %s", what, why);
		goto out;
	}
	if (h->prof->auth == FW_AUTH_LOGIN) {
		if (login_body(h, vars, &lb) != 0)
			goto out;
		if ((hd = curl_slist_append(NULL, "Content-Type: "
		    "application/json")) == NULL)
			fatalx("%s: out of memory", __func__);
	} else if (buf_adds(&body, "grant_type=client_credentials&client_id=") ||
	    esc_url(&body, h->key->s) ||
	    buf_adds(&body, "&client_secret=") ||
	    esc_url(&body, h->secret->s) ||
	    (h->prof->token_scope && (buf_adds(&body, "&scope=") ||
	    esc_url(&body, h->prof->token_scope)))) {
		(void)snprintf(h->token_err, sizeof(h->token_err), "oauth2: "
		    "credentials too long");
		goto out;
	}
	if ((e = curl_easy_init()) == NULL ||
	    easy_base(h, e, url, t.errbuf) != 0 ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, lb ? lb : body.p) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hd) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t) != CURLE_OK) {
		(void)snprintf(h->token_err, sizeof(h->token_err), "%s: "
		    "cannot set up the request", what);
		goto out;
	}
	if ((rc = curl_easy_perform(e)) != CURLE_OK) {
		(void)snprintf(h->token_err, sizeof(h->token_err), "%s "
		    "token request: %.160s", what, t.errbuf[0] ? t.errbuf :
		    curl_easy_strerror(rc));
		r = -EIO;
		goto out;
	}
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	doc = t.resp ? json_loads(t.resp, 0, NULL) : NULL;
	at = h->prof->auth == FW_AUTH_LOGIN ? fw_path_first(doc,
	    h->prof->token_path) : json_object_get(doc, "access_token");
	ex = json_object_get(doc, "expires_in");
	if (status < 200 || status > 299 || !json_is_string(at) ||
	    json_string_length(at) == 0 ||
	    json_string_length(at) >= SECRET_MAX ||
	    strlen(json_string_value(at)) != json_string_length(at) ||
	    strpbrk(json_string_value(at), "\r\n")) {
		(void)snprintf(h->token_err, sizeof(h->token_err), "%s "
		    "token request: HTTP %ld without %s", what, status,
		    lb ? h->prof->token_path : "an access_token");
		goto out;
	}
	token_drop(h);
	h->token = xstrdup(json_string_value(at));
	h->token_len = strlen(h->token);
	/* Renew a little early; an unknown lifetime counts as 5 minutes. */
	h->token_exp = now_mono() + (json_is_integer(ex) &&
	    json_integer_value(ex) > 30 ? (double)json_integer_value(ex) - 30 :
	    300);
	h->token_err[0] = '\0';
	r = 0;
out:
	if (doc) {
		/* The answer held the token: scrub jansson's copy too. */
		at = h->prof->auth == FW_AUTH_LOGIN ? fw_path_first(doc,
		    h->prof->token_path) : json_object_get(doc,
		    "access_token");
		if (json_is_string(at))
			explicit_bzero((char *)json_string_value(at),
			    json_string_length(at));
		json_decref(doc);
	}
	if (t.resp)
		explicit_bzero(t.resp, t.resp_len);
	free(t.resp);
	if (e)
		curl_easy_cleanup(e);
	curl_slist_free_all(hd);
	wipe_free(lb);
	if (body.p)
		explicit_bzero(body.p, body.len);
	buf_free(&body);
	free(url);
	return r;
}

static int
has_header(const struct fw_step *st, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; i < st->nheaders; i++)
		if (strncasecmp(st->headers[i], name, n) == 0 &&
		    st->headers[i][n] == ':')
			return 1;
	return 0;
}

/* The credential the job's current step presents (polls: their step's). */
static enum fw_auth
step_auth(const struct fw_profile *p, const struct fw_job *j)
{
	switch (j->steps->v[j->si]->auth) {
	case FW_SAUTH_ALT:
		return p->alt_auth;
	case FW_SAUTH_NONE:
		return FW_AUTH_NONE;
	default:
		return p->auth;
	}
}

/* Auth types whose credential is a token fetched first. */
static int
is_token(enum fw_auth a)
{
	return a == FW_AUTH_OAUTH2 || a == FW_AUTH_LOGIN;
}

/*
 * An application/x-www-form-urlencoded body: each field's template is
 * expanded (its own escapings: the language inside the field), then the
 * whole value is form-encoded, so a field holding XML needs no |form.
 */
static int
form_body(const struct fw_step *st, const json_t *vars, char **ret,
    char *why, size_t whylen)
{
	struct buf	 b;
	char		*v = NULL;
	size_t		 i;
	int		 r = 0;

	buf_init(&b, FW_TEMPLATE_MAX * 3);
	for (i = 0; i < st->nform && r == 0; i++) {
		if ((r = fw_expand(st->form_val[i], vars, &v, why, whylen)) != 0)
			break;
		if ((i > 0 && (r = buf_addc(&b, '&')) != 0) ||
		    (r = esc_url(&b, st->form_name[i])) != 0 ||
		    (r = buf_addc(&b, '=')) != 0 ||
		    (r = esc_url(&b, v)) != 0)
			(void)snprintf(why, whylen, "field '%s' too long",
			    st->form_name[i]);
		free(v);
		v = NULL;
	}
	if (r == 0)
		*ret = buf_steal(&b);
	buf_free(&b);
	return r;
}

/* Builds and queues the job's current request; on error the job fails. */
static void
job_start(struct fw_http *h, struct fw_job *j)
{
	const struct fw_profile	*p = h->prof;
	const struct fw_step	*st = cur_step(j);
	struct curl_slist	*l = NULL, *nl;
	CURL			*e = NULL;
	char			*url = NULL, *hv = NULL, *auth = NULL;
	char			 why[FW_MSG_MAX];
	enum fw_auth		 au = step_auth(p, j);
	int			 alt = j->steps->v[j->si]->auth == FW_SAUTH_ALT;
	size_t			 i;

	job_req_free(j);
	if (is_token(au) && (h->token == NULL ||
	    now_mono() >= h->token_exp)) {
		if (h->token_err[0] || token_fetch(h, j->vars) != 0) {
			job_fail(j, "%s", h->token_err);
			return;
		}
	}
	if (fw_expand(st->url, j->vars, &url, why, sizeof(why)) != 0) {
		job_fail(j, "step %zu url: %s", j->si + 1, why);
		goto out;
	}
	if (st->body && fw_expand(st->body, j->vars, &j->req_body, why,
	    sizeof(why)) != 0) {
		job_fail(j, "step %zu body: %s", j->si + 1, why);
		goto out;
	}
	if (st->nform && form_body(st, j->vars, &j->req_body, why,
	    sizeof(why)) != 0) {
		job_fail(j, "step %zu form: %s", j->si + 1, why);
		goto out;
	}
	for (i = 0; i < st->nheaders; i++) {
		if (fw_expand(st->headers[i], j->vars, &hv, why,
		    sizeof(why)) != 0 || strpbrk(hv, "\r\n")) {
			job_fail(j, "step %zu header: %s", j->si + 1,
			    hv ? "line break in a value" : why);
			goto out;
		}
		if ((nl = curl_slist_append(l, hv)) == NULL)
			goto oom;
		l = nl;
		free(hv);
		hv = NULL;
	}
	if ((st->body || st->nform) && !has_header(st, "Content-Type")) {
		if ((nl = curl_slist_append(l, st->nform ? "Content-Type: "
		    "application/x-www-form-urlencoded" : "Content-Type: "
		    "application/json")) == NULL)
			goto oom;
		l = nl;
	}
	if ((nl = curl_slist_append(l, "Expect:")) == NULL)
		goto oom;
	l = nl;
	if (au == FW_AUTH_HEADER || au == FW_AUTH_BEARER || is_token(au)) {
		const char *v = is_token(au) ? h->token : alt ?
		    (h->alt ? h->alt->s : NULL) :
		    h->secret ? h->secret->s : NULL;
		const char *hn = alt ? p->alt_header : p->auth_header;
		const char *hp = alt ? p->alt_prefix : p->auth_prefix;

		if (v == NULL) {
			job_fail(j, "no credential for %sauth", alt ? "alt_" :
			    "");
			goto out;
		}
		auth = au == FW_AUTH_HEADER ? xasprintf("%s: %s%s", hn,
		    hp ? hp : "", v) :
		    xasprintf("Authorization: Bearer %s", v);
		nl = curl_slist_append(l, auth);
		wipe_free(auth);
		if (nl == NULL)
			goto oom;
		l = nl;
	}
	j->hdrs = l;
	l = NULL;
	if ((e = curl_easy_init()) == NULL)
		goto oom;
	j->easy = e;
	if (easy_base(h, e, url, j->errbuf) != 0 ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, j) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, j) != CURLE_OK) {
		job_fail(j, "cannot set up the request");
		goto out;
	}
	if (au == FW_AUTH_BASIC && (h->key == NULL || h->secret == NULL ||
	    curl_easy_setopt(e, CURLOPT_USERNAME, h->key->s) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PASSWORD, h->secret->s) !=
	    CURLE_OK)) {
		job_fail(j, "no credential for basic auth");
		goto out;
	}
	if (strcmp(st->method, "GET") != 0 &&
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, st->method) != CURLE_OK)
		goto oom;
	if (j->req_body && (curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(j->req_body)) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->req_body) != CURLE_OK))
		goto oom;
	if (!j->req_body && strcmp(st->method, "POST") == 0 &&
	    (curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "") != CURLE_OK))
		goto oom;
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		job_fail(j, "cannot queue the request");
		goto out;
	}
	j->inflight = 1;
	j->requests++;
	h->inflight++;
	goto out;
oom:
	job_fail(j, "out of memory building the request");
out:
	if (l)
		slist_wipe_free(l);
	free(hv);
	free(url);
}

static int
status_in(long s, const long *v, size_t n)
{
	size_t	i;

	if (n == 0)
		return s >= 200 && s <= 299;
	for (i = 0; i < n; i++)
		if (v[i] == s)
			return 1;
	return 0;
}

/* Seconds to wait before a retry, or -1 when Retry-After says too long. */
static double
retry_wait(struct fw_http *h, struct fw_job *j)
{
	const struct fw_profile	*p = h->prof;
	struct curl_header	*hd = NULL;
	double			 w = p->backoff, v;
	int			 i;
	char			*end;

	for (i = 1; i < j->attempt; i++)
		w *= 2;
	if (curl_easy_header(j->easy, p->retry_header, 0, CURLH_HEADER, -1,
	    &hd) == CURLHE_OK && hd && hd->value) {
		v = strtod(hd->value, &end);
		if (end != hd->value && (*end == '\0' || isspace(
		    (unsigned char)*end))) {
			if (p->retry_form == FW_RA_EPOCH ||
			    (p->retry_form == FW_RA_AUTO && v > 1e9))
				v -= (double)time(NULL);
		} else {
			time_t t = curl_getdate(hd->value, NULL);

			v = t < 0 ? w : (double)(t - time(NULL));
		}
		w = v < 0 ? 0 : v;
	}
	if (w > p->max_wait)
		return -1;
	return w;
}

/*
 * May the answer's retry status be resent?  Reads and idempotent steps
 * yes; other writes only when the server promised it did nothing: 429,
 * or 503 with the profile's Retry-After header.
 */
static int
resend_ok(struct fw_http *h, struct fw_job *j, const struct fw_step *st)
{
	struct curl_header	*hd = NULL;

	if (st->idempotent || j->status == 429)
		return 1;
	return j->status == 503 && curl_easy_header(j->easy,
	    h->prof->retry_header, 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
	    hd != NULL;
}

/* Every condition in v holds (all=1) or some holds (all=0), expanded. */
static int
conds(struct fw_job *j, char *const *v, size_t n, int all, size_t *ret_i)
{
	char	*c = NULL, why[FW_MSG_MAX];
	size_t	 i;
	int	 r;

	for (i = 0; i < n; i++) {
		if (fw_expand(v[i], j->vars, &c, why, sizeof(why)) != 0)
			r = 0;
		else
			r = fw_cond_eval_text(c, j->body, j->text) == 1;
		free(c);
		c = NULL;
		if (all != r) {
			*ret_i = i;
			return !all;
		}
	}
	return all;
}

static void
job_next_step(struct fw_job *j)
{
	j->polling = 0;
	j->attempt = 0;
	j->refreshed = 0;
	if (++j->si >= j->steps->n) {
		j->ok = 1;
		j->done = 1;
	}
}

/* One transfer finished: judge it and decide what comes next. */
static void
job_done(struct fw_http *h, struct fw_job *j, CURLcode rc)
{
	const struct fw_profile	*p = h->prof;
	const struct fw_step	*st = cur_step(j), *main = j->steps->v[j->si];
	double			 w, now = now_mono();
	size_t			 i, k;
	json_t			*v;

	j->inflight = 0;
	h->inflight--;
	j->attempt++;
	j->status = 0;
	if (rc != CURLE_OK) {
		if (j->resp_over) {
			job_fail(j, "step %zu: answer larger than %d bytes",
			    j->si + 1, FW_RESP_MAX);
			return;
		}
		/* No connection: nothing was sent, any request may go again.
		 * A timeout or a reset may come after the server acted. */
		if ((rc == CURLE_COULDNT_CONNECT || (st->idempotent &&
		    (rc == CURLE_OPERATION_TIMEDOUT ||
		    rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR ||
		    rc == CURLE_RECV_ERROR))) &&
		    j->attempt < p->max_attempts) {
			if ((w = retry_wait(h, j)) < 0)
				w = p->max_wait;
			j->next_at = now + w;
			return;
		}
		if (!st->idempotent && rc != CURLE_COULDNT_CONNECT) {
			job_fail(j, "step %zu (%s): %.80s; not resent (a write): "
			    "outcome unknown, check will decide", j->si + 1,
			    st->method, j->errbuf[0] ? j->errbuf :
			    curl_easy_strerror(rc));
			return;
		}
		job_fail(j, "step %zu (%s): %s", j->si + 1, st->method,
		    j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
		return;
	}
	(void)curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
	if (j->status == 401 && is_token(step_auth(p, j)) && !j->refreshed) {
		j->refreshed = 1;
		j->attempt--;
		token_drop(h);
		j->next_at = now;
		return;
	}
	if (status_in(j->status, p->retry_status, p->nretry_status) &&
	    !resend_ok(h, j, st)) {
		job_fail(j, "step %zu (%s): HTTP %ld; not resent (a write): "
		    "outcome unknown, check will decide", j->si + 1,
		    st->method, j->status);
		return;
	}
	if (status_in(j->status, p->retry_status, p->nretry_status) &&
	    j->attempt < p->max_attempts) {
		if ((w = retry_wait(h, j)) < 0) {
			job_fail(j, "step %zu: HTTP %ld, retry after more than "
			    "%.0fs (max_wait)", j->si + 1, j->status,
			    p->max_wait);
			return;
		}
		j->next_at = now + w;
		return;
	}
	json_decref(j->body);
	j->body = j->resp ? json_loads(j->resp, JSON_DECODE_ANY, NULL) : NULL;
	/* The raw answer too, for "body" conditions on XML or text. */
	free(j->text);
	j->text = j->resp;
	j->resp = NULL;
	j->resp_len = 0;
	if (!status_in(j->status, st->status, st->nstatus)) {
		job_fail(j, "step %zu (%s): HTTP %ld%s", j->si + 1, st->method,
		    j->status, j->attempt >= p->max_attempts && j->attempt > 1 ?
		    " after all attempts" : "");
		return;
	}
	if (st->nfail && conds(j, st->fail, st->nfail, 0, &k)) {
		job_fail(j, "step %zu: failure condition holds: %s", j->si + 1,
		    st->fail[k]);
		return;
	}
	if (j->polling) {
		if (conds(j, st->success, st->nsuccess, 1, &k)) {
			job_next_step(j);
			return;
		}
		if (now + st->interval > j->poll_deadline) {
			job_fail(j, "step %zu: not done within %.0fs: %s",
			    j->si + 1, st->deadline, st->success[k]);
			return;
		}
		j->attempt = 0;
		j->next_at = now + st->interval;
		return;
	}
	if (!conds(j, st->success, st->nsuccess, 1, &k)) {
		job_fail(j, "step %zu: condition not met: %s", j->si + 1,
		    st->success[k]);
		return;
	}
	for (i = 0; i < main->ncap; i++) {
		v = fw_path_first(j->body, main->cap_path[i]);
		if (json_is_string(v))
			(void)json_object_set(j->vars, main->cap_name[i], v);
		else if (json_is_integer(v))
			(void)json_object_set_new(j->vars, main->cap_name[i],
			    json_sprintf("%" JSON_INTEGER_FORMAT,
			    json_integer_value(v)));
		else {
			job_fail(j, "step %zu: nothing to capture at %s",
			    j->si + 1, main->cap_path[i]);
			return;
		}
	}
	if (main->poll) {
		j->polling = 1;
		j->attempt = 0;
		j->refreshed = 0;
		j->poll_deadline = now + main->poll->deadline;
		j->next_at = now + main->poll->interval;
		return;
	}
	job_next_step(j);
}

/*
 * The multi handle failed: detach every transfer (an easy handle must
 * leave its multi before it is freed), end the jobs still running with
 * why, so each act says what happened.  A write in flight may have
 * landed: the caller returns -EIO and the batch's outcome is unknown.
 */
static int
run_abort(struct fw_http *h, struct fw_job **v, size_t n, const char *why)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i]->inflight && v[i]->easy) {
			(void)curl_multi_remove_handle(h->multi, v[i]->easy);
			v[i]->inflight = 0;
			h->inflight--;
		}
		if (!v[i]->done)
			job_fail(v[i], "step %zu: %s", v[i]->si + 1, why);
		job_req_free(v[i]);
	}
	return -EIO;
}

int
fw_http_run(struct fw_http *h, struct fw_job **v, size_t n)
{
	struct CURLMsg	*m;
	struct fw_job	*j;
	double		 now, wake;
	size_t		 i, left;
	int		 running, q, ms, got;
	CURLMcode	 mc;

	for (i = 0; i < n; i++) {
		v[i]->si = 0;
		v[i]->done = v[i]->steps->n == 0;
		v[i]->ok = v[i]->done;
		v[i]->next_at = 0;
	}
	h->token_err[0] = '\0';
	for (;;) {
		now = now_mono();
		wake = now + 1.0;
		left = 0;
		for (i = 0; i < n; i++) {
			j = v[i];
			if (j->done)
				continue;
			left++;
			if (j->inflight)
				continue;
			if (j->next_at <= now &&
			    h->inflight < h->max_parallel)
				job_start(h, j);
			else if (j->next_at < wake)
				wake = j->next_at;
		}
		if (left == 0)
			break;
		if ((mc = curl_multi_perform(h->multi, &running)) != CURLM_OK)
			return run_abort(h, v, n, curl_multi_strerror(mc));
		got = 0;
		while ((m = curl_multi_info_read(h->multi, &q)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			got = 1;
			j = NULL;
			(void)curl_easy_getinfo(m->easy_handle,
			    CURLINFO_PRIVATE, (char **)&j);
			(void)curl_multi_remove_handle(h->multi,
			    m->easy_handle);
			if (j)
				job_done(h, j, m->data.result);
		}
		if (got)
			continue;	/* a job moved on: reschedule first */
		ms = (int)((wake - now_mono()) * 1000);
		if (h->inflight == 0 && ms > 0) {
			struct timespec ts = { ms / 1000,
			    (long)(ms % 1000) * 1000000 };

			(void)nanosleep(&ts, NULL);
		} else if (h->inflight > 0 && (mc = curl_multi_poll(h->multi,
		    NULL, 0, ms < 0 ? 0 : ms > 1000 ? 1000 : ms, NULL)) !=
		    CURLM_OK)
			return run_abort(h, v, n, curl_multi_strerror(mc));
	}
	for (i = 0; i < n; i++)
		job_req_free(v[i]);
	return 0;
}
