#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "config.h"
#include "driver.h"
#include "seal.h"
#include "feed.h"
#include "util.h"

struct perr {
	const char	*file;
	char		*err;
	size_t		 errlen;
};

static int
fail(struct perr *pe, const config_setting_t *s, const char *fmt, ...)
{
	char	msg[CONFIG_ERR_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(pe->err, pe->errlen, "%s:%d: %s", pe->file,
	    s ? config_setting_source_line(s) : 0, msg);
	return -EINVAL;
}

static int
get_str(struct perr *pe, const config_setting_t *grp, const char *key,
    int required, char **ret)
{
	const config_setting_t	*s = config_setting_get_member(grp, key);
	const char		*v;

	*ret = NULL;
	if (s == NULL) {
		if (required)
			return fail(pe, grp, "missing '%s'", key);
		return 0;
	}
	if ((v = config_setting_get_string(s)) == NULL)
		return fail(pe, s, "'%s' must be a string", key);
	*ret = xstrdup(v);
	return 0;
}

/* feed_file (absolute path) and feed_format "jsonl" or "cef". */
static int
get_feed(struct perr *pe, const config_setting_t *a, struct config *c)
{
	const config_setting_t	*s = config_setting_get_member(a,
	    "feed_format");
	const char		*v = NULL;
	int			 r;

	if ((r = get_str(pe, a, "feed_file", 0, &c->feed_file)) != 0)
		return r;
	if (c->feed_file != NULL && c->feed_file[0] != '/')
		return fail(pe, config_setting_get_member(a, "feed_file"),
		    "'feed_file' must be an absolute path");
	if (s != NULL && (v = config_setting_get_string(s)) == NULL)
		return fail(pe, s, "'feed_format' must be a string");
	if (v == NULL || strcmp(v, "jsonl") == 0)
		c->feed_format = FEED_JSONL;
	else if (strcmp(v, "cef") == 0)
		c->feed_format = FEED_CEF;
	else
		return fail(pe, s, "unknown feed_format '%s' (jsonl, cef)", v);
	return 0;
}

static int
get_dur(struct perr *pe, const config_setting_t *grp, const char *key,
    int64_t def, int64_t *ret)
{
	const config_setting_t	*s = config_setting_get_member(grp, key);
	const char		*v;

	*ret = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		*ret = config_setting_get_int64(s);
		if (*ret < 0)
			return fail(pe, s, "'%s' must not be negative", key);
		return 0;
	}
	if ((v = config_setting_get_string(s)) == NULL ||
	    parse_duration(v, ret) != 0)
		return fail(pe, s, "'%s' must be a duration like \"4h\"", key);
	return 0;
}

static int
get_int(struct perr *pe, const config_setting_t *grp, const char *key,
    int64_t def, int64_t min, int64_t max, int64_t *ret)
{
	const config_setting_t	*s = config_setting_get_member(grp, key);

	*ret = def;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(pe, s, "'%s' must be an integer", key);
	*ret = config_setting_get_int64(s);
	if (*ret < min || *ret > max)
		return fail(pe, s, "'%s' must be between %lld and %lld", key,
		    (long long)min, (long long)max);
	return 0;
}

/* Scalar settings become JSON so drivers can read them generically. */
static json_t *
setting_json(const config_setting_t *s)
{
	json_t	*a;
	int	 i, n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_real(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_STRING:
		return json_string(config_setting_get_string(s));
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		a = json_array();
		n = config_setting_length(s);
		for (i = 0; i < n; i++) {
			json_t *v = setting_json(config_setting_get_elem(s,
			    (unsigned)i));
			if (v)
				(void)json_array_append_new(a, v);
		}
		return a;
	default:
		return NULL;
	}
}

/* agent.feeds: a list of groups, each checked by its sink (feed.h). */
static int
get_feeds(struct perr *pe, const config_setting_t *a, struct config *c)
{
	const config_setting_t	*l = config_setting_get_member(a, "feeds");
	char			 why[FEED_ERR_MAX];
	json_t			*o;
	int			 i, j;

	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l))
		return fail(pe, l, "'feeds' must be a list of groups");
	c->feeds = json_array();
	for (i = 0; i < config_setting_length(l); i++) {
		const config_setting_t *f = config_setting_get_elem(l,
		    (unsigned int)i);

		if (!config_setting_is_group(f))
			return fail(pe, f, "a feed must be a group");
		o = json_object();
		(void)json_array_append_new(c->feeds, o);
		for (j = 0; j < config_setting_length(f); j++) {
			const config_setting_t *m = config_setting_get_elem(f,
			    (unsigned int)j);
			json_t *v = setting_json(m);

			if (v == NULL)
				return fail(pe, m, "feed: '%s' must be a "
				    "scalar or a list", config_setting_name(m));
			(void)json_object_set_new(o, config_setting_name(m), v);
		}
		if (feed_conf_check(o, why, sizeof(why)) != 0)
			return fail(pe, f, "feed: %s", why);
	}
	return 0;
}

