/*
 * fw_profile: load and validate a provider profile (see fw_profile.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "fw_expr.h"
#include "fw_profile.h"

static const char *const noraw[] = { "host", "reason", "key", "secret",
    NULL };

struct perr {
	const char	*file;
	char		*err;
	size_t		 errlen;
	const struct fw_profile *p;	/* vars and alt_setting, once read */
};

/*
 * Names the agent sets for every request.  A capture of one of them
 * would let a server's answer rewrite what later requests carry (a
 * capture "base_url" sends the credentials elsewhere).
 */
static const char *const builtin[] = { "host", "reason", "base_url",
    "key", "secret", "now", "incident", "action", "captured", NULL };

static int
is_builtin(const struct perr *pe, const char *n)
{
	size_t	i;

	for (i = 0; builtin[i]; i++)
		if (strcmp(builtin[i], n) == 0)
			return 1;
	if (pe->p && pe->p->alt_setting && strcmp(pe->p->alt_setting, n) == 0)
		return 1;
	return pe->p && pe->p->vars && json_object_get(pe->p->vars, n);
}

static int
pfail(struct perr *pe, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
pfail(struct perr *pe, const config_setting_t *s, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	line;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line = s ? config_setting_source_line(s) : 0;
	/* The root group has no line of its own: what is missing there is
	 * missing from the file as a whole. */
	if (line > 0)
		(void)snprintf(pe->err, pe->errlen, "%s:%d: %s", pe->file,
		    line, msg);
	else
		(void)snprintf(pe->err, pe->errlen, "%s:1: %s (at top level)",
		    pe->file, msg);
	return -EINVAL;
}

/* Refuses any member of grp not in keys (NULL-terminated). */
static int
only_keys(struct perr *pe, const config_setting_t *grp,
    const char *const *keys, const char *what)
{
	const config_setting_t	*s;
	const char		*n;
	size_t			 i;
	int			 j, len = config_setting_length(grp);

	for (j = 0; j < len; j++) {
		s = config_setting_get_elem(grp, (unsigned)j);
		n = config_setting_name(s);
		for (i = 0; keys[i]; i++)
			if (n && strcmp(n, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return pfail(pe, s, "unknown key '%s' in %s",
			    n ? n : "?", what);
	}
	return 0;
}

static int
get_str(struct perr *pe, const config_setting_t *grp, const char *key,
    int required, char **ret)
{
	const config_setting_t	*s = config_setting_get_member(grp, key);
	const char		*v;

	*ret = NULL;
	if (s == NULL)
		return required ? pfail(pe, grp, "missing '%s'", key) : 0;
	if ((v = config_setting_get_string(s)) == NULL)
		return pfail(pe, s, "'%s' must be a string", key);
	*ret = xstrdup(v);
	return 0;
}

static int
get_num(struct perr *pe, const config_setting_t *grp, const char *key,
    double def, double min, double max, double *ret)
{
	const config_setting_t	*s = config_setting_get_member(grp, key);

	*ret = def;
	if (s == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*ret = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		*ret = config_setting_get_float(s);
		break;
	default:
		return pfail(pe, s, "'%s' must be a number", key);
	}
	if (*ret < min || *ret > max)
		return pfail(pe, s, "'%s' must be between %g and %g", key, min,
		    max);
	return 0;
}

static int
get_statuses(struct perr *pe, const config_setting_t *grp, const char *key,
    long *v, size_t *ret_n)
{
	const config_setting_t	*s = config_setting_get_member(grp, key), *e;
	int			 i, n;

	*ret_n = 0;
	if (s == NULL)
		return 0;
	if (!config_setting_is_aggregate(s) ||
	    (n = config_setting_length(s)) > FW_MAX_STATUS)
		return pfail(pe, s, "'%s' must be a list of at most %d HTTP "
		    "statuses", key, FW_MAX_STATUS);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_INT ||
		    config_setting_get_int(e) < 100 ||
		    config_setting_get_int(e) > 599)
			return pfail(pe, e, "'%s': not an HTTP status", key);
		v[(*ret_n)++] = config_setting_get_int(e);
	}
	return 0;
}

/* A list of strings into v (conditions when cond, else templates). */
static int
get_strs(struct perr *pe, const config_setting_t *grp, const char *key,
    int cond, char **v, size_t max, size_t *ret_n)
{
	const config_setting_t	*s = config_setting_get_member(grp, key), *e;
	const char		*str;
	char			 why[256];
	int			 i, n;

	*ret_n = 0;
	if (s == NULL)
		return 0;
	if (!config_setting_is_aggregate(s) ||
	    (n = config_setting_length(s)) > (int)max)
		return pfail(pe, s, "'%s' must be a list of at most %zu "
		    "strings", key, max);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if ((str = config_setting_get_string(e)) == NULL)
			return pfail(pe, e, "'%s' must hold strings", key);
		if ((cond ? fw_cond_check(str, noraw, why, sizeof(why)) :
		    fw_template_check(str, noraw, why, sizeof(why))) != 0)
			return pfail(pe, e, "%s", why);
		v[(*ret_n)++] = xstrdup(str);
	}
	return 0;
}

