/*
 * fw_expr: profile templates and JSON-path conditions (see fw_expr.h).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/esc.h"
#include "fw_expr.h"

enum esc { ESC_JSON, ESC_XML, ESC_URL, ESC_FORM, ESC_RE, ESC_ODATA,
    ESC_RAW };

static const char *const esc_names[] = { "json", "xml", "url", "form", "re",
    "odata", "raw" };

/* ${name|e1|e2...}: escapings applied left to right (inner to outer). */
#define FW_ESC_CHAIN	4

static int
esc_json_str(struct buf *b, const char *s)
{
	json_t	*j = json_string(s);
	char	*d;
	size_t	 n;
	int	 r;

	if (j == NULL)
		return -EINVAL;		/* not UTF-8 */
	d = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	if (d == NULL)
		return -ENOMEM;
	n = strlen(d);
	r = buf_add(b, d + 1, n - 2);	/* without the quotes */
	free(d);
	return r;
}

static int
esc_xml(struct buf *b, const char *s)
{
	const unsigned char	*p;
	int			 r;

	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': r = buf_adds(b, "&amp;"); break;
		case '<': r = buf_adds(b, "&lt;"); break;
		case '>': r = buf_adds(b, "&gt;"); break;
		case '"': r = buf_adds(b, "&quot;"); break;
		case '\'': r = buf_adds(b, "&apos;"); break;
		default:
			/* XML 1.0 has no encoding for most control bytes. */
			if (*p < 0x20 && *p != '\t' && *p != '\n' &&
			    *p != '\r')
				return -EINVAL;
			r = buf_addc(b, (char)*p);
		}
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * A literal inside a POSIX extended regular expression: a backslash
 * before exactly the characters POSIX makes special there (a lone ] or }
 * is already literal, and \] is undefined).
 */
static int
esc_re(struct buf *b, const char *s)
{
	int	r = 0;

	for (; *s && r == 0; s++) {
		if (strchr("^.[$()|*+?{\\", *s))
			r = buf_addc(b, '\\');
		if (r == 0)
			r = buf_addc(b, *s);
	}
	return r;
}

/* Inside an OData string literal '...': a quote is written twice. */
static int
esc_odata(struct buf *b, const char *s)
{
	int	r = 0;

	for (; *s && r == 0; s++)
		r = *s == '\'' ? buf_adds(b, "''") : buf_addc(b, *s);
	return r;
}

static int
esc_one(struct buf *b, enum esc e, const char *v)
{
	switch (e) {
	case ESC_JSON: return esc_json_str(b, v);
	case ESC_XML: return esc_xml(b, v);
	case ESC_URL:
	case ESC_FORM: return esc_url(b, v);
	case ESC_RE: return esc_re(b, v);
	case ESC_ODATA: return esc_odata(b, v);
	case ESC_RAW: return buf_adds(b, v);
	}
	return -EINVAL;
}

/* v through every escaping of the chain, appended to b. */
static int
esc_chain(struct buf *b, const enum esc *chain, size_t n, const char *v)
{
	struct buf	 t;
	char		*cur = NULL;
	size_t		 i;
	int		 r = 0;

	for (i = 0; i + 1 < n && r == 0; i++) {
		buf_init(&t, FW_TEMPLATE_MAX);
		if ((r = esc_one(&t, chain[i], cur ? cur : v)) == 0) {
			free(cur);
			cur = buf_steal(&t);
		}
		buf_free(&t);
	}
	if (r == 0)
		r = esc_one(b, chain[n - 1], cur ? cur : v);
	free(cur);
	return r;
}

/*
 * Parses the placeholder starting after "${" at p: name into name, the
 * escapings into chain (*ret_n of them), returns the length up to and
 * including "}", or -EINVAL.
 */