static int
parse_roles(struct perr *pe, const config_setting_t *cs, struct customer *c)
{
	const config_setting_t	*l = config_setting_get_member(cs, "roles");
	int			 i, n, r;

	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l))
		return fail(pe, l, "'roles' must be a list of groups");
	n = config_setting_length(l);
	c->roles = xcalloc((size_t)n, sizeof(*c->roles));
	for (i = 0; i < n; i++) {
		config_setting_t	*e = config_setting_get_elem(l,
		    (unsigned)i);
		struct role_map		*m = &c->roles[c->nroles++];
		char			*role = NULL;

		if (!config_setting_is_group(e))
			return fail(pe, e, "role entry must be a group");
		if ((r = get_str(pe, e, "user", 0, &m->user)) != 0 ||
		    (r = get_str(pe, e, "group", 0, &m->group)) != 0 ||
		    (r = get_str(pe, e, "role", 1, &role)) != 0) {
			free(role);
			return r;
		}
		if ((m->user == NULL) == (m->group == NULL)) {
			free(role);
			return fail(pe, e, "role entry needs exactly one of "
			    "'user' or 'group'");
		}
		if (strcmp(role, "lead") == 0)
			m->role = ROLE_LEAD;
		else if (strcmp(role, "operator") == 0)
			m->role = ROLE_OPERATOR;
		else if (strcmp(role, "auditor") == 0)
			m->role = ROLE_AUDITOR;
		else {
			r = fail(pe, e, "unknown role '%s' (lead, operator, "
			    "auditor)", role);
			free(role);
			return r;
		}
		free(role);
	}
	return 0;
}

static int
parse_targets(struct perr *pe, const config_setting_t *cs, struct customer *c)
{
	const config_setting_t	*l = config_setting_get_member(cs, "targets");
	char			 derr[CONFIG_ERR_MAX];
	int			 i, j, n, r;

	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l))
		return fail(pe, l, "'targets' must be a list of groups");
	n = config_setting_length(l);
	c->targets = xcalloc((size_t)n, sizeof(*c->targets));
	for (i = 0; i < n; i++) {
		config_setting_t	*e = config_setting_get_elem(l,
		    (unsigned)i);
		struct target		*t = &c->targets[c->ntargets++];
		const struct driver	*d;
		int			 m;

		t->customer = c;
		t->line = config_setting_source_line(e);
		t->opts = json_object();
		if (!config_setting_is_group(e))
			return fail(pe, e, "target must be a group");
		if ((r = get_str(pe, e, "name", 1, &t->name)) != 0 ||
		    (r = get_str(pe, e, "type", 1, &t->type)) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(c->targets[j].name, t->name) == 0)
				return fail(pe, e, "duplicate target '%s'",
				    t->name);
		if ((d = driver_find(t->type)) == NULL)
			return fail(pe, e, "unknown target type '%s'",
			    t->type);
		m = config_setting_length(e);
		for (j = 0; j < m; j++) {
			config_setting_t *s = config_setting_get_elem(e,
			    (unsigned)j);
			json_t *v = setting_json(s);

			if (v == NULL)
				return fail(pe, s, "unsupported value for "
				    "'%s'", config_setting_name(s));
			(void)json_object_set_new(t->opts,
			    config_setting_name(s), v);
		}
		if (d->target_check &&
		    d->target_check(t, derr, sizeof(derr)) != 0)
			return fail(pe, e, "target '%s': %s", t->name, derr);
	}
	return 0;
}

/* secret_role: who may read vault secrets; a lead unless said otherwise. */
static int
parse_secret_role(struct perr *pe, const config_setting_t *cs,
    struct customer *c)
{
	const config_setting_t	*s = config_setting_get_member(cs,
	    "secret_role");
	const char		*v;