static int
get_tmpl(struct perr *pe, const config_setting_t *grp, const char *key,
    int required, char **ret)
{
	char	why[256];
	int	r;

	if ((r = get_str(pe, grp, key, required, ret)) != 0 || *ret == NULL)
		return r;
	if (fw_template_check(*ret, noraw, why, sizeof(why)) != 0)
		return pfail(pe, config_setting_get_member(grp, key), "%s",
		    why);
	return 0;
}

static void
step_free(struct fw_step *st)
{
	size_t	i;

	if (st == NULL)
		return;
	free(st->method);
	free(st->url);
	free(st->body);
	for (i = 0; i < st->nform; i++) {
		free(st->form_name[i]);
		free(st->form_val[i]);
	}
	for (i = 0; i < st->nheaders; i++)
		free(st->headers[i]);
	for (i = 0; i < st->nsuccess; i++)
		free(st->success[i]);
	for (i = 0; i < st->nfail; i++)
		free(st->fail[i]);
	for (i = 0; i < st->ncap; i++) {
		free(st->cap_name[i]);
		free(st->cap_path[i]);
	}
	step_free(st->poll);
	free(st);
}

/* form = { name = "template"; ... }: an x-www-form-urlencoded body. */
static int
parse_form(struct perr *pe, const config_setting_t *c, struct fw_step *st)
{
	const config_setting_t	*e;
	const char		*v;
	char			 why[256];
	int			 j, n;

	if (st->body)
		return pfail(pe, c, "a step has 'body' or 'form', not both");
	if (!config_setting_is_group(c) || (n = config_setting_length(c)) ==
	    0 || n > FW_MAX_HEADERS)
		return pfail(pe, c, "form must be a group of 1 to %d "
		    "name = \"template\"", FW_MAX_HEADERS);
	for (j = 0; j < n; j++) {
		e = config_setting_get_elem(c, (unsigned)j);
		if ((v = config_setting_get_string(e)) == NULL)
			return pfail(pe, e, "form field '%s' must be a string",
			    config_setting_name(e));
		if (fw_template_check(v, noraw, why, sizeof(why)) != 0)
			return pfail(pe, e, "%s", why);
		st->form_name[st->nform] = xstrdup(config_setting_name(e));
		st->form_val[st->nform++] = xstrdup(v);
	}
	return 0;
}

static int
parse_step(struct perr *pe, const config_setting_t *g, int is_poll,
    struct fw_step **ret)
{
	static const char *const skeys[] = { "method", "url", "headers",
	    "body", "form", "status", "success", "fail", "capture", "poll",
	    "auth", "idempotent", "comment", NULL };
	static const char *const pkeys[] = { "method", "url", "headers",
	    "body", "form", "status", "done", "fail", "interval", "deadline",
	    "idempotent", "comment", NULL };
	static const char *const methods[] = { "GET", "POST", "PUT",
	    "PATCH", "DELETE", NULL };
	struct fw_step		*st = xcalloc(1, sizeof(*st));
	const config_setting_t	*c, *e;
	char			*auth = NULL;
	size_t			 i;
	int			 j, n, r;