static int
placeholder(const char *p, char name[FW_NAME_MAX], enum esc *chain,
    size_t *ret_n, char *err, size_t errlen)
{
	const char	*bar, *end = strchr(p, '}'), *e, *nb;
	size_t		 n, i, len;

	if (end == NULL) {
		(void)snprintf(err, errlen, "unterminated placeholder '${%.20s'",
		    p);
		return -EINVAL;
	}
	bar = memchr(p, '|', (size_t)(end - p));
	if (bar == NULL) {
		(void)snprintf(err, errlen, "placeholder '${%.*s}' needs an "
		    "escaping: |json |xml |url |form |re |odata |raw",
		    (int)(end - p), p);
		return -EINVAL;
	}
	n = (size_t)(bar - p);
	if (n == 0 || n >= FW_NAME_MAX) {
		(void)snprintf(err, errlen, "bad placeholder name");
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_')) {
			(void)snprintf(err, errlen, "bad placeholder name "
			    "'%.*s'", (int)n, p);
			return -EINVAL;
		}
	memcpy(name, p, n);
	name[n] = '\0';
	*ret_n = 0;
	for (e = bar + 1; e <= end; e = nb + 1) {
		nb = memchr(e, '|', (size_t)(end - e));
		if (nb == NULL)
			nb = end;
		len = (size_t)(nb - e);
		for (i = 0; i < ARRAY_SIZE(esc_names); i++)
			if (strlen(esc_names[i]) == len &&
			    strncmp(esc_names[i], e, len) == 0)
				break;
		if (i == ARRAY_SIZE(esc_names)) {
			(void)snprintf(err, errlen, "unknown escaping '%.*s' in "
			    "'${%s|...}'", (int)len, e, name);
			return -EINVAL;
		}
		if (*ret_n == FW_ESC_CHAIN) {
			(void)snprintf(err, errlen, "more than %d escapings in "
			    "'${%s|...}'", FW_ESC_CHAIN, name);
			return -EINVAL;
		}
		chain[(*ret_n)++] = (enum esc)i;
	}
	for (i = 0; i < *ret_n; i++)
		if (chain[i] == ESC_RAW && *ret_n > 1) {
			(void)snprintf(err, errlen, "'${%s|...}': raw cannot be "
			    "chained", name);
			return -EINVAL;
		}
	return (int)(end - p + 1);
}

/* vars NULL: syntax only, every value is "x". */
static int
expand(const char *tmpl, const json_t *vars, const char *const *noraw,
    char **ret, char *err, size_t errlen)
{
	struct buf	 b;
	const char	*p, *v;
	char		 name[FW_NAME_MAX];
	enum esc	 chain[FW_ESC_CHAIN], e;
	size_t		 i, nesc = 0;
	int		 n, r = 0;

	buf_init(&b, FW_TEMPLATE_MAX);
	for (p = tmpl; *p && r == 0; ) {
		if (p[0] != '$') {
			r = buf_addc(&b, *p++);
			continue;
		}
		if (p[1] == '$') {
			r = buf_addc(&b, '$');
			p += 2;
			continue;
		}
		if (p[1] != '{') {
			r = buf_addc(&b, *p++);
			continue;
		}
		if ((n = placeholder(p + 2, name, chain, &nesc, err,
		    errlen)) < 0) {
			r = n;
			break;
		}
		p += 2 + n;
		e = chain[nesc - 1];
		for (i = 0; e == ESC_RAW && noraw && noraw[i]; i++)
			if (strcmp(noraw[i], name) == 0) {
				(void)snprintf(err, errlen, "'${%s|raw}': a "
				    "runbook value needs a real escaping",
				    name);
				r = -EINVAL;
			}
		if (r != 0)
			break;
		if (vars == NULL)
			v = "x";
		else if ((v = json_string_value(json_object_get(vars,
		    name))) == NULL) {
			(void)snprintf(err, errlen, "no value for '${%s}'",
			    name);
			r = -ENOENT;
			break;
		} else if (strlen(v) != json_string_length(json_object_get(
		    vars, name))) {
			(void)snprintf(err, errlen, "'${%s}' holds a NUL "
			    "byte", name);
			r = -EINVAL;
			break;
		}
		r = esc_chain(&b, chain, nesc, v);
		if (r == -EINVAL)
			(void)snprintf(err, errlen, "'${%s}' has no safe %s "
			    "encoding", name, esc_names[e]);
	}
	if (r == -E2BIG)
		(void)snprintf(err, errlen, "expansion longer than %d bytes",
		    FW_TEMPLATE_MAX);
	if (r == 0 && ret)
		*ret = buf_steal(&b);
	buf_free(&b);
	return r;
}

int
fw_expand(const char *tmpl, const json_t *vars, char **ret, char *err,
    size_t errlen)
{
	json_t	*empty = NULL;
	int	 r;

	if (vars == NULL)
		vars = empty = json_object();
	r = expand(tmpl, vars, NULL, ret, err, errlen);
	json_decref(empty);
	return r;
}

int
fw_template_check(const char *tmpl, const char *const *noraw, char *err,
    size_t errlen)
{
	return expand(tmpl, NULL, noraw, NULL, err, errlen);
}

/*
 * Path evaluation: walks one segment at a time over the current set of
 * values.  A segment is .name, .*, [N], [*] or ["name"].
 */
struct sel {
	const json_t	*v[FW_PATH_MATCH_MAX];
	size_t		 n;
};

static void
sel_add(struct sel *s, const json_t *v)
{
	if (v && s->n < FW_PATH_MATCH_MAX)
		s->v[s->n++] = v;
}

