#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "driver.h"
#include "runbook.h"
#include "util.h"

static int
rb_fail(char *err, size_t len, const char *file, int line,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(err, len, "%s:%d: %s", file, line, msg);
	return -EINVAL;
}

#define FAIL(s, ...) rb_fail(err, errlen, file, \
	(s) ? config_setting_source_line(s) : 0, __VA_ARGS__)

static int
str_member(const config_setting_t *g, const char *k, const char **ret)
{
	const config_setting_t	*s = config_setting_get_member(g, k);

	*ret = NULL;
	if (s == NULL)
		return 0;
	if ((*ret = config_setting_get_string(s)) == NULL)
		return -1;
	return 0;
}

/* Only ${name} references; returns -1 on an unterminated or empty one. */
static int
check_refs(const char *s, const struct runbook *rb, int allow_item,
    const char **ret_bad)
{
	const char	*p = s, *e;
	size_t		 i, n;

	while ((p = strstr(p, "${")) != NULL) {
		if ((e = strchr(p, '}')) == NULL || e == p + 2) {
			*ret_bad = p;
			return -1;
		}
		n = (size_t)(e - p - 2);
		if (allow_item && n == 4 && strncmp(p + 2, "item", 4) == 0) {
			p = e + 1;
			continue;
		}
		for (i = 0; i < rb->nparams; i++)
			if (strlen(rb->params[i].name) == n &&
			    strncmp(rb->params[i].name, p + 2, n) == 0)
				break;
		if (i == rb->nparams) {
			*ret_bad = p;
			return -1;
		}
		p = e + 1;
	}
	return 0;
}

static const char *param_keys[] = { "name", "type", "required", "default",
    "description", NULL };
static const char *step_keys[] = { "name", "verb", "target", "foreach", "args",
    "approval", "on_failure", "description", NULL };

/* A typo in a key ("requird") must not silently change meaning. */
static int
only_keys(const char *file, const config_setting_t *g, const char **keys,
    char *err, size_t errlen)
{
	int	i, j, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t	*m = config_setting_get_elem(g,
		    (unsigned)i);
		const char		*k = config_setting_name(m);

		for (j = 0; keys[j]; j++)
			if (k && strcmp(k, keys[j]) == 0)
				break;
		if (keys[j] == NULL)
			return FAIL(m, "unknown key '%s'", k ? k : "?");
	}
	return 0;
}

static int
parse_params(const char *file, config_t *cf, struct runbook *rb, char *err,
    size_t errlen)
{
	const config_setting_t	*l = config_lookup(cf, "params");
	const char		*name, *type, *def;
	int			 i, n, req, r;
	size_t			 j;

	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l))
		return FAIL(l, "'params' must be a list of groups");
	n = config_setting_length(l);
	rb->params = xcalloc((size_t)n, sizeof(*rb->params));
	for (i = 0; i < n; i++) {
		config_setting_t	*p = config_setting_get_elem(l,
		    (unsigned)i);
		struct rb_param		*pp = &rb->params[rb->nparams];

		if (!config_setting_is_group(p))
			return FAIL(p, "parameter must be a group");
		if (str_member(p, "name", &name) || name == NULL)
			return FAIL(p, "parameter needs a string 'name'");
		if (str_member(p, "type", &type) || type == NULL)
			return FAIL(p, "parameter '%s' needs a 'type'", name);
		if (str_member(p, "default", &def))
			return FAIL(p, "'default' must be a string");
		for (j = 0; j < rb->nparams; j++)
			if (strcmp(rb->params[j].name, name) == 0)
				return FAIL(p, "duplicate parameter '%s'",
				    name);
		if (strcmp(name, "item") == 0)
			return FAIL(p, "'item' is reserved for foreach");
		if (strcmp(type, "string") == 0)
			pp->type = RB_STRING;
		else if (strcmp(type, "list") == 0)
			pp->type = RB_LIST;
		else if (strcmp(type, "int") == 0)
			pp->type = RB_INT;
		else if (strcmp(type, "bool") == 0)
			pp->type = RB_BOOL;
		else
			return FAIL(p, "parameter '%s': unknown type '%s' "
			    "(string, list, int, bool)", name, type);
		if ((r = only_keys(file, p, param_keys, err, errlen)) != 0)
			return r;
		req = 0;
		if (config_setting_get_member(p, "required") != NULL &&
		    config_setting_type(config_setting_get_member(p,
		    "required")) != CONFIG_TYPE_BOOL)
			return FAIL(config_setting_get_member(p, "required"),
			    "'required' must be true or false");
		(void)config_setting_lookup_bool(p, "required", &req);
		pp->name = xstrdup(name);
		pp->required = req;
		pp->def = def ? xstrdup(def) : NULL;
		pp->line = config_setting_source_line(p);
		rb->nparams++;
	}
	return 0;
}

