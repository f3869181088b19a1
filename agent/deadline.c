#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "register.h"
#include "util.h"

#define NAME_MAX_LEN	64

static int
dl_fail(char *err, size_t errlen, const config_setting_t *s,
    const char *fmt, ...)
{
	char		 msg[256];
	const char	*file = s ? config_setting_source_file(s) : NULL;
	va_list		 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(err, errlen, "%s:%d: %s", file ? file : "config",
	    s ? config_setting_source_line(s) : 0, msg);
	return -EINVAL;
}

int
deadline_within_parse(const char *s, int64_t *ret, int *ret_months)
{
	char		*end;
	long long	 v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	*ret_months = 0;
	if (strcmp(end, "h") == 0)
		v *= 3600;
	else if (strcmp(end, "d") == 0)
		v *= 86400;
	else if (strcmp(end, "month") == 0 || strcmp(end, "months") == 0) {
		if (v > DEADLINE_MONTHS_MAX)
			return -EINVAL;
		*ret_months = 1;
	} else
		return -EINVAL;
	if (!*ret_months && v > DEADLINE_SECONDS_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
days_in(int year, int mon)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (mon == 1 && ((year % 4 == 0 && year % 100 != 0) ||
	    year % 400 == 0))
		return 29;
	return d[mon];
}

int
deadline_add_months(time_t t, int64_t n, time_t *ret)
{
	struct tm	tm;
	int64_t		m;
	int		dim;

	if (n < 0 || n > DEADLINE_MONTHS_MAX || gmtime_r(&t, &tm) == NULL)
		return -ERANGE;
	m = (int64_t)tm.tm_mon + n;
	tm.tm_year += (int)(m / 12);
	tm.tm_mon = (int)(m % 12);
	dim = days_in(tm.tm_year + 1900, tm.tm_mon);
	if (tm.tm_mday > dim)
		tm.tm_mday = dim;
	tm.tm_isdst = 0;
	if ((*ret = timegm(&tm)) == (time_t)-1)
		return -ERANGE;
	return 0;
}

int
deadlines_has_field(const struct deadlines *d, const char *name)
{
	size_t	i;

	for (i = 0; d && i < d->nfields; i++)
		if (strcmp(d->fields[i], name) == 0)
			return 1;
	return 0;
}

/* A time field a rule may start from: built in, or declared. */
static int
is_time_field(const struct deadlines *d, const char *name)
{
	const struct field	*f;

	if (strcmp(name, "aware_at") == 0 || strcmp(name, "opened_at") == 0)
		return 1;
	if ((f = register_field(name)) != NULL)
		return f->type == F_TIME;
	return deadlines_has_field(d, name);
}

static int
field_name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n < 4 || n > NAME_MAX_LEN || !islower((unsigned char)*s) ||
	    strcmp(s + n - 3, "_at") != 0)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s)
		    && *s != '_')
			return 0;
	return 1;
}

/* "FIELD OP VALUE"; VALUE may be "quoted". */
static int
parse_when(const struct deadlines *d, const config_setting_t *s,
    const char *text, struct deadline *r, char *err, size_t errlen)
{
	static const struct { const char *s; enum deadline_op op; } ops[] = {
		{ "==", DL_EQ }, { "!=", DL_NE }, { "<=", DL_LE },
		{ ">=", DL_GE }, { "<", DL_LT }, { ">", DL_GT },
	};
	const struct field	*f;
	const char		*p = text, *q;
	char			*end, *v;
	size_t			 i, n;
	long long		 num;

	while (*p == ' ')
		p++;
	for (q = p; islower((unsigned char)*q) || isdigit((unsigned char)*q)
	    || *q == '_'; q++)
		;
	if (q == p)
		return dl_fail(err, errlen, s, "'when' must be \"FIELD OP "
		    "VALUE\", e.g. \"subjects_count > 500\"");
	r->when_field = xstrndup(p, (size_t)(q - p));
	f = register_field(r->when_field);
	if (f == NULL && !deadlines_has_field(d, r->when_field))
		return dl_fail(err, errlen, s, "'when': unknown field '%s' "
		    "(see 'cordon incident fields')", r->when_field);
	while (*q == ' ')
		q++;
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (strncmp(q, ops[i].s, strlen(ops[i].s)) == 0)
			break;
	if (i == ARRAY_SIZE(ops))
		return dl_fail(err, errlen, s, "'when': expected one of == != "
		    "< <= > >= after '%s'", r->when_field);
	r->when_op = ops[i].op;
	q += strlen(ops[i].s);
	while (*q == ' ')
		q++;
	n = strlen(q);
	while (n > 0 && q[n - 1] == ' ')
		n--;
	if (n >= 2 && q[0] == '"' && q[n - 1] == '"') {
		q++;
		n -= 2;
	}
	if (n == 0)
		return dl_fail(err, errlen, s, "'when': no value to compare "
		    "'%s' with", r->when_field);
	r->when_value = v = xstrndup(q, n);
	if (f != NULL && f->type == F_INT) {
		errno = 0;
		num = strtoll(v, &end, 10);
		if (errno || *end || end == v)
			return dl_fail(err, errlen, s, "'when': '%s' is an "
			    "integer field, '%s' is not an integer",
			    r->when_field, v);
		r->when_num = num;
		return 0;
	}
	if (r->when_op != DL_EQ && r->when_op != DL_NE)
		return dl_fail(err, errlen, s, "'when': '%s' is not an integer "
		    "field: only == and != compare it", r->when_field);
	if (f != NULL && f->type == F_BOOL && strcmp(v, "true") &&
	    strcmp(v, "false"))
		return dl_fail(err, errlen, s, "'when': '%s' is true or false",
		    r->when_field);
	if (f != NULL && f->type == F_ENUM) {
		json_t	*tmp = NULL;
		char	 e2[128];

		if (register_value(f, v, &tmp, e2, sizeof(e2)) != 0)
			return dl_fail(err, errlen, s, "'when': %s", e2);
		json_decref(tmp);
	}
	return 0;
}