	st->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		r = pfail(pe, g, "a step must be a group { ... }");
		goto out;
	}
	if ((r = only_keys(pe, g, is_poll ? pkeys : skeys,
	    is_poll ? "poll" : "step")) != 0 ||
	    (r = get_str(pe, g, "method", 1, &st->method)) != 0 ||
	    (r = get_tmpl(pe, g, "url", 1, &st->url)) != 0 ||
	    (r = get_tmpl(pe, g, "body", 0, &st->body)) != 0 ||
	    (r = get_strs(pe, g, "headers", 0, st->headers, FW_MAX_HEADERS,
	    &st->nheaders)) != 0 ||
	    (r = get_statuses(pe, g, "status", st->status, &st->nstatus)) !=
	    0 ||
	    (r = get_strs(pe, g, is_poll ? "done" : "success", 1, st->success,
	    FW_MAX_CONDS, &st->nsuccess)) != 0 ||
	    (r = get_strs(pe, g, "fail", 1, st->fail, FW_MAX_CONDS,
	    &st->nfail)) != 0 ||
	    (r = get_str(pe, g, "auth", 0, &auth)) != 0)
		goto out;
	if (auth == NULL || strcmp(auth, "profile") == 0)
		st->auth = FW_SAUTH_PROFILE;
	else if (strcmp(auth, "alt") == 0)
		st->auth = FW_SAUTH_ALT;
	else if (strcmp(auth, "none") == 0)
		st->auth = FW_SAUTH_NONE;
	else {
		r = pfail(pe, config_setting_get_member(g, "auth"), "step auth "
		    "must be profile, alt or none");
		goto out;
	}
	for (i = 0; methods[i]; i++)
		if (strcmp(methods[i], st->method) == 0)
			break;
	if (methods[i] == NULL) {
		r = pfail(pe, config_setting_get_member(g, "method"),
		    "method must be GET, POST, PUT, PATCH or DELETE");
		goto out;
	}
	if ((c = config_setting_get_member(g, "idempotent")) != NULL &&
	    config_setting_type(c) != CONFIG_TYPE_BOOL) {
		r = pfail(pe, c, "idempotent must be true or false");
		goto out;
	}
	st->idempotent = strcmp(st->method, "GET") == 0 ||
	    (c != NULL && config_setting_get_bool(c));
	if (strncmp(st->url, "${base_url|raw}", 15) != 0) {
		r = pfail(pe, config_setting_get_member(g, "url"), "url must "
		    "start with ${base_url|raw}: requests go only to the "
		    "target's endpoint");
		goto out;
	}
	for (i = 0; i < st->nheaders; i++)
		if (strchr(st->headers[i], ':') == NULL) {
			r = pfail(pe, config_setting_get_member(g, "headers"),
			    "header '%s' lacks 'Name: value'", st->headers[i]);
			goto out;
		}
	if (is_poll) {
		if ((r = get_num(pe, g, "interval", 1.0, 0.05, 600,
		    &st->interval)) != 0 ||
		    (r = get_num(pe, g, "deadline", 60.0, 0.1, 3600,
		    &st->deadline)) != 0)
			goto out;
		if (st->nsuccess == 0) {
			r = pfail(pe, g, "poll needs 'done' conditions");
			goto out;
		}
	}
	if ((c = config_setting_get_member(g, "form")) != NULL &&
	    (r = parse_form(pe, c, st)) != 0)
		goto out;
	if ((c = config_setting_get_member(g, "capture")) != NULL) {
		if (!config_setting_is_group(c) ||
		    (n = config_setting_length(c)) > FW_MAX_CAPTURES) {
			r = pfail(pe, c, "capture must be a group of at most %d "
			    "name = \"$.path\"", FW_MAX_CAPTURES);
			goto out;
		}
		for (j = 0; j < n; j++) {
			const char *v;

			e = config_setting_get_elem(c, (unsigned)j);
			if ((v = config_setting_get_string(e)) == NULL ||
			    fw_path_check(v) != 0) {
				r = pfail(pe, e, "capture '%s' must be a path "
				    "like \"$.resources[0].id\"",
				    config_setting_name(e));
				goto out;
			}
			if (is_builtin(pe, config_setting_name(e))) {
				r = pfail(pe, e, "capture '%s' would overwrite "
				    "a built-in or profile variable: pick "
				    "another name", config_setting_name(e));
				goto out;
			}
			st->cap_name[st->ncap] = xstrdup(config_setting_name(e));
			st->cap_path[st->ncap++] = xstrdup(v);
		}
	}
	if ((c = config_setting_get_member(g, "poll")) != NULL &&
	    (r = parse_step(pe, c, 1, &st->poll)) != 0)
		goto out;
	*ret = st;
	st = NULL;
	r = 0;