	c->secret_role = ROLE_LEAD;
	if (s == NULL)
		return 0;
	if ((v = config_setting_get_string(s)) == NULL)
		return fail(pe, s, "'secret_role' must be a string");
	if (strcmp(v, "lead") == 0)
		c->secret_role = ROLE_LEAD;
	else if (strcmp(v, "operator") == 0)
		c->secret_role = ROLE_OPERATOR;
	else if (strcmp(v, "auditor") == 0)
		c->secret_role = ROLE_AUDITOR;
	else
		return fail(pe, s, "unknown secret_role '%s' (lead, "
		    "operator, auditor)", v);
	return 0;
}

/* recipients = { dpo = "/etc/cordon/dpo-cert.pem"; }: certificates. */
static int
parse_recipients(struct perr *pe, const config_setting_t *cs,
    struct customer *c)
{
	const config_setting_t	*g = config_setting_get_member(cs,
	    "recipients");
	char			 err[CONFIG_ERR_MAX];
	int			 i, n;

	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return fail(pe, g, "'recipients' must be a group of name = "
		    "\"certificate file\"");
	n = config_setting_length(g);
	c->recipients = xcalloc((size_t)n, sizeof(*c->recipients));
	for (i = 0; i < n; i++) {
		config_setting_t	*e = config_setting_get_elem(g,
		    (unsigned)i);
		struct recipient	*rc = &c->recipients[c->nrecipients];
		const char		*v = config_setting_get_string(e);

		if (v == NULL || v[0] != '/')
			return fail(pe, e, "recipient '%s' must be the "
			    "absolute path of a PEM certificate",
			    config_setting_name(e));
		if (seal_cert_check(v, NULL, err, sizeof(err)) != 0)
			return fail(pe, e, "recipient '%s': %s",
			    config_setting_name(e), err);
		rc->name = xstrdup(config_setting_name(e));
		rc->cert = xstrdup(v);
		rc->line = config_setting_source_line(e);
		c->nrecipients++;
	}
	return 0;
}

static int
parse_tgroups(struct perr *pe, const config_setting_t *cs, struct customer *c)
{
	const config_setting_t	*l = config_setting_get_member(cs,
	    "target_groups");
	int			 i, j, n, m;

	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l))
		return fail(pe, l, "'target_groups' must be a list of groups");
	n = config_setting_length(l);
	c->tgroups = xcalloc((size_t)n, sizeof(*c->tgroups));
	for (i = 0; i < n; i++) {
		config_setting_t	*e = config_setting_get_elem(l,
		    (unsigned)i);
		config_setting_t	*ms;
		struct target_group	*g = &c->tgroups[c->ntgroups++];
		int			 r;

		g->line = config_setting_source_line(e);
		if ((r = get_str(pe, e, "name", 1, &g->name)) != 0)
			return r;
		if (config_target(c, g->name) != NULL)
			return fail(pe, e, "target group '%s' has the name of "
			    "a target", g->name);
		for (j = 0; j < i; j++)
			if (strcmp(c->tgroups[j].name, g->name) == 0)
				return fail(pe, e, "duplicate target group "
				    "'%s'", g->name);
		if ((ms = config_setting_get_member(e, "members")) == NULL ||
		    !config_setting_is_aggregate(ms) ||
		    (m = config_setting_length(ms)) == 0)
			return fail(pe, e, "target group '%s' needs a "
			    "non-empty 'members' list", g->name);
		g->members = xcalloc((size_t)m, sizeof(*g->members));
		for (j = 0; j < m; j++) {
			const char *mn = config_setting_get_string_elem(ms, j);
			struct target *t = mn ? config_target(c, mn) : NULL;

			if (t == NULL)
				return fail(pe, ms, "target group '%s': no "
				    "target '%s'", g->name, mn ? mn : "?");
			g->members[g->nmembers++] = t;
		}
	}
	return 0;
}

static int
parse_customer(struct perr *pe, const config_setting_t *cs,
    struct customer *c)
{
	const config_setting_t	*p;
	int			 i, n, r;