static int
get_rule_str(const config_setting_t *g, const char *key, int required,
    const char **ret, char *err, size_t errlen)
{
	const config_setting_t	*m = config_setting_get_member(g, key);

	*ret = NULL;
	if (m == NULL)
		return required ? dl_fail(err, errlen, g, "rule: missing "
		    "'%s'", key) : 0;
	if ((*ret = config_setting_get_string(m)) == NULL || **ret == '\0')
		return dl_fail(err, errlen, m, "rule: '%s' must be a non-empty "
		    "string", key);
	return 0;
}

static const char *const rule_keys[] = {
	"name", "from", "within", "when", "done_when",
};

static int
parse_rule(struct deadlines *d, const char *set, const config_setting_t *g,
    char *err, size_t errlen)
{
	const char		*name, *from, *within, *when, *done;
	const config_setting_t	*m;
	struct deadline		*r;
	size_t			 k;
	int			 i, ret;

	if (!config_setting_is_group(g))
		return dl_fail(err, errlen, g, "rule set '%s': each rule is a "
		    "group { name = ...; from = ...; within = ...; "
		    "done_when = ...; }", set);
	for (i = 0; (m = config_setting_get_elem(g, (unsigned)i)) != NULL;
	    i++) {
		for (k = 0; k < ARRAY_SIZE(rule_keys); k++)
			if (strcmp(config_setting_name(m), rule_keys[k]) == 0)
				break;
		if (k == ARRAY_SIZE(rule_keys))
			return dl_fail(err, errlen, m, "rule: unknown setting "
			    "'%s' (name, from, within, when, done_when)",
			    config_setting_name(m));
	}
	if ((ret = get_rule_str(g, "name", 1, &name, err, errlen)) != 0 ||
	    (ret = get_rule_str(g, "from", 1, &from, err, errlen)) != 0 ||
	    (ret = get_rule_str(g, "within", 1, &within, err, errlen)) != 0 ||
	    (ret = get_rule_str(g, "when", 0, &when, err, errlen)) != 0 ||
	    (ret = get_rule_str(g, "done_when", 1, &done, err, errlen)) != 0)
		return ret;
	d->rules = xreallocarray(d->rules, d->nrules + 1, sizeof(*d->rules));
	r = &d->rules[d->nrules++];
	memset(r, 0, sizeof(*r));
	r->set = xstrdup(set);
	r->name = xstrdup(name);
	r->from = xstrdup(from);
	r->done_when = xstrdup(done);
	if (!is_time_field(d, from))
		return dl_fail(err, errlen, config_setting_get_member(g,
		    "from"), "rule '%s': 'from' must be a time field, not "
		    "'%s' (aware_at, opened_at, a register time field or one "
		    "of the set's 'fields')", name, from);
	if (deadline_within_parse(within, &r->within, &r->months) != 0)
		return dl_fail(err, errlen, config_setting_get_member(g,
		    "within"), "rule '%s': bad duration '%s' (\"24h\", "
		    "\"30d\", \"1 month\")", name, within);
	if (register_field(done) == NULL && !deadlines_has_field(d, done))
		return dl_fail(err, errlen, config_setting_get_member(g,
		    "done_when"), "rule '%s': unknown field '%s' in "
		    "'done_when' (a register field, or declare it in the "
		    "set's 'fields')", name, done);
	if (when != NULL)
		return parse_when(d, config_setting_get_member(g, "when"),
		    when, r, err, errlen);
	return 0;
}