out:
	free(auth);
	step_free(st);
	return r;
}

static int
parse_steps(struct perr *pe, const config_setting_t *root, const char *key,
    int required, struct fw_steps *ret)
{
	const config_setting_t	*l = config_setting_get_member(root, key);
	int			 i, n, r;

	if (l == NULL)
		return required ? pfail(pe, root, "missing '%s'", key) : 0;
	if (!config_setting_is_list(l) || (n = config_setting_length(l)) == 0 ||
	    n > FW_MAX_STEPS)
		return pfail(pe, l, "'%s' must be a list ( { ... }, ... ) of "
		    "1 to %d steps", key, FW_MAX_STEPS);
	for (i = 0; i < n; i++) {
		if ((r = parse_step(pe, config_setting_get_elem(l,
		    (unsigned)i), 0, &ret->v[ret->n])) != 0)
			return r;
		ret->n++;
	}
	return 0;
}

static int
parse_auth(struct perr *pe, const config_setting_t *root,
    struct fw_profile *p)
{
	static const char *const keys[] = { "type", "name", "prefix",
	    "token_url", "body", "token", "scope", NULL };
	const config_setting_t	*a = config_setting_get_member(root, "auth");
	char			*type = NULL;
	int			 r;

	if (a == NULL)
		return pfail(pe, root, "missing 'auth'");
	if (!config_setting_is_group(a))
		return pfail(pe, a, "'auth' must be a group");
	if ((r = only_keys(pe, a, keys, "auth")) != 0 ||
	    (r = get_str(pe, a, "type", 1, &type)) != 0 ||
	    (r = get_str(pe, a, "name", 0, &p->auth_header)) != 0 ||
	    (r = get_str(pe, a, "prefix", 0, &p->auth_prefix)) != 0 ||
	    (r = get_tmpl(pe, a, "token_url", 0, &p->token_url)) != 0 ||
	    (r = get_tmpl(pe, a, "body", 0, &p->login_body)) != 0 ||
	    (r = get_str(pe, a, "token", 0, &p->token_path)) != 0 ||
	    (r = get_str(pe, a, "scope", 0, &p->token_scope)) != 0)
		goto out;
	if (strcmp(type, "none") == 0)
		p->auth = FW_AUTH_NONE;
	else if (strcmp(type, "basic") == 0)
		p->auth = FW_AUTH_BASIC;
	else if (strcmp(type, "header") == 0)
		p->auth = FW_AUTH_HEADER;
	else if (strcmp(type, "bearer") == 0)
		p->auth = FW_AUTH_BEARER;
	else if (strcmp(type, "oauth2_client_credentials") == 0)
		p->auth = FW_AUTH_OAUTH2;
	else if (strcmp(type, "login") == 0)
		p->auth = FW_AUTH_LOGIN;
	else {
		r = pfail(pe, config_setting_get_member(a, "type"), "auth type "
		    "'%s' is not none, basic, header, bearer, login or "
		    "oauth2_client_credentials", type);
		goto out;
	}
	if (p->auth == FW_AUTH_LOGIN && (p->token_url == NULL ||
	    p->login_body == NULL || p->token_path == NULL ||
	    fw_path_check(p->token_path) != 0)) {
		r = pfail(pe, a, "auth type login needs 'token_url', 'body' and "
		    "'token' (a path like \"$.token\")");
		goto out;
	}
	if (p->auth != FW_AUTH_LOGIN && (p->login_body || p->token_path)) {
		r = pfail(pe, a, "'body' and 'token' belong to auth type login");
		goto out;
	}
	if (p->auth == FW_AUTH_HEADER && p->auth_header == NULL)
		r = pfail(pe, a, "auth type header needs 'name'");
	else if (p->auth == FW_AUTH_OAUTH2 && p->token_url == NULL)
		r = pfail(pe, a, "oauth2_client_credentials needs 'token_url'");
	else if (p->auth_header && strpbrk(p->auth_header, ": \r\n"))
		r = pfail(pe, a, "bad header name '%s'", p->auth_header);
out:
	free(type);
	return r;
}