/* Length of the path at p (up to whitespace), or -1 if malformed. */
static int
path_eval(const char *p, const json_t *doc, struct sel *out)
{
	struct sel	*cur = xcalloc(1, sizeof(*cur));
	struct sel	*nxt = xcalloc(1, sizeof(*nxt)), *t;
	const char	*s = p;
	char		 key[FW_NAME_MAX * 4];
	size_t		 i, k, n;
	int		 wild, idx, r = -1;

	if (*s++ != '$')
		goto out;
	sel_add(cur, doc);
	while (*s && *s != ' ' && *s != '\t') {
		wild = 0;
		idx = -1;
		key[0] = '\0';
		if (s[0] == '.' && s[1] == '*') {
			wild = 1;
			s += 2;
		} else if (s[0] == '.') {
			for (n = 1; s[n] && strchr(" \t.[", s[n]) == NULL; n++)
				;
			if (n == 1 || n - 1 >= sizeof(key))
				goto out;
			/* "$.status==\"x\"" is a condition without spaces,
			 * not a key: refused, or it would load and never
			 * hold.  Such a key is still reachable as ["a=b"]. */
			if (memchr(s + 1, '=', n - 1) || memchr(s + 1, '!',
			    n - 1) || memchr(s + 1, '<', n - 1) ||
			    memchr(s + 1, '>', n - 1) || memchr(s + 1, '~',
			    n - 1) || memchr(s + 1, '"', n - 1))
				goto out;
			memcpy(key, s + 1, n - 1);
			key[n - 1] = '\0';
			s += n;
		} else if (s[0] == '[' && s[1] == '*' && s[2] == ']') {
			wild = 1;
			s += 3;
		} else if (s[0] == '[' && s[1] == '"') {
			const char *q = strchr(s + 2, '"');

			if (q == NULL || q[1] != ']' ||
			    (size_t)(q - s - 2) >= sizeof(key))
				goto out;
			memcpy(key, s + 2, (size_t)(q - s - 2));
			key[q - s - 2] = '\0';
			s = q + 2;
		} else if (s[0] == '[' && s[1] >= '0' && s[1] <= '9') {
			char *e;
			long  l = strtol(s + 1, &e, 10);

			if (*e != ']' || l > 1000000)
				goto out;
			idx = (int)l;
			s = e + 1;
		} else
			goto out;
		nxt->n = 0;
		for (i = 0; i < cur->n; i++) {
			const json_t	*v = cur->v[i], *m;
			const char	*kk;

			if (wild && json_is_array(v)) {
				for (k = 0; k < json_array_size(v); k++)
					sel_add(nxt, json_array_get(v, k));
			} else if (wild && json_is_object(v)) {
				json_object_foreach((json_t *)v, kk, m)
					sel_add(nxt, m);
			} else if (idx >= 0) {
				sel_add(nxt, json_array_get(v, (size_t)idx));
			} else if (!wild)
				sel_add(nxt, json_object_get(v, key));
		}
		t = cur;
		cur = nxt;
		nxt = t;
	}
	if (out)
		*out = *cur;
	r = (int)(s - p);
out:
	free(cur);
	free(nxt);
	return r;
}

int
fw_path_check(const char *path)
{
	int	n = path_eval(path, NULL, NULL);

	return n < 0 || path[n] != '\0' ? -EINVAL : 0;
}

json_t *
fw_path_first(const json_t *doc, const char *path)
{
	struct sel	*s = xcalloc(1, sizeof(*s));
	json_t		*v = NULL;

	if (doc && path_eval(path, doc, s) > 0 && s->n > 0)
		v = (json_t *)s->v[0];
	free(s);
	return v;
}

enum op { OP_NONE, OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE, OP_RE };

/* "body": the raw answer rather than a path into its JSON. */
static int
is_body(const char *c)
{
	return strncmp(c, "body", 4) == 0 && (c[4] == '\0' || c[4] == ' ' ||
	    c[4] == '\t');
}

/* Splits "PATH OP LITERAL": returns the path length, op, literal start. */
static int
cond_split(const char *c, enum op *ret_op, const char **ret_lit)
{
	static const struct { const char *s; enum op op; } ops[] = {
		{ "==", OP_EQ }, { "!=", OP_NE }, { ">=", OP_GE },
		{ "<=", OP_LE }, { ">", OP_GT }, { "<", OP_LT }, { "~", OP_RE },
	};
	const char	*p;
	int		 n = is_body(c) ? 4 : path_eval(c, NULL, NULL);
	size_t		 i;

	if (n <= 0)
		return -1;
	p = c + n;
	while (*p == ' ' || *p == '\t')
		p++;
	*ret_op = OP_NONE;
	*ret_lit = NULL;
	if (*p == '\0')
		return n;
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (strncmp(p, ops[i].s, strlen(ops[i].s)) == 0) {
			*ret_op = ops[i].op;
			p += strlen(ops[i].s);
			while (*p == ' ' || *p == '\t')
				p++;
			*ret_lit = p;
			return *p ? n : -1;
		}
	return -1;
}