static int
set_name_ok(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s)
		    && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int
parse_fields(const config_setting_t *fl, const char *set,
    struct deadlines *d, char *err, size_t errlen)
{
	const config_setting_t	*m;
	const char		*v;
	int			 i;

	if (!config_setting_is_array(fl) && !config_setting_is_list(fl))
		return dl_fail(err, errlen, fl, "rule set '%s': 'fields' must "
		    "be a list of names", set);
	for (i = 0; i < config_setting_length(fl); i++) {
		m = config_setting_get_elem(fl, (unsigned)i);
		if ((v = config_setting_get_string(m)) == NULL ||
		    !field_name_ok(v))
			return dl_fail(err, errlen, fl, "rule set '%s': a "
			    "field is a lowercase name ending in \"_at\" (a "
			    "time)", set);
		if (register_field(v) != NULL || strcmp(v, "aware_at") == 0 ||
		    strcmp(v, "opened_at") == 0)
			return dl_fail(err, errlen, fl, "rule set '%s': '%s' "
			    "is a register field already", set, v);
		if (deadlines_has_field(d, v))
			continue;	/* two sets may share one */
		d->fields = xreallocarray(d->fields, d->nfields + 1,
		    sizeof(*d->fields));
		d->fields[d->nfields++] = xstrdup(v);
	}
	return 0;
}

/* One set file: every set's fields are known before any rule is read. */
static int
parse_set(const config_setting_t *g, const char *set, int pass,
    struct deadlines *d, char *err, size_t errlen)
{
	const config_setting_t	*fl, *rl, *m;
	int			 i, r;

	if (pass == 0) {
		for (i = 0; (m = config_setting_get_elem(g, (unsigned)i)) !=
		    NULL; i++)
			if (strcmp(config_setting_name(m), "fields") &&
			    strcmp(config_setting_name(m), "rules"))
				return dl_fail(err, errlen, m, "rule set '%s': "
				    "unknown setting '%s' (fields, rules)",
				    set, config_setting_name(m));
		if ((fl = config_setting_get_member(g, "fields")) != NULL)
			return parse_fields(fl, set, d, err, errlen);
		return 0;
	}
	if ((rl = config_setting_get_member(g, "rules")) == NULL ||
	    !config_setting_is_list(rl) || config_setting_length(rl) == 0)
		return dl_fail(err, errlen, rl ? rl : g, "rule set '%s': "
		    "'rules' must be a non-empty list of groups", set);
	for (i = 0; i < config_setting_length(rl); i++)
		if ((r = parse_rule(d, set, config_setting_get_elem(rl,
		    (unsigned)i), err, errlen)) != 0)
			return r;
	return 0;
}

int
deadlines_parse(const char *conf_path, const config_setting_t *names,
    struct deadlines *d, char *err, size_t errlen)
{
	const char	*set, *sl = strrchr(conf_path, '/');
	config_t	*cf;
	char		*path;
	int		 i, j, n, pass, r = 0;