static int
parse_step(const char *file, config_setting_t *s, struct runbook *rb,
    struct rb_step *st, char *err, size_t errlen)
{
	const config_setting_t	*a;
	const struct verb	*v;
	const char		*name, *verb, *target, *fe, *appr, *onf;
	const char		*badref;
	char			 aerr[320];
	int			 i, n;

	if (!config_setting_is_group(s))
		return FAIL(s, "step must be a group");
	st->line = config_setting_source_line(s);
	if ((i = only_keys(file, s, step_keys, err, errlen)) != 0)
		return i;
	if (str_member(s, "name", &name) || name == NULL)
		return FAIL(s, "step needs a string 'name'");
	for (i = 0; rb->steps + i < st; i++)
		if (strcmp(rb->steps[i].name, name) == 0)
			return FAIL(s, "duplicate step name '%s'", name);
	if (str_member(s, "verb", &verb) || verb == NULL)
		return FAIL(s, "step '%s' needs a 'verb'", name);
	if (str_member(s, "target", &target) || target == NULL)
		return FAIL(s, "step '%s' needs a 'target'", name);
	if (str_member(s, "foreach", &fe) || str_member(s, "approval", &appr)
	    || str_member(s, "on_failure", &onf))
		return FAIL(s, "step '%s': foreach, approval and on_failure "
		    "must be strings", name);
	if ((v = driver_verb(verb, NULL)) == NULL)
		return FAIL(config_setting_get_member(s, "verb"),
		    "unknown verb '%s'", verb);
	st->name = xstrdup(name);
	st->verb = xstrdup(verb);
	st->target = xstrdup(target);
	st->approval_required = 1;
	if (appr && strcmp(appr, "none") == 0)
		st->approval_required = 0;
	else if (appr && strcmp(appr, "required") != 0)
		return FAIL(s, "approval must be \"required\" or \"none\"");
	if (v->needs_approval && !st->approval_required)
		return FAIL(config_setting_get_member(s, "approval"),
		    "step '%s': %s cannot be undone and needs approval = "
		    "\"required\"", name, verb);
	st->stop_on_fail = 1;
	if (onf && strcmp(onf, "continue") == 0)
		st->stop_on_fail = 0;
	else if (onf && strcmp(onf, "stop") != 0)
		return FAIL(s, "on_failure must be \"stop\" or \"continue\"");
	if (fe) {
		size_t j, len = strlen(fe);

		for (j = 0; j < rb->nparams; j++)
			if (len == strlen(rb->params[j].name) + 3 &&
			    strncmp(fe, "${", 2) == 0 && fe[len - 1] == '}' &&
			    strncmp(fe + 2, rb->params[j].name, len - 3) == 0)
				break;
		if (j == rb->nparams || rb->params[j].type != RB_LIST)
			return FAIL(config_setting_get_member(s, "foreach"),
			    "foreach must be \"${name}\" of a list parameter");
		st->foreach = xstrdup(fe);
	}
	st->args = json_object();
	if ((a = config_setting_get_member(s, "args")) != NULL) {
		if (!config_setting_is_group(a))
			return FAIL(a, "args must be a group");
		n = config_setting_length(a);
		for (i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(a,
			    (unsigned)i);
			const char *val = config_setting_get_string(e);

			if (val == NULL)
				return FAIL(e, "arg '%s' must be a string",
				    config_setting_name(e));
			if (check_refs(val, rb, fe != NULL, &badref) != 0)
				return FAIL(e, "arg '%s': unknown reference "
				    "'%.40s'", config_setting_name(e),
				    badref);
			if (v->arg_check && strstr(val, "${") == NULL &&
			    v->arg_check(config_setting_name(e), val, aerr,
			    sizeof(aerr)) != 0)
				return FAIL(e, "step '%s': %s", name, aerr);
			(void)json_object_set_new(st->args,
			    config_setting_name(e), json_string(val));
		}
	}
	for (i = 0; v->required_params[i]; i++)
		if (json_object_get(st->args, v->required_params[i]) == NULL)
			return FAIL(s, "step '%s': %s needs arg '%s'", name,
			    verb, v->required_params[i]);
	return 0;
}