	if (!config_setting_is_group(cs))
		return fail(pe, cs, "customer must be a group");
	if ((r = get_str(pe, cs, "name", 1, &c->name)) != 0 ||
	    (r = get_int(pe, cs, "two_leads_above", 0, 0, INT32_MAX,
	    &c->two_leads_above)) != 0 ||
	    (r = parse_secret_role(pe, cs, c)) != 0 ||
	    (r = parse_recipients(pe, cs, c)) != 0 ||
	    (r = parse_roles(pe, cs, c)) != 0 ||
	    (r = parse_targets(pe, cs, c)) != 0 ||
	    (r = parse_tgroups(pe, cs, c)) != 0)
		return r;
	if ((p = config_setting_get_member(cs, "protected")) != NULL) {
		if (!config_setting_is_aggregate(p))
			return fail(pe, p, "'protected' must be a list of "
			    "strings");
		n = config_setting_length(p);
		c->protected = xcalloc((size_t)n, sizeof(char *));
		for (i = 0; i < n; i++) {
			const char *v = config_setting_get_string_elem(p, i);

			if (v == NULL)
				return fail(pe, p, "'protected' must be a "
				    "list of strings");
			c->protected[c->nprotected++] = xstrdup(v);
		}
	}
	if ((p = config_setting_get_member(cs, "protected_groups")) != NULL) {
		if (!config_setting_is_aggregate(p))
			return fail(pe, p, "'protected_groups' must be a list "
			    "of group DNs");
		n = config_setting_length(p);
		c->protected_groups = xcalloc((size_t)n + 1, sizeof(char *));
		for (i = 0; i < n; i++) {
			const char *v = config_setting_get_string_elem(p, i);

			if (v == NULL || strchr(v, '=') == NULL)
				return fail(pe, p, "'protected_groups' must be "
				    "a list of group DNs");
			c->protected_groups[c->nprotected_groups++] =
			    xstrdup(v);
		}
	}
	if ((p = config_setting_get_member(cs, "deadlines")) != NULL)
		return deadlines_parse(pe->file, p, &c->deadlines, pe->err,
		    pe->errlen);
	return 0;
}

int
config_load(const char *path, struct config **ret, char *err, size_t errlen)
{
	config_t		 cf;
	const config_setting_t	*a, *l;
	struct config		*c = xcalloc(1, sizeof(*c));
	struct perr		 pe = { path, err, errlen };
	int			 i, j, n, r;

	config_init(&cf);
	c->path = xstrdup(path);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			(void)snprintf(err, errlen, "%s: cannot read: %s",
			    path, strerror(errno));
		else
			(void)snprintf(err, errlen, "%s:%d: %s", path,
			    config_error_line(&cf), config_error_text(&cf));
		r = -EINVAL;
		goto out;
	}
	if ((a = config_lookup(&cf, "agent")) == NULL ||
	    !config_setting_is_group(a)) {
		r = fail(&pe, config_root_setting(&cf),
		    "missing group 'agent'");
		goto out;
	}
	if ((r = get_str(&pe, a, "socket", 1, &c->socket_path)) != 0 ||
	    (r = get_str(&pe, a, "store", 1, &c->store_path)) != 0 ||
	    (r = get_str(&pe, a, "secrets_dir", 0, &c->secrets_dir)) != 0 ||
	    (r = get_dur(&pe, a, "approval_ttl", 4 * 3600,
	    &c->approval_ttl)) != 0 ||
	    (r = get_int(&pe, a, "batch", 500, 1, 10000, &c->batch)) != 0 ||
	    (r = get_int(&pe, a, "parallel", 32, 1, 256, &c->parallel)) != 0 ||
	    (r = get_int(&pe, a, "max_actions", 100000, 1, 1000000,
	    &c->max_actions)) != 0 ||
	    (r = get_str(&pe, a, "keys_dir", 0, &c->keys_dir)) != 0 ||
	    (r = get_int(&pe, a, "checkpoint_every", 1000, 1, 100000000,
	    &c->checkpoint_every)) != 0 ||
	    (r = get_int(&pe, a, "checkpoint_minutes", 10, 1, 10080,
	    &c->checkpoint_minutes)) != 0 ||
	    (r = get_feed(&pe, a, c)) != 0 || (r = get_feeds(&pe, a, c)) != 0)
		goto out;
	if (c->keys_dir == NULL) {
		const char *sl = strrchr(c->store_path, '/');

		/* Default: beside the store, "<dir of store>/keys". */
		c->keys_dir = sl == NULL ? xstrdup("keys") : sl ==
		    c->store_path ? xstrdup("/keys") : xasprintf("%.*s/keys",
		    (int)(sl - c->store_path), c->store_path);
	}
	if ((l = config_lookup(&cf, "customers")) == NULL ||
	    !config_setting_is_list(l) || config_setting_length(l) == 0) {
		r = fail(&pe, l ? l : config_root_setting(&cf),
		    "'customers' must be a non-empty list");
		goto out;
	}
	n = config_setting_length(l);
	c->customers = xcalloc((size_t)n, sizeof(*c->customers));
	for (i = 0; i < n; i++) {
		config_setting_t *cs = config_setting_get_elem(l, (unsigned)i);

		if ((r = parse_customer(&pe, cs,
		    &c->customers[c->ncustomers++])) != 0)
			goto out;
		for (j = 0; j < i; j++)
			if (strcmp(c->customers[j].name,
			    c->customers[i].name) == 0) {
				r = fail(&pe, cs, "duplicate customer '%s'",
				    c->customers[i].name);
				goto out;
			}
	}
	*ret = c;
	c = NULL;
	r = 0;