/*
 * A second credential some steps present instead of auth (auth = "alt"):
 * a header or Bearer token whose secret is in the file named by the
 * target setting `setting` (e.g. a read-only key next to a login).
 */
static int
parse_alt_auth(struct perr *pe, const config_setting_t *root,
    struct fw_profile *p)
{
	static const char *const keys[] = { "type", "name", "prefix",
	    "setting", NULL };
	static const char *const taken[] = { "name", "type", "provider",
	    "base_url", "ca_file", "key_file", "secret_file", "profile_dir",
	    NULL };
	const config_setting_t	*a = config_setting_get_member(root,
	    "alt_auth");
	char			*type = NULL;
	size_t			 i, n;
	int			 r;

	p->alt_auth = FW_AUTH_NONE;
	if (a == NULL)
		return 0;
	if (!config_setting_is_group(a))
		return pfail(pe, a, "'alt_auth' must be a group");
	if ((r = only_keys(pe, a, keys, "alt_auth")) != 0 ||
	    (r = get_str(pe, a, "type", 1, &type)) != 0 ||
	    (r = get_str(pe, a, "name", 0, &p->alt_header)) != 0 ||
	    (r = get_str(pe, a, "prefix", 0, &p->alt_prefix)) != 0 ||
	    (r = get_str(pe, a, "setting", 1, &p->alt_setting)) != 0)
		goto out;
	if (strcmp(type, "header") == 0)
		p->alt_auth = FW_AUTH_HEADER;
	else if (strcmp(type, "bearer") == 0)
		p->alt_auth = FW_AUTH_BEARER;
	else {
		r = pfail(pe, config_setting_get_member(a, "type"), "alt_auth "
		    "type must be header or bearer");
		goto out;
	}
	if (p->alt_auth == FW_AUTH_HEADER && (p->alt_header == NULL ||
	    strpbrk(p->alt_header, ": \r\n") || *p->alt_header == '\0')) {
		r = pfail(pe, a, "alt_auth type header needs a header 'name'");
		goto out;
	}
	n = strlen(p->alt_setting);
	for (i = 0; i < n; i++)
		if (!((p->alt_setting[i] >= 'a' && p->alt_setting[i] <= 'z') ||
		    (p->alt_setting[i] >= '0' && p->alt_setting[i] <= '9') ||
		    p->alt_setting[i] == '_'))
			break;
	for (r = 0; taken[r]; r++)
		if (strcmp(taken[r], p->alt_setting) == 0)
			break;
	if (i < n || n < 6 || strcmp(p->alt_setting + n - 5, "_file") != 0 ||
	    taken[r] != NULL) {
		r = pfail(pe, config_setting_get_member(a, "setting"),
		    "alt_auth setting must be a new name like \"api_key_file\"");
		goto out;
	}
	r = 0;
out:
	free(type);
	return r;
}

static int
parse_retry(struct perr *pe, const config_setting_t *root,
    struct fw_profile *p)
{
	static const char *const keys[] = { "statuses", "max_attempts",
	    "backoff", "max_wait", "header", "form", NULL };
	const config_setting_t	*g = config_setting_get_member(root, "retry");
	char			*form = NULL;
	double			 att;
	int			 r;