int
runbook_parse(const char *file, const char *text, struct runbook **ret,
    char *err, size_t errlen)
{
	config_t		 cf;
	const config_setting_t	*l;
	struct runbook		*rb = xcalloc(1, sizeof(*rb));
	const char		*s;
	int			 i, n, r = -EINVAL;

	config_init(&cf);
	rb->file = xstrdup(file);
	sha256_hex(text, strlen(text), rb->sha);
	/*
	 * libconfig 1.5 would read any file the agent can open, and the
	 * recorded hash would not cover it: a runbook is one text.
	 */
	for (s = text, i = 1; *s; i++) {
		const char *ln = s + strspn(s, " \t");

		if (strncmp(ln, "@include", 8) == 0) {
			r = rb_fail(err, errlen, file, i, "@include is not "
			    "allowed in a runbook");
			goto out;
		}
		s = strchr(s, '\n');
		if (s == NULL)
			break;
		s++;
	}
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		r = rb_fail(err, errlen, file, config_error_line(&cf), "%s",
		    config_error_text(&cf));
		goto out;
	}
	if (config_lookup_string(&cf, "name", &s) == CONFIG_TRUE)
		rb->name = xstrdup(s);
	if (config_lookup_string(&cf, "description", &s) == CONFIG_TRUE)
		rb->description = xstrdup(s);
	if ((r = parse_params(file, &cf, rb, err, errlen)) != 0)
		goto out;
	l = config_lookup(&cf, "steps");
	if (l == NULL || !config_setting_is_list(l) ||
	    config_setting_length(l) == 0) {
		r = rb_fail(err, errlen, file, l ?
		    config_setting_source_line(l) : 1,
		    "'steps' must be a non-empty list");
		goto out;
	}
	n = config_setting_length(l);
	rb->steps = xcalloc((size_t)n, sizeof(*rb->steps));
	for (i = 0; i < n; i++) {
		if ((r = parse_step(file, config_setting_get_elem(l,
		    (unsigned)i), rb, &rb->steps[rb->nsteps++], err,
		    errlen)) != 0)
			goto out;
	}
	*ret = rb;
	rb = NULL;
	r = 0;
out:
	config_destroy(&cf);
	runbook_free(rb);
	return r;
}

void
runbook_free(struct runbook *rb)
{
	size_t	i;

	if (rb == NULL)
		return;
	for (i = 0; i < rb->nparams; i++) {
		free(rb->params[i].name);
		free(rb->params[i].def);
	}
	for (i = 0; i < rb->nsteps; i++) {
		free(rb->steps[i].name);
		free(rb->steps[i].verb);
		free(rb->steps[i].target);
		free(rb->steps[i].foreach);
		json_decref(rb->steps[i].args);
	}
	free(rb->params);
	free(rb->steps);
	free(rb->file);
	free(rb->name);
	free(rb->description);
	free(rb);
}

