/*
 * firewall: host isolation through a vendor's HTTP API, described by a
 * provider profile (actions/fw_profile.h), so adding a vendor is adding
 * a file under config/providers/, not C.
 *
 *   { name = "edge"; type = "firewall"; provider = "opnsense";
 *     base_url = "https://fw.example.test"; ca_file = "/etc/cordon/ca.pem";
 *     key_file = "/etc/cordon/fw.key"; secret_file = "/etc/cordon/fw.secret";
 *     profile_dir = "/etc/cordon/providers";   # default
 *     max_parallel = 16; timeout = 30;          # requests at once, seconds
 *     alias = "quarantine"; }                   # overrides a profile var
 *
 * isolate_host takes `host` (an IP for "ip" profiles, a device/agent id
 * for "id" ones) and an optional `reason` (up to 512 bytes, cut on a
 * character boundary).  An "ip" profile's host is used in its canonical
 * text (inet_ntop): protected hosts match however they are spelt, and
 * the read-back compares that same form.  A token (OAuth2, login) is
 * cached per customer, target, token URL and client id.  check runs the profile's state
 * steps and judges its `isolated` condition: already isolated is no
 * change, and what check saw is what undo restores -- a host that was
 * already in the quarantine is never released by cordon's undo.  apply
 * runs isolate (or, for an undo, release); verify reads the state back.
 * A profile without state steps cannot prove anything: check plans the
 * change and verify records that nothing could be read back.  What the
 * isolate steps capture (an alert or decision id) is kept in the act's
 * before, so the undo's release steps can delete exactly that object.
 * A profile with alt_auth adds one target setting naming the file of its
 * second credential (crowdsec: bouncer_key_file).
 *
 * A whole batch of acts on one target runs through one curl multi handle
 * (fw_http.h): bounded parallel requests, connections reused.
 *
 * provider = "nft" is not a profile: it isolates on a Linux gateway with
 * nftables over SSH (actions/fw_nft.h), and every verb below hands such a
 * target to fw_nft_* unchanged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../agent/config.h"
#include "../agent/driver.h"
#include "../agent/hash.h"
#include "../agent/secret.h"
#include "../agent/util.h"
#include "fw_expr.h"
#include "fw_http.h"
#include "fw_nft.h"
#include "fw_profile.h"

#define FW_PROFILE_DIR		"/etc/cordon/providers"
#define FW_HOST_MAX		256
#define FW_ADDR_MAX		INET6_ADDRSTRLEN
#define FW_REASON_MAX		512
#define FW_DEF_PARALLEL		16
#define FW_DEF_TIMEOUT		30

struct fwconn {
	const struct target	*t;
	struct fw_profile	*prof;
	struct fw_http		*http;
	json_t			*vars;		/* base_url + profile vars */
	void			*nft;		/* provider "nft": fw_nft.h */
};

static int
is_nft(const struct target *t)
{
	const char	*p = json_string_value(json_object_get(t->opts,
	    "provider"));

	return p != NULL && strcmp(p, "nft") == 0;
}

static const char *
opt_str(const struct target *t, const char *k)
{
	return json_string_value(json_object_get(t->opts, k));
}