	p->max_attempts = 1;
	p->backoff = 1.0;
	p->max_wait = 30.0;
	p->retry_header = xstrdup("Retry-After");
	p->retry_form = FW_RA_AUTO;
	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return pfail(pe, g, "'retry' must be a group");
	free(p->retry_header);
	p->retry_header = NULL;
	if ((r = only_keys(pe, g, keys, "retry")) != 0 ||
	    (r = get_statuses(pe, g, "statuses", p->retry_status,
	    &p->nretry_status)) != 0 ||
	    (r = get_num(pe, g, "max_attempts", 3, 1, 20, &att)) != 0 ||
	    (r = get_num(pe, g, "backoff", 1.0, 0.0, 60, &p->backoff)) != 0 ||
	    (r = get_num(pe, g, "max_wait", 30, 0.0, 600, &p->max_wait)) !=
	    0 ||
	    (r = get_str(pe, g, "header", 0, &p->retry_header)) != 0 ||
	    (r = get_str(pe, g, "form", 0, &form)) != 0)
		goto out;
	p->max_attempts = (int)att;
	if (p->retry_header == NULL)
		p->retry_header = xstrdup("Retry-After");
	if (form == NULL || strcmp(form, "auto") == 0)
		p->retry_form = FW_RA_AUTO;
	else if (strcmp(form, "delta") == 0)
		p->retry_form = FW_RA_DELTA;
	else if (strcmp(form, "epoch") == 0)
		p->retry_form = FW_RA_EPOCH;
	else
		r = pfail(pe, config_setting_get_member(g, "form"), "form must "
		    "be delta, epoch or auto");
out:
	free(form);
	return r;
}

static int
parse_vars(struct perr *pe, const config_setting_t *root,
    struct fw_profile *p)
{
	const config_setting_t	*g = config_setting_get_member(root, "vars"),
				*e;
	const char		*v, *n;
	int			 i, len;

	p->vars = json_object();
	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return pfail(pe, g, "'vars' must be a group");
	len = config_setting_length(g);
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(g, (unsigned)i);
		n = config_setting_name(e);
		if ((v = config_setting_get_string(e)) == NULL)
			return pfail(pe, e, "var '%s' must be a string", n);
		if (is_builtin(pe, n))
			return pfail(pe, e, "var '%s' is reserved", n);
		(void)json_object_set_new(p->vars, n, json_string(v));
	}
	return 0;
}

/* A step may only ask for alt_auth when the profile defines one. */
static int
alt_used_ok(struct perr *pe, const config_setting_t *root,
    const struct fw_profile *p, const char *key, const struct fw_steps *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (l->v[i]->auth == FW_SAUTH_ALT &&
		    p->alt_auth == FW_AUTH_NONE)
			return pfail(pe, config_setting_get_elem(
			    config_setting_get_member(root, key), (unsigned)i),
			    "auth = \"alt\" needs an 'alt_auth' group");
	return 0;
}

void
fw_profile_free(struct fw_profile *p)
{
	size_t	i;

	if (p == NULL)
		return;
	free(p->file);
	free(p->name);
	free(p->auth_header);
	free(p->auth_prefix);
	free(p->token_url);
	free(p->login_body);
	free(p->token_path);
	free(p->alt_header);
	free(p->alt_prefix);
	free(p->alt_setting);
	free(p->token_scope);
	json_decref(p->vars);
	free(p->retry_header);
	free(p->isolated);
	for (i = 0; i < p->state.n; i++)
		step_free(p->state.v[i]);
	for (i = 0; i < p->isolate.n; i++)
		step_free(p->isolate.v[i]);
	for (i = 0; i < p->release.n; i++)
		step_free(p->release.v[i]);
	free(p);
}