/* One value as given: no NUL inside, bounded length. */
static int
check_value(const char *file, const struct rb_param *p, json_t *v,
    size_t idx, char *err, size_t errlen)
{
	size_t	len = json_string_length(v);

	if (strlen(json_string_value(v)) != len)
		return rb_fail(err, errlen, file, p->line, "parameter '%s' "
		    "item %zu contains a NUL byte", p->name, idx + 1);
	if (len > RUNBOOK_VALUE_MAX)
		return rb_fail(err, errlen, file, p->line, "parameter '%s' "
		    "item %zu is too long (%zu bytes, at most %d)", p->name,
		    idx + 1, len, RUNBOOK_VALUE_MAX);
	return 0;
}

/* Normalises given values by type: lists become arrays of strings. */
static int
resolve_params(const struct runbook *rb, json_t *given, json_t **ret,
    char *err, size_t errlen)
{
	const char	*file = rb->file, *key;
	json_t		*vals = json_object(), *v, *tmp;
	size_t		 i, k;
	int		 r;

	json_object_foreach(given, key, v) {
		for (i = 0; i < rb->nparams; i++)
			if (strcmp(rb->params[i].name, key) == 0)
				break;
		if (i == rb->nparams) {
			r = rb_fail(err, errlen, file, 1, "unknown parameter "
			    "'%s'", key);
			goto fail;
		}
	}
	for (i = 0; i < rb->nparams; i++) {
		const struct rb_param	*p = &rb->params[i];
		json_t			*out;

		v = json_object_get(given, p->name);
		tmp = NULL;
		if (v == NULL && p->def)
			v = tmp = json_string(p->def);
		if (v == NULL) {
			if (p->required) {
				r = rb_fail(err, errlen, file, p->line,
				    "missing parameter '%s' (--set %s=...)",
				    p->name, p->name);
				goto fail;
			}
			continue;
		}
		if (p->type == RB_LIST) {
			out = json_array();
			if (!json_is_array(v) && !json_is_string(v)) {
				json_decref(out);
				json_decref(tmp);
				r = rb_fail(err, errlen, file, p->line,
				    "parameter '%s' must be a list", p->name);
				goto fail;
			}
			if (json_is_array(v)) {
				json_t *item;

				json_array_foreach(v, k, item) {
					if (!json_is_string(item) ||
					    json_string_length(item) == 0) {
						json_decref(out);
						json_decref(tmp);
						r = rb_fail(err, errlen, file,
						    p->line, "parameter '%s' "
						    "item %zu is not a non-empty "
						    "string", p->name, k + 1);
						goto fail;
					}
					(void)json_array_append(out, item);
				}
			} else if (json_is_string(v)) {
				const char *s = json_string_value(v), *c;

				if (strlen(s) != json_string_length(v)) {
					json_decref(out);
					json_decref(tmp);
					r = rb_fail(err, errlen, file,
					    p->line, "parameter '%s' contains"
					    " a NUL byte", p->name);
					goto fail;
				}
				while (*s) {
					c = strchr(s, ',');
					if (c == NULL)
						c = s + strlen(s);
					if (c > s)
						(void)json_array_append_new(
						    out, json_stringn(s,
						    (size_t)(c - s)));
					s = *c ? c + 1 : c;
				}
			}
			{
				json_t *item;

				json_array_foreach(out, k, item) {
					if ((r = check_value(file, p, item, k,
					    err, errlen)) != 0) {
						json_decref(out);
						json_decref(tmp);
						goto fail;
					}
				}
			}
		} else if (!json_is_string(v)) {
			json_decref(tmp);
			r = rb_fail(err, errlen, file, p->line, "parameter "
			    "'%s' must be a single value", p->name);
			goto fail;
		} else {
			const char	*s = json_string_value(v);
			char		*end;

			if ((r = check_value(file, p, v, 0, err,
			    errlen)) != 0) {
				json_decref(tmp);
				goto fail;
			}
			if (p->type == RB_INT) {
				errno = 0;
				(void)strtoll(s, &end, 10);
				if (errno || *s == '\0' || *end != '\0') {
					/* s may live in tmp: report first. */
					r = rb_fail(err, errlen, file, p->line,
					    "parameter '%s' must be an "
					    "integer, not '%.40s'", p->name,
					    s);
					json_decref(tmp);
					goto fail;
				}
			} else if (p->type == RB_BOOL &&
			    strcmp(s, "true") != 0 && strcmp(s, "false")) {
				json_decref(tmp);
				r = rb_fail(err, errlen, file, p->line,
				    "parameter '%s' must be true or false",
				    p->name);
				goto fail;
			}
			out = json_incref(v);
		}
		json_decref(tmp);
		(void)json_object_set_new(vals, p->name, out);
	}
	*ret = vals;
	return 0;
fail:
	json_decref(vals);
	return r;
}