	memset(d, 0, sizeof(*d));
	if (!config_setting_is_array(names) && !config_setting_is_list(names))
		return dl_fail(err, errlen, names, "'deadlines' must be a list "
		    "of rule set names, e.g. [ \"nis2\" ]");
	n = config_setting_length(names);
	for (i = 0; i < n; i++) {
		if ((set = config_setting_get_string_elem(names, i)) == NULL ||
		    !set_name_ok(set))
			return dl_fail(err, errlen, names, "'deadlines' must "
			    "be a list of rule set names ([a-z0-9_-], the "
			    "files rules/NAME.conf beside the config)");
		for (j = 0; j < i; j++)
			if (strcmp(config_setting_get_string_elem(names, j),
			    set) == 0)
				return dl_fail(err, errlen, names, "rule set "
				    "'%s' named twice", set);
	}
	cf = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*cf));
	for (i = 0; i < n; i++)
		config_init(&cf[i]);
	for (i = 0; r == 0 && i < n; i++) {
		set = config_setting_get_string_elem(names, i);
		path = xasprintf("%.*srules/%s.conf", sl ? (int)(sl -
		    conf_path + 1) : 0, conf_path, set);
		if (config_read_file(&cf[i], path) != CONFIG_TRUE) {
			if (config_error_type(&cf[i]) == CONFIG_ERR_FILE_IO)
				r = dl_fail(err, errlen, names, "rule set "
				    "'%s': cannot read %s", set, path);
			else {
				(void)snprintf(err, errlen, "%s:%d: %s", path,
				    config_error_line(&cf[i]),
				    config_error_text(&cf[i]));
				r = -EINVAL;
			}
		}
		free(path);
	}
	for (pass = 0; r == 0 && pass < 2; pass++)
		for (i = 0; r == 0 && i < n; i++)
			r = parse_set(config_root_setting(&cf[i]),
			    config_setting_get_string_elem(names, i), pass, d,
			    err, errlen);
	for (i = 0; i < n; i++)
		config_destroy(&cf[i]);
	free(cf);
	if (r != 0)
		deadlines_free(d);
	return r;
}

void
deadlines_free(struct deadlines *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nrules; i++) {
		free(d->rules[i].set);
		free(d->rules[i].name);
		free(d->rules[i].from);
		free(d->rules[i].done_when);
		free(d->rules[i].when_field);
		free(d->rules[i].when_value);
	}
	for (i = 0; i < d->nfields; i++)
		free(d->fields[i]);
	free(d->rules);
	free(d->fields);
	memset(d, 0, sizeof(*d));
}

static int
is_set(const json_t *rec, const char *k)
{
	const json_t	*v = json_object_get(rec, k);

	return v != NULL && !json_is_null(v) && !json_is_false(v);
}

static int
when_holds(const struct deadline *r, const json_t *rec)
{
	const json_t	*v;
	int		 c;

	if (r->when_field == NULL)
		return 1;
	v = json_object_get(rec, r->when_field);
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		json_int_t	n = json_integer_value(v);

		c = n < r->when_num ? -1 : n > r->when_num;
	} else if (json_is_boolean(v))
		c = strcmp(json_is_true(v) ? "true" : "false", r->when_value);
	else if (json_is_string(v))
		c = strcmp(json_string_value(v), r->when_value);
	else
		return 0;
	switch (r->when_op) {
	case DL_EQ: return c == 0;
	case DL_NE: return c != 0;
	case DL_LT: return c < 0;
	case DL_LE: return c <= 0;
	case DL_GT: return c > 0;
	case DL_GE: return c >= 0;
	case DL_NONE: break;
	}
	return 1;
}

json_t *
deadlines_eval(const struct deadlines *d, const json_t *rec, time_t now)
{
	json_t	*a = json_array(), *e;
	size_t	 i;
	time_t	 from, due;
	char	 ds[32];

	for (i = 0; d && i < d->nrules; i++) {
		const struct deadline	*r = &d->rules[i];
		const char		*fs = json_string_value(
		    json_object_get(rec, r->from));

		e = json_pack("{s:s,s:s,s:s,s:b}", "set", r->set, "name",
		    r->name, "done_when", r->done_when, "overdue", 0);
		if (!when_holds(r, rec))
			(void)json_object_set_new(e, "state",
			    json_string("not_applicable"));
		else if (fs == NULL || parse_time(fs, &from) != 0)
			(void)json_object_set_new(e, "state", json_pack(
			    "s", "waiting"));
		else {
			if (r->months) {
				if (deadline_add_months(from, r->within,
				    &due) != 0)
					due = from;
			} else
				due = from + (time_t)r->within;
			fmt_time(due, ds);
			(void)json_object_set_new(e, "from", json_string(fs));
			(void)json_object_set_new(e, "due", json_string(ds));
			if (is_set(rec, r->done_when)) {
				(void)json_object_set_new(e, "state",
				    json_string("done"));
				/* Met, but after the deadline? */
				fs = json_string_value(json_object_get(rec,
				    r->done_when));
				(void)json_object_set_new(e, "late",
				    json_boolean(fs != NULL && parse_time(fs,
				    &from) == 0 && from > due));
			}
			else {
				(void)json_object_set_new(e, "state",
				    json_string("open"));
				(void)json_object_set_new(e, "seconds_left",
				    json_integer((json_int_t)(due - now)));
				(void)json_object_set_new(e, "overdue",
				    json_boolean(due < now));
			}
		}
		(void)json_array_append_new(a, e);
	}
	return a;
}