int
fw_profile_load(const char *dir, const char *name, struct fw_profile **ret,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "description", "host",
	    "auth", "alt_auth", "vars", "retry", "max_parallel", "state",
	    "isolated", "isolate", "release", NULL };
	struct fw_profile	*p = xcalloc(1, sizeof(*p));
	struct perr		 pe = { NULL, err, errlen, NULL };
	const config_setting_t	*root;
	config_t		 cf;
	char			*text = NULL, *host = NULL, *desc = NULL;
	char			 why[256];
	double			 mp;
	size_t			 len, i;
	int			 r;

	config_init(&cf);
	for (i = 0; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		    name[i] == '-'))
			break;
	if (i == 0 || name[i] != '\0' || i > 64) {
		(void)snprintf(err, errlen, "bad provider name '%s'", name);
		r = -EINVAL;
		goto out;
	}
	p->file = xasprintf("%s/%s.profile", dir, name);
	pe.file = p->file;
	pe.p = p;
	if ((r = read_file(p->file, FW_PROFILE_MAX_BYTES, &text, &len)) != 0) {
		(void)snprintf(err, errlen, "%s: %s", p->file, strerror(-r));
		goto out;
	}
	if (strlen(text) != len) {
		(void)snprintf(err, errlen, "%s: NUL byte in profile", p->file);
		r = -EINVAL;
		goto out;
	}
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		(void)snprintf(err, errlen, "%s:%d: %s", p->file,
		    config_error_line(&cf), config_error_text(&cf));
		r = -EINVAL;
		goto out;
	}
	root = config_root_setting(&cf);
	if ((r = only_keys(&pe, root, keys, "profile")) != 0 ||
	    (r = get_str(&pe, root, "name", 1, &p->name)) != 0 ||
	    (r = get_str(&pe, root, "description", 0, &desc)) != 0 ||
	    (r = get_str(&pe, root, "host", 1, &host)) != 0 ||
	    (r = parse_auth(&pe, root, p)) != 0 ||
	    (r = parse_alt_auth(&pe, root, p)) != 0 ||
	    (r = parse_vars(&pe, root, p)) != 0 ||
	    (r = parse_retry(&pe, root, p)) != 0 ||
	    (r = get_num(&pe, root, "max_parallel", 0, 1, 64, &mp)) != 0 ||
	    (r = parse_steps(&pe, root, "state", 0, &p->state)) != 0 ||
	    (r = get_str(&pe, root, "isolated", p->state.n > 0,
	    &p->isolated)) != 0 ||
	    (r = parse_steps(&pe, root, "isolate", 1, &p->isolate)) != 0 ||
	    (r = parse_steps(&pe, root, "release", 1, &p->release)) != 0)
		goto out;
	p->max_parallel = (int)mp;
	if (strcmp(p->name, name) != 0) {
		r = pfail(&pe, config_setting_get_member(root, "name"), "name "
		    "'%s' differs from the file name '%s'", p->name, name);
		goto out;
	}
	if (strcmp(host, "ip") == 0)
		p->host = FW_HOST_IP;
	else if (strcmp(host, "id") == 0)
		p->host = FW_HOST_ID;
	else {
		r = pfail(&pe, config_setting_get_member(root, "host"),
		    "host must be \"ip\" or \"id\"");
		goto out;
	}
	if ((r = alt_used_ok(&pe, root, p, "state", &p->state)) != 0 ||
	    (r = alt_used_ok(&pe, root, p, "isolate", &p->isolate)) != 0 ||
	    (r = alt_used_ok(&pe, root, p, "release", &p->release)) != 0)
		goto out;
	if (p->isolated && p->state.n == 0) {
		r = pfail(&pe, config_setting_get_member(root, "isolated"),
		    "'isolated' needs 'state' steps to judge");
		goto out;
	}
	if (p->isolated && fw_cond_check(p->isolated, noraw, why,
	    sizeof(why)) != 0) {
		r = pfail(&pe, config_setting_get_member(root, "isolated"),
		    "%s", why);
		goto out;
	}
	*ret = p;
	p = NULL;
	r = 0;
out:
	config_destroy(&cf);
	free(text);
	free(host);
	free(desc);
	fw_profile_free(p);
	return r;
}