/* "${a}-x" with vals and item; list values are refused outside foreach. */
static int
subst(const char *tmpl, json_t *vals, const char *item, char **ret)
{
	struct buf	 b;
	const char	*p = tmpl, *s, *e;
	char		 name[128];
	json_t		*v;
	size_t		 n;

	buf_init(&b, 16 * RUNBOOK_VALUE_MAX + strlen(tmpl));
	while ((s = strstr(p, "${")) != NULL) {
		e = strchr(s, '}');
		if (buf_add(&b, p, (size_t)(s - p)) != 0)
			goto fail;
		n = (size_t)(e - s - 2);
		if (n >= sizeof(name))
			goto fail;
		memcpy(name, s + 2, n);
		name[n] = '\0';
		if (strcmp(name, "item") == 0 && item) {
			if (buf_adds(&b, item) != 0)
				goto fail;
		} else if ((v = json_object_get(vals, name)) != NULL &&
		    json_is_string(v)) {
			if (buf_adds(&b, json_string_value(v)) != 0)
				goto fail;
		} else if (v == NULL) {
			/* an optional parameter left unset: empty */
		} else
			goto fail;
		p = e + 1;
	}
	if (buf_adds(&b, p) != 0)
		goto fail;
	*ret = buf_steal(&b);
	return 0;
fail:
	buf_free(&b);
	return -EINVAL;
}

/* The acts so far, growing. */
struct actv {
	struct act	**v;
	size_t		  n, cap, max;
};

/* One act per item of the step's foreach (or one), all on target t. */
static int
expand_step(const struct runbook *rb, const struct rb_step *st,
    const struct target *t, const struct customer *cu, json_t *vals,
    struct actv *av, char *err, size_t errlen)
{
	const char	*file = rb->file, *key;
	json_t		*items, *it, *tv;
	size_t		 k;
	int		 r = 0;

	if (strncmp(st->verb, t->type, strlen(t->type)) != 0 ||
	    st->verb[strlen(t->type)] != '.')
		return rb_fail(err, errlen, file, st->line, "step '%s': target "
		    "'%s' is of type '%s', verb '%s' needs another", st->name,
		    t->name, t->type, st->verb);
	if (st->foreach) {
		char name[128];

		(void)snprintf(name, sizeof(name), "%.*s",
		    (int)strlen(st->foreach) - 3, st->foreach + 2);
		items = json_object_get(vals, name);
		if (items == NULL || json_array_size(items) == 0)
			return rb_fail(err, errlen, file, st->line, "step "
			    "'%s': foreach '%s' is empty; refusing (an empty "
			    "list never means all)", st->name, st->foreach);
		items = json_incref(items);
	} else {
		items = json_array();
		(void)json_array_append_new(items, json_null());
	}
	json_array_foreach(items, k, it) {
		struct act *a;

		if (av->n >= av->max) {
			r = rb_fail(err, errlen, file, st->line, "run would "
			    "exceed %zu actions (agent max_actions)", av->max);
			break;
		}
		a = act_new();
		a->verb = xstrdup(st->verb);
		a->target = t;
		a->target_name = xstrdup(t->name);
		a->customer = cu;
		a->step = xstrdup(st->name);
		a->approval_required = st->approval_required;
		a->params = json_object();
		if (av->n == av->cap) {
			av->cap = av->cap ? 2 * av->cap : 64;
			av->v = xreallocarray(av->v, av->cap, sizeof(*av->v));
		}
		av->v[av->n++] = a;
		json_object_foreach(st->args, key, tv) {
			char *sv;

			if (subst(json_string_value(tv), vals,
			    json_string_value(it), &sv) != 0) {
				r = rb_fail(err, errlen, file, st->line,
				    "step '%s': arg '%s' cannot be expanded "
				    "(a list outside foreach, or too long)",
				    st->name, key);
				break;
			}
			(void)json_object_set_new(a->params, key,
			    json_string(sv));
			free(sv);
		}
		if (r != 0)
			break;
	}
	json_decref(items);
	return r;
}