out:
	config_destroy(&cf);
	config_free(c);
	return r;
}

void
config_free(struct config *c)
{
	size_t	i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncustomers; i++) {
		struct customer *cu = &c->customers[i];

		for (j = 0; j < cu->ntargets; j++) {
			free(cu->targets[j].name);
			free(cu->targets[j].type);
			json_decref(cu->targets[j].opts);
		}
		for (j = 0; j < cu->nroles; j++) {
			free(cu->roles[j].user);
			free(cu->roles[j].group);
		}
		for (j = 0; j < cu->nprotected; j++)
			free(cu->protected[j]);
		for (j = 0; j < cu->nprotected_groups; j++)
			free(cu->protected_groups[j]);
		free(cu->protected_groups);
		for (j = 0; j < cu->ntgroups; j++) {
			free(cu->tgroups[j].name);
			free(cu->tgroups[j].members);
		}
		for (j = 0; j < cu->nrecipients; j++) {
			free(cu->recipients[j].name);
			free(cu->recipients[j].cert);
		}
		free(cu->recipients);
		free(cu->tgroups);
		free(cu->targets);
		free(cu->roles);
		free(cu->protected);
		deadlines_free(&cu->deadlines);
		free(cu->name);
	}
	free(c->customers);
	free(c->path);
	free(c->socket_path);
	free(c->store_path);
	free(c->secrets_dir);
	free(c->keys_dir);
	free(c->feed_file);
	json_decref(c->feeds);
	free(c);
}

struct customer *
config_customer(const struct config *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->ncustomers; i++)
		if (strcmp(c->customers[i].name, name) == 0)
			return &c->customers[i];
	return NULL;
}

struct target *
config_target(const struct customer *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, name) == 0)
			return &c->targets[i];
	return NULL;
}

const struct recipient *
config_recipient(const struct customer *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nrecipients; i++)
		if (strcmp(c->recipients[i].name, name) == 0)
			return &c->recipients[i];
	return NULL;
}

int
config_targets(const struct customer *c, const char *name,
    struct target ***ret, size_t *ret_n)
{
	struct target	*t;
	size_t		 i;

	if ((t = config_target(c, name)) != NULL) {
		*ret = xcalloc(1, sizeof(**ret));
		(*ret)[0] = t;
		*ret_n = 1;
		return 0;
	}
	for (i = 0; i < c->ntgroups; i++)
		if (strcmp(c->tgroups[i].name, name) == 0) {
			*ret = xcalloc(c->tgroups[i].nmembers, sizeof(**ret));
			memcpy(*ret, c->tgroups[i].members,
			    c->tgroups[i].nmembers * sizeof(**ret));
			*ret_n = c->tgroups[i].nmembers;
			return 0;
		}
	return -ENOENT;
}

static int
in_group(const struct passwd *pw, const char *group)
{
	struct group	*gr;
	gid_t		 groups[256];
	int		 n = (int)ARRAY_SIZE(groups), i;

	if ((gr = getgrnam(group)) == NULL)
		return 0;
	if (pw->pw_gid == gr->gr_gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return 1;
	return 0;
}

enum role
config_role(const struct customer *c, uid_t uid)
{
	struct passwd	*pw;
	enum role	 best = ROLE_NONE;
	size_t		 i;

	if ((pw = getpwuid(uid)) == NULL)
		return ROLE_NONE;
	for (i = 0; i < c->nroles; i++) {
		const struct role_map *m = &c->roles[i];

		if ((m->user && strcmp(m->user, pw->pw_name) == 0) ||
		    (m->group && in_group(pw, m->group)))
			if (m->role > best)
				best = m->role;
	}
	return best;
}

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_LEAD: return "lead";
	case ROLE_OPERATOR: return "operator";
	case ROLE_AUDITOR: return "auditor";
	default: return "none";
	}
}