static long
opt_int(const struct target *t, const char *k, long def)
{
	json_t	*v = json_object_get(t->opts, k);

	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

static const char *
profile_dir(const struct target *t)
{
	return opt_str(t, "profile_dir") ? opt_str(t, "profile_dir") :
	    FW_PROFILE_DIR;
}

/* Which secret files the profile's auth needs: bit 1 key, bit 2 secret. */
static int
auth_needs(const struct fw_profile *p)
{
	switch (p->auth) {
	case FW_AUTH_BASIC:
	case FW_AUTH_OAUTH2:
	case FW_AUTH_LOGIN:
		return 3;
	case FW_AUTH_HEADER:
	case FW_AUTH_BEARER:
		return 2;
	default:
		return 0;
	}
}

static int
read_secrets(const struct target *t, const struct fw_profile *p,
    struct secret **ret_key, struct secret **ret_sec, struct secret **ret_alt,
    char *err, size_t errlen)
{
	struct secret	*k = NULL, *s = NULL, *a = NULL;
	const char	*as = p->alt_setting;
	const char	*why;
	int		 need = auth_needs(p), r;

	if ((need & 1) && opt_str(t, "key_file") == NULL) {
		(void)snprintf(err, errlen, "provider '%s' needs 'key_file'",
		    p->name);
		return -EINVAL;
	}
	if ((need & 2) && opt_str(t, "secret_file") == NULL) {
		(void)snprintf(err, errlen, "provider '%s' needs 'secret_file'",
		    p->name);
		return -EINVAL;
	}
	if ((need & 1) && (r = secret_read_file(opt_str(t, "key_file"), &k,
	    &why)) != 0) {
		(void)snprintf(err, errlen, "key_file '%s': %s",
		    opt_str(t, "key_file"), why);
		return r;
	}
	if ((need & 2) && (r = secret_read_file(opt_str(t, "secret_file"), &s,
	    &why)) != 0) {
		(void)snprintf(err, errlen, "secret_file '%s': %s",
		    opt_str(t, "secret_file"), why);
		secret_free(k);
		return r;
	}
	/* alt_auth's credential: the file the target names in its setting. */
	if (p->alt_auth != FW_AUTH_NONE && (opt_str(t, as) == NULL ||
	    (r = secret_read_file(opt_str(t, as), &a, &why)) != 0)) {
		if (opt_str(t, as) == NULL) {
			(void)snprintf(err, errlen, "provider '%s' needs '%s'",
			    p->name, as);
			r = -EINVAL;
		} else
			(void)snprintf(err, errlen, "%s '%s': %s", as,
			    opt_str(t, as), why);
		secret_free(k);
		secret_free(s);
		return r;
	}
	/* Each goes into a request header as is: a line break there would
	 * end the header and start another (a multi-line key file). */
	if ((k && strpbrk(k->s, "\r\n")) || (s && strpbrk(s->s, "\r\n")) ||
	    (a && strpbrk(a->s, "\r\n"))) {
		(void)snprintf(err, errlen, "%s '%s': holds a line break (CR "
		    "or LF); a credential file holds one line",
		    k && strpbrk(k->s, "\r\n") ? "key_file" :
		    s && strpbrk(s->s, "\r\n") ? "secret_file" : as,
		    k && strpbrk(k->s, "\r\n") ? opt_str(t, "key_file") :
		    s && strpbrk(s->s, "\r\n") ? opt_str(t, "secret_file") :
		    opt_str(t, as));
		secret_free(k);
		secret_free(s);
		secret_free(a);
		return -EINVAL;
	}
	*ret_key = k;
	*ret_sec = s;
	*ret_alt = a;
	return 0;
}

static int
fw_target_check(const struct target *t, char *err, size_t errlen)
{
	static const char	*known[] = { "name", "type", "provider",
	    "base_url", "ca_file", "key_file", "secret_file", "profile_dir",
	    "max_parallel", "timeout" };
	struct fw_profile	*p = NULL;
	struct secret		*k = NULL, *s = NULL, *as = NULL;
	const char		*key, *bu;
	json_t			*v;
	size_t			 i;
	int			 r;

	if (opt_str(t, "provider") == NULL) {
		(void)snprintf(err, errlen, "missing string 'provider'");
		return -EINVAL;
	}
	if (is_nft(t))
		return fw_nft_target_check(t, err, errlen);
	if ((r = fw_profile_load(profile_dir(t), opt_str(t, "provider"), &p,
	    err, errlen)) != 0)
		return r;
	json_object_foreach(t->opts, key, v) {
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (strcmp(known[i], key) == 0)
				break;
		if (i < ARRAY_SIZE(known) || (p->alt_setting &&
		    strcmp(p->alt_setting, key) == 0))
			continue;
		if (json_object_get(p->vars, key) == NULL) {
			(void)snprintf(err, errlen, "unknown setting '%s' "
			    "(not a var of provider '%s')", key, p->name);
			r = -EINVAL;
			goto out;
		}
		if (!json_is_string(v)) {
			(void)snprintf(err, errlen, "'%s' must be a string",
			    key);
			r = -EINVAL;
			goto out;
		}
	}
	bu = opt_str(t, "base_url");
	if (bu == NULL || strncmp(bu, "https://", 8) != 0 || bu[8] == '\0' ||
	    strpbrk(bu, " \t\r\n")) {
		(void)snprintf(err, errlen, "base_url must be an https:// URL "
		    "(TLS is always verified)");
		r = -EINVAL;
		goto out;
	}
	if (opt_int(t, "max_parallel", FW_DEF_PARALLEL) < 1 ||
	    opt_int(t, "max_parallel", FW_DEF_PARALLEL) > FW_PARALLEL_MAX ||
	    opt_int(t, "timeout", FW_DEF_TIMEOUT) < 1 ||
	    opt_int(t, "timeout", FW_DEF_TIMEOUT) > 600) {
		(void)snprintf(err, errlen, "max_parallel must be 1..%d and "
		    "timeout 1..600 seconds", FW_PARALLEL_MAX);
		r = -EINVAL;
		goto out;
	}
	r = read_secrets(t, p, &k, &s, &as, err, errlen);
out:
	secret_free(k);
	secret_free(s);
	secret_free(as);
	fw_profile_free(p);
	return r;
}

static void
fw_close(void *arg)
{
	struct fwconn	*c = arg;

	if (c == NULL)
		return;
	fw_nft_close(c->nft);
	fw_http_free(c->http);
	fw_profile_free(c->prof);
	json_decref(c->vars);
	free(c);
}

/*
 * The token cache's key.  Target names are unique only within a
 * customer, and two customers may share an API host (Defender always
 * does): a token is reused only for the same customer, target, token
 * URL and client id -- the id as a hash, so no credential sits in the
 * cache in clear.
 */
static int
token_cache_key(const struct target *t, const struct fw_profile *p,
    const json_t *vars, const struct secret *k, char **ret, char *err,
    size_t errlen)
{
	const char	*cu = t->customer && t->customer->name ?
			    t->customer->name : "";
	char		 kh[HASH_HEX_LEN + 1] = "-", why[FW_MSG_MAX];
	char		*tu = NULL;

	if (p->token_url && fw_expand(p->token_url, vars, &tu, why,
	    sizeof(why)) != 0) {
		(void)snprintf(err, errlen, "token_url: %s", why);
		return -EINVAL;
	}
	if (k)
		sha256_hex(k->s, strlen(k->s), kh);
	/* Lengths first: no name can forge another's key with a '|'. */
	*ret = xasprintf("%zu:%s|%zu:%s|%zu:%s|%s", strlen(cu), cu,
	    strlen(t->name), t->name, tu ? strlen(tu) : 0, tu ? tu : "", kh);
	free(tu);
	return 0;
}

static int
fw_open(const struct target *t, void **ret, char *err, size_t errlen)
{
	struct fwconn	*c = xcalloc(1, sizeof(*c));
	struct secret	*k = NULL, *s = NULL, *as = NULL;
	const char	*key, *bu;
	char		*ck;
	json_t		*v;
	size_t		 n;
	long		 mp;
	int		 r;

	c->t = t;
	if (is_nft(t)) {
		if ((r = fw_nft_open(t, &c->nft, err, errlen)) != 0)
			goto out;
		*ret = c;
		c = NULL;
		goto out;
	}
	if ((r = fw_profile_load(profile_dir(t), opt_str(t, "provider"),
	    &c->prof, err, errlen)) != 0 ||
	    (r = read_secrets(t, c->prof, &k, &s, &as, err, errlen)) != 0)
		goto out;
	c->vars = json_deep_copy(c->prof->vars);
	json_object_foreach(c->prof->vars, key, v)
		if (opt_str(t, key))
			(void)json_object_set_new(c->vars, key,
			    json_string(opt_str(t, key)));
	/* base_url without a trailing slash, so "${base_url|raw}/api". */
	bu = opt_str(t, "base_url");
	n = strlen(bu);
	while (n > 8 && bu[n - 1] == '/')
		n--;
	(void)json_object_set_new(c->vars, "base_url", json_stringn(bu, n));
	if ((r = token_cache_key(t, c->prof, c->vars, k, &ck, err,
	    errlen)) != 0)
		goto out;
	mp = opt_int(t, "max_parallel", FW_DEF_PARALLEL);
	if (c->prof->max_parallel > 0 && mp > c->prof->max_parallel)
		mp = c->prof->max_parallel;
	c->http = fw_http_new(c->prof, ck, opt_str(t, "ca_file"), (int)mp,
	    opt_int(t, "timeout", FW_DEF_TIMEOUT), k, s);
	k = s = NULL;
	fw_http_set_alt(c->http, as);
	as = NULL;
	free(ck);
	*ret = c;
	c = NULL;
	r = 0;
out:
	secret_free(k);
	secret_free(s);
	secret_free(as);
	fw_close(c);
	return r;
}

/*
 * An address in its one canonical text (RFC 5952 for IPv6: lower case,
 * zeros compressed) into buf, or -1 if s is not an address.  FD00::5,
 * fd00:0::5 and fd00::5 are one host: protected-host checks and the
 * read-back compare this form, never the spelling a runbook used.
 */
static int
ip_canon(const char *s, char buf[FW_ADDR_MAX])
{
	unsigned char	bin[16];

	if (inet_pton(AF_INET, s, bin) == 1)
		return inet_ntop(AF_INET, bin, buf, FW_ADDR_MAX) ? 0 : -1;
	if (inet_pton(AF_INET6, s, bin) == 1)
		return inet_ntop(AF_INET6, bin, buf, FW_ADDR_MAX) ? 0 : -1;
	return -1;
}

/*
 * The host parameter as the profile wants it (an "ip" profile's in its
 * canonical form, in buf); NULL after act_fail.
 */
static const char *
host_of(const struct fwconn *c, struct act *a, char buf[FW_ADDR_MAX])
{
	const char		*h = act_param(a, "host");
	const struct customer	*cu = a->customer;
	char			 pc[FW_ADDR_MAX];
	size_t			 i;

	if (h == NULL || *h == '\0') {
		act_fail(a, "missing parameter 'host'");
		return NULL;
	}
	if (strlen(h) > FW_HOST_MAX) {
		act_fail(a, "host longer than %d bytes", FW_HOST_MAX);
		return NULL;
	}
	for (i = 0; h[i]; i++)
		if ((unsigned char)h[i] < 0x20 || h[i] == 0x7f) {
			act_fail(a, "host holds a control character");
			return NULL;
		}
	if (c->prof->host == FW_HOST_IP) {
		if (ip_canon(h, buf) != 0) {
			act_fail(a, "host '%s' is not an IPv4 or IPv6 address "
			    "(provider '%s' isolates by address)", h,
			    c->prof->name);
			return NULL;
		}
		h = buf;
	}
	for (i = 0; cu && i < cu->nprotected; i++)
		if (strcmp(cu->protected[i], h) == 0 ||
		    (c->prof->host == FW_HOST_IP &&
		    ip_canon(cu->protected[i], pc) == 0 &&
		    strcmp(pc, h) == 0)) {
			act_fail(a, "'%s' is a protected host", h);
			a->outcome = ACT_REFUSED;
			return NULL;
		}
	return h;
}

/* Now as RFC 3339 UTC ("2026-11-26T09:32:45Z") in tb (32 bytes). */
static const char *
now_rfc3339(char *tb)
{
	struct tm	tm;
	time_t		t = time(NULL);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(tb, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(tb, 32, "1970-01-01T00:00:00Z");
	return tb;
}

/*
 * reason cut to FW_REASON_MAX bytes on a character boundary: a cut inside
 * a UTF-8 sequence would leave text jansson refuses, and every step that
 * names ${reason} would fail.
 */
static char *
reason_cut(const char *reason)
{
	size_t	n = strnlen(reason, FW_REASON_MAX);

	if (reason[n] != '\0')
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
	return xstrndup(reason, n);
}

/* The act's template variables, or NULL after act_fail. */
static json_t *
act_vars(const struct fwconn *c, struct act *a, const char *host)
{
	json_t		*v = json_deep_copy(c->vars), *cv;
	const char	*reason = act_param(a, "reason"), *k;
	char		*r, tb[32];
	int		 bad;

	if (reason == NULL || *reason == '\0')
		r = xasprintf("cordon %s", a->incident ? a->incident : "");
	else
		r = reason_cut(reason);
	bad = json_object_set_new(v, "host", json_string(host)) != 0 ||
	    json_object_set_new(v, "reason", json_string(r)) != 0 ||
	    json_object_set_new(v, "incident", json_string(a->incident ?
	    a->incident : "")) != 0 ||
	    json_object_set_new(v, "action", json_sprintf("A%lld",
	    (long long)a->id)) != 0 ||
	    json_object_set_new(v, "now", json_string(now_rfc3339(tb))) != 0;
	free(r);
	if (bad) {
		act_fail(a, "host, reason or incident is not valid UTF-8");
		json_decref(v);
		return NULL;
	}
	/* An undo's release names what its isolation created (an id). */
	json_object_foreach(json_object_get(a->restore, "captured"), k, cv)
		if (json_is_string(cv) && json_object_get(v, k) == NULL)
			(void)json_object_set(v, k, cv);
	return v;
}

/* The state the act wants: isolated, unless it undoes an isolation. */
static int
wanted(const struct act *a)
{
	if (a->restore)
		return json_is_true(json_object_get(a->restore, "isolated"));
	return 1;
}

/*
 * Runs steps (state, isolate or release) for every act that has a valid
 * host; jobs[i] is NULL for the others.  Caller frees the jobs.
 */
static int
run_jobs(struct fwconn *c, struct act **v, size_t n,
    const struct fw_steps *which_isolate, const struct fw_steps *which_release,
    struct fw_job ***ret)
{
	struct fw_job	**jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	struct fw_job	**run = xcalloc(n ? n : 1, sizeof(*run));
	const char	 *h;
	char		  hb[FW_ADDR_MAX];
	json_t		 *vars;
	size_t		  i, m = 0;
	int		  r;

	for (i = 0; i < n; i++) {
		if ((h = host_of(c, v[i], hb)) == NULL ||
		    (vars = act_vars(c, v[i], h)) == NULL)
			continue;
		jobs[i] = fw_job_new(wanted(v[i]) ? which_isolate :
		    which_release, vars);
		run[m++] = jobs[i];
	}
	r = fw_http_run(c->http, run, m);
	free(run);
	*ret = jobs;
	return r;
}

static void
jobs_free(struct fw_job **jobs, size_t n)
{
	size_t	i;

	for (i = 0; jobs && i < n; i++)
		fw_job_free(jobs[i]);
	free(jobs);
}

/* 1 isolated, 0 not, -1 unreadable (the job failed: a->msg says why). */
static int
judge_state(struct fwconn *c, struct act *a, struct fw_job *j)
{
	char	*cond = NULL, why[FW_MSG_MAX];
	int	 r;

	if (!j->ok) {
		act_fail(a, "cannot read the state: %s", j->msg);
		return -1;
	}
	if (fw_expand(c->prof->isolated, j->vars, &cond, why,
	    sizeof(why)) != 0) {
		act_fail(a, "isolated: %s", why);
		return -1;
	}
	r = fw_cond_eval_text(cond, j->body, j->text);
	free(cond);
	if (r < 0) {
		act_fail(a, "isolated: malformed condition");
		return -1;
	}
	return r;
}

static int
fw_check(void *conn, struct act **v, size_t n)
{
	struct fwconn	 *c = conn;
	struct fw_job	**jobs = NULL;
	const char	 *host;
	char		  hb[FW_ADDR_MAX];
	size_t		  i;
	int		  r = 0, st, want;

	if (c->nft)
		return fw_nft_check(c->nft, v, n);
	/* A failed run still ends each job with why: judge_state says it. */
	if (c->prof->state.n > 0)
		r = run_jobs(c, v, n, &c->prof->state, &c->prof->state, &jobs);
	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if (jobs && jobs[i] == NULL)
			continue;
		/* The canonical host: what the requests named. */
		if (jobs)
			host = json_string_value(json_object_get(jobs[i]->vars,
			    "host"));
		else if ((host = host_of(c, a, hb)) == NULL)
			continue;
		want = wanted(a);
		st = jobs ? judge_state(c, a, jobs[i]) : -2;
		if (st == -1)
			continue;
		json_decref(a->before);
		a->before = json_pack("{s:s,s:s,s:o}", "host", host,
		    "provider", c->prof->name, "isolated",
		    st == -2 ? json_null() : json_boolean(st));
		free(a->change);
		a->change = NULL;
		if (st == want) {
			a->outcome = ACT_NOCHANGE;
			continue;
		}
		a->change = xasprintf("%s host '%s' through %s at %s%s",
		    want ? "isolate" : "release", host, c->prof->name,
		    c->t->name, st == -2 ? " (state not readable)" : "");
		a->outcome = ACT_OK;
	}
	jobs_free(jobs, n);
	return r;
}

static int
fw_apply(void *conn, struct act **v, size_t n)
{
	struct fwconn	 *c = conn;
	struct fw_job	**jobs = NULL;
	const struct fw_steps *sl;
	json_t		 *cap;
	size_t		  i, s, k;
	int		  r;

	if (c->nft)
		return fw_nft_apply(c->nft, v, n);
	if ((r = run_jobs(c, v, n, &c->prof->isolate, &c->prof->release,
	    &jobs)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if (jobs[i] == NULL)
			continue;
		if (!jobs[i]->ok) {
			act_fail(a, "%s %s", wanted(a) ? "isolate" : "release",
			    jobs[i]->msg);
			continue;
		}
		cap = json_object();
		sl = jobs[i]->steps;
		for (s = 0; s < sl->n; s++)
			for (k = 0; k < sl->v[s]->ncap; k++)
				(void)json_object_set(cap, sl->v[s]->cap_name[k],
				    json_object_get(jobs[i]->vars,
				    sl->v[s]->cap_name[k]));
		/* Kept with the state to restore: an undo may need them (the
		 * id of the decision or rule this isolation created). */
		if (a->before && json_object_size(cap) > 0)
			(void)json_object_set(a->before, "captured", cap);
		json_decref(a->observed);
		a->observed = json_pack("{s:i,s:i,s:o}", "status",
		    (int)jobs[i]->status, "requests", jobs[i]->requests,
		    "captured", cap);
		a->outcome = ACT_OK;
	}
out:
	jobs_free(jobs, n);
	return r;
}

static int
fw_verify(void *conn, struct act **v, size_t n)
{
	struct fwconn	 *c = conn;
	struct fw_job	**jobs = NULL;
	json_t		 *applied;
	size_t		  i;
	int		  r = 0, st;

	if (c->nft)
		return fw_nft_verify(c->nft, v, n);
	if (c->prof->state.n == 0) {
		for (i = 0; i < n; i++) {
			json_decref(v[i]->observed);
			v[i]->observed = json_pack("{s:n,s:s}", "isolated",
			    "note", "the provider offers no read-back");
			v[i]->outcome = ACT_OK;
		}
		return 0;
	}
	r = run_jobs(c, v, n, &c->prof->state, &c->prof->state, &jobs);
	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if (jobs[i] == NULL || (st = judge_state(c, a, jobs[i])) < 0)
			continue;
		applied = json_object_get(a->observed, "captured");
		applied = json_pack("{s:s,s:b,s:i,s:O?}", "host",
		    json_string_value(json_object_get(jobs[i]->vars, "host")),
		    "isolated", st, "status",
		    (int)jobs[i]->status, "captured", applied);
		json_decref(a->observed);
		a->observed = applied;
		if (st != wanted(a))
			act_fail(a, "read back shows host '%s' %s",
			    json_string_value(json_object_get(jobs[i]->vars,
			    "host")), st ? "still isolated" :
			    "not isolated");
		else
			a->outcome = ACT_OK;
	}
	jobs_free(jobs, n);
	return r;
}

static const struct verb fw_verbs[] = {
	{
		.name = "isolate_host",
		.summary = "cut a host off the network (provider profile)",
		.check = fw_check,
		.apply = fw_apply,
		.verify = fw_verify,
		.undo = fw_apply,
		.atomic = 0,
		.required_params = { "host", NULL },
	},
	{ .name = NULL },
};

const struct driver firewall_driver = {
	.name = "firewall",
	.verbs = fw_verbs,
	.target_check = fw_target_check,
	.open = fw_open,
	.close = fw_close,
};