/*
 * Steps run in runbook order; the driver may refuse an order that would
 * undo an earlier step's effect on the same target.
 */
static int
check_order(const struct runbook *rb, const struct customer *cu,
    char *err, size_t errlen)
{
	const struct driver	*d;
	struct target		**ta, **tb;
	char			 why[512];
	size_t			 i, j, k, l, na, nb;
	int			 r = 0;

	for (i = 0; i < rb->nsteps && r == 0; i++) {
		if (driver_verb(rb->steps[i].verb, &d) == NULL ||
		    d->step_order == NULL ||
		    config_targets(cu, rb->steps[i].target, &ta, &na) != 0)
			continue;
		for (j = i + 1; j < rb->nsteps && r == 0; j++) {
			if (config_targets(cu, rb->steps[j].target, &tb,
			    &nb) != 0)
				continue;
			for (k = 0; k < na && r == 0; k++)
				for (l = 0; l < nb && r == 0; l++)
					if (ta[k] == tb[l] && d->step_order(
					    ta[k], rb->steps[i].verb,
					    rb->steps[j].verb, why,
					    sizeof(why)) != 0)
						r = rb_fail(err, errlen,
						    rb->file,
						    rb->steps[j].line, "step "
						    "'%s' after step '%s' on "
						    "target '%s': %s",
						    rb->steps[j].name,
						    rb->steps[i].name,
						    ta[k]->name, why);
			free(tb);
		}
		free(ta);
	}
	return r;
}

int
runbook_expand(const struct runbook *rb, const struct customer *cu,
    json_t *given, size_t max, struct act ***ret, size_t *ret_n, char *err,
    size_t errlen)
{
	struct actv	  av = { NULL, 0, 0, max };
	struct target	**ts;
	json_t		 *vals = NULL;
	size_t		  i, k, nt;
	int		  r;

	if ((r = resolve_params(rb, given, &vals, err, errlen)) != 0)
		return r;
	for (i = 0; i < rb->nsteps && r == 0; i++) {
		const struct rb_step *st = &rb->steps[i];

		if (config_targets(cu, st->target, &ts, &nt) != 0) {
			r = rb_fail(err, errlen, rb->file, st->line, "step "
			    "'%s': customer '%s' has no target or target "
			    "group '%s'", st->name, cu->name, st->target);
			break;
		}
		/* A target group fans out: the step runs on every member. */
		for (k = 0; k < nt && r == 0; k++)
			r = expand_step(rb, st, ts[k], cu, vals, &av, err,
			    errlen);
		free(ts);
	}
	json_decref(vals);
	if (r == 0)
		r = check_order(rb, cu, err, errlen);
	if (r != 0) {
		for (k = 0; k < av.n; k++)
			act_free(av.v[k]);
		free(av.v);
		return r;
	}
	*ret = av.v;
	*ret_n = av.n;
	return 0;
}