int
fw_cond_check(const char *cond, const char *const *noraw, char *err,
    size_t errlen)
{
	const char	*lit;
	char		*x = NULL;
	enum op		 op;
	json_t		*j = NULL;
	int		 r;

	if ((r = expand(cond, NULL, noraw, &x, err, errlen)) != 0)
		return r;
	r = 0;
	if (cond_split(x, &op, &lit) < 0) {
		(void)snprintf(err, errlen, "bad condition '%s': want PATH "
		    "[OP JSON] with OP one of == != > >= < <= ~, spaces around "
		    "OP", cond);
		r = -EINVAL;
	} else if (lit && (j = json_loads(lit, JSON_DECODE_ANY, NULL)) ==
	    NULL) {
		(void)snprintf(err, errlen, "bad condition '%s': the right "
		    "side is not a JSON value", cond);
		r = -EINVAL;
	} else if (is_body(x) && op != OP_NONE && op != OP_EQ &&
	    op != OP_NE && op != OP_RE) {
		(void)snprintf(err, errlen, "bad condition '%s': body takes "
		    "only == != ~", cond);
		r = -EINVAL;
	} else if (op == OP_RE) {
		regex_t	re;

		if (!json_is_string(j) || regcomp(&re, json_string_value(j),
		    REG_EXTENDED | REG_NOSUB) != 0) {
			(void)snprintf(err, errlen, "bad condition '%s': ~ "
			    "wants a POSIX extended regular expression as a "
			    "JSON string", cond);
			r = -EINVAL;
		} else
			regfree(&re);
	}
	json_decref(j);
	free(x);
	return r;
}

/* The text matches the expression; 0 when it does not or cannot. */
static int
re_holds(const char *text, const json_t *lit)
{
	regex_t	re;
	int	r;

	if (!json_is_string(lit) || regcomp(&re, json_string_value(lit),
	    REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	r = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return r;
}

static int
compare(const json_t *v, enum op op, const json_t *lit)
{
	double	a, b;
	int	c;

	if (op == OP_RE)
		return json_is_string(v) && re_holds(json_string_value(v), lit);
	if (json_is_number(v) && json_is_number(lit)) {
		a = json_number_value(v);
		b = json_number_value(lit);
		c = a < b ? -1 : a > b ? 1 : 0;
	} else if (json_is_string(v) && json_is_string(lit)) {
		c = strcmp(json_string_value(v), json_string_value(lit));
	} else {
		if (op == OP_EQ)
			return json_equal((json_t *)v, (json_t *)lit);
		if (op == OP_NE)
			return !json_equal((json_t *)v, (json_t *)lit);
		return 0;
	}
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	default: return 0;
	}
}

int
fw_cond_eval(const char *cond, const json_t *doc)
{
	return fw_cond_eval_text(cond, doc, NULL);
}

int
fw_cond_eval_text(const char *cond, const json_t *doc, const char *text)
{
	struct sel	*s;
	const char	*lit;
	enum op		 op;
	json_t		*j = NULL;
	size_t		 i;
	int		 r = 0;

	if (cond_split(cond, &op, &lit) < 0)
		return -EINVAL;
	if (lit && (j = json_loads(lit, JSON_DECODE_ANY, NULL)) == NULL)
		return -EINVAL;
	if (is_body(cond)) {
		if (text == NULL)
			r = 0;
		else if (op == OP_NONE)
			r = *text != '\0';
		else if (op == OP_RE)
			r = re_holds(text, j);
		else if (json_is_string(j))
			r = (strcmp(text, json_string_value(j)) == 0) ==
			    (op == OP_EQ);
		json_decref(j);
		return r;
	}
	if (doc == NULL) {
		json_decref(j);
		return 0;
	}
	s = xcalloc(1, sizeof(*s));
	if (path_eval(cond, doc, s) < 0) {
		r = -EINVAL;
		goto out;
	}
	for (i = 0; i < s->n && r == 0; i++) {
		if (op == OP_NONE)
			r = !json_is_null(s->v[i]) && !json_is_false(s->v[i]);
		else
			r = compare(s->v[i], op, j);
	}
out:
	free(s);
	json_decref(j);
	return r;
}
