/*
 * ldap: account containment in a directory (flavour "openldap").
 *
 * disable_account locks an entry with the ppolicy operational attribute
 * pwdAccountLockedTime = 000001010000Z, which slapd treats as "locked until
 * an administrator clears it" -- but only when a policy with
 * pwdLockout: TRUE applies, so verify also reads that policy.
 *
 * Writes are compare-and-swap: an assertion control (RFC 4528) makes the
 * server refuse the modify unless the entry still holds the state check
 * saw, and a post-read control (RFC 4527) returns the entry as written in
 * the same response, which verify evaluates.
 *
 * Every phase is pipelined on one connection: up to LDAP_WINDOW requests
 * in flight (asynchronous ldap_search_ext / ldap_modify_ext, then
 * ldap_result), so ten thousand accounts cost round trips in bulk, not one
 * by one.  Values are escaped per RFC 4515 before they enter a filter; the
 * DN used for writes is the one the server returned, never one built from
 * input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "../agent/driver.h"
#include "../agent/esc.h"
#include "../agent/secret.h"
#include "../agent/util.h"

#define LDAP_WINDOW	512
#define LDAP_FILTER_MAX	8192
#define LDAP_TIMEOUT_S	30
#define LOCK_FOREVER	"000001010000Z"
#define LOCK_ATTR	"pwdAccountLockedTime"

struct lconn {
	LDAP			*ld;
	const struct target	*t;
	const char		*base;
	const char		*attr;		/* naming attribute: uid */
	const char		*bind_dn;
	const char		*policy_dn;
};

static const char *
opt_str(const struct target *t, const char *k)
{
	return json_string_value(json_object_get(t->opts, k));
}

static int
opt_bool(const struct target *t, const char *k)
{
	return json_is_true(json_object_get(t->opts, k));
}

/*
 * One URI whose host is exactly a loopback address.  libldap accepts a
 * list of URIs; a list could smuggle a remote host past this test, so it
 * is refused here.
 */
static int
uri_is_loopback(const char *uri)
{
	static const char	*hosts[] = { "localhost", "[::1]" };
	const char		*h, *end;
	size_t			 i, n;

	if (strpbrk(uri, " ,\t") != NULL)
		return 0;
	if (strncasecmp(uri, "ldapi://", 8) == 0)
		return 1;
	if ((h = strstr(uri, "://")) == NULL)
		return 0;
	h += 3;
	end = h + strcspn(h, "/");
	if (*h == '[') {
		n = (size_t)(end - h);
		return n >= 5 && strncmp(h, "[::1]", 5) == 0 &&
		    (n == 5 || h[5] == ':');
	}
	if ((n = strcspn(h, ":/")) == 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(hosts); i++)
		if (strlen(hosts[i]) == n && strncasecmp(h, hosts[i], n) == 0)
			return 1;
	/* 127.0.0.0/8, written as four decimal octets. */
	{
		unsigned	a, b, c, d;
		char		tail;
		char		tmp[64];

		if (n >= sizeof(tmp))
			return 0;
		memcpy(tmp, h, n);
		tmp[n] = '\0';
		if (sscanf(tmp, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4)
			return 0;
		return a == 127 && b < 256 && c < 256 && d < 256;
	}
}

static int
ldap_target_check(const struct target *t, char *err, size_t errlen)
{
	static const char	*req[] = { "uri", "bind_dn", "password_file",
	    "base_dn" };
	struct secret		*s = NULL;
	const char		*fl, *why, *uri;
	size_t			 i;
	int			 r;

	for (i = 0; i < ARRAY_SIZE(req); i++)
		if (opt_str(t, req[i]) == NULL) {
			(void)snprintf(err, errlen, "missing string '%s'",
			    req[i]);
			return -EINVAL;
		}
	fl = opt_str(t, "flavour");
	if (fl == NULL || strcmp(fl, "openldap") != 0) {
		(void)snprintf(err, errlen, "flavour must be \"openldap\"");
		return -EINVAL;
	}
	uri = opt_str(t, "uri");
	if (strpbrk(uri, " ,\t") != NULL) {
		(void)snprintf(err, errlen, "uri must be a single URI");
		return -EINVAL;
	}
	if (strncasecmp(uri, "ldap://", 7) != 0 &&
	    strncasecmp(uri, "ldaps://", 8) != 0 &&
	    strncasecmp(uri, "ldapi://", 8) != 0) {
		(void)snprintf(err, errlen, "uri must be ldap://, ldaps:// "
		    "or ldapi://");
		return -EINVAL;
	}
	/* A bind password in cleartext over a network is a leak. */
	if (strncasecmp(uri, "ldap://", 7) == 0 && !uri_is_loopback(uri) &&
	    !opt_bool(t, "starttls") && !opt_bool(t, "allow_cleartext")) {
		(void)snprintf(err, errlen, "cleartext ldap:// to a remote "
		    "host: use ldaps://, starttls = true, or (never in "
		    "production) allow_cleartext = true");
		return -EINVAL;
	}
	if ((r = secret_read_file(opt_str(t, "password_file"), &s,
	    &why)) != 0) {
		(void)snprintf(err, errlen, "password_file '%s': %s",
		    opt_str(t, "password_file"), why);
		return r;
	}
	secret_free(s);
	return 0;
}

static void
ldap_close(void *p)
{
	struct lconn	*c = p;

	if (c == NULL)
		return;
	if (c->ld)
		(void)ldap_unbind_ext_s(c->ld, NULL, NULL);
	free(c);
}

static int
ldap_open(const struct target *t, void **ret, char *err, size_t errlen)
{
	struct lconn	*c = xcalloc(1, sizeof(*c));
	struct secret	*pw = NULL;
	struct berval	 cred;
	struct timeval	 tv = { 10, 0 };
	const char	*why;
	int		 v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
	int		 rc, r = -EIO;

	c->t = t;
	c->base = opt_str(t, "base_dn");
	c->attr = opt_str(t, "user_attr") ? opt_str(t, "user_attr") : "uid";
	c->bind_dn = opt_str(t, "bind_dn");
	c->policy_dn = opt_str(t, "policy_dn");
	if ((rc = ldap_initialize(&c->ld, opt_str(t, "uri"))) != LDAP_SUCCESS) {
		(void)snprintf(err, errlen, "%s", ldap_err2string(rc));
		goto out;
	}
	if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) ||
	    ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) ||
	    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) {
		(void)snprintf(err, errlen, "cannot set connection options");
		goto out;
	}
	if (opt_str(t, "ca_file") && (ldap_set_option(c->ld,
	    LDAP_OPT_X_TLS_CACERTFILE, opt_str(t, "ca_file")) ||
	    ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &(int){0}))) {
		(void)snprintf(err, errlen, "cannot load ca_file");
		goto out;
	}
	if (opt_bool(t, "starttls") &&
	    (rc = ldap_start_tls_s(c->ld, NULL, NULL)) != LDAP_SUCCESS) {
		(void)snprintf(err, errlen, "starttls: %s",
		    ldap_err2string(rc));
		goto out;
	}
	if ((r = secret_read_file(opt_str(t, "password_file"), &pw,
	    &why)) != 0) {
		(void)snprintf(err, errlen, "password_file: %s", why);
		goto out;
	}
	cred.bv_val = pw->s;
	cred.bv_len = pw->len;
	rc = ldap_sasl_bind_s(c->ld, c->bind_dn, LDAP_SASL_SIMPLE, &cred,
	    NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		(void)snprintf(err, errlen, "bind as '%s': %s", c->bind_dn,
		    ldap_err2string(rc));
		r = -EACCES;
		goto out;
	}
	*ret = c;
	c = NULL;
	r = 0;
out:
	secret_free(pw);
	ldap_close(c);
	return r;
}

/*
 * The pipeline: submit(i) sends request i and returns its msgid (or -1
 * after act_fail), done(i, msg) consumes the complete answer.  At most
 * LDAP_WINDOW requests are outstanding.
 */
typedef int (*submit_fn)(struct lconn *, struct act *);
typedef void (*done_fn)(struct lconn *, struct act *, LDAPMessage *);

static int
pipeline(struct lconn *c, struct act **v, size_t n, submit_fn submit,
    done_fn done)
{
	struct timeval	 tv = { LDAP_TIMEOUT_S, 0 };
	LDAPMessage	*res;
	int		*ids = xcalloc(n, sizeof(int));
	size_t		 next = 0, inflight = 0, i;
	int		 msgid, rc, r = 0;

	while (next < n || inflight > 0) {
		while (next < n && inflight < LDAP_WINDOW) {
			ids[next] = submit(c, v[next]);
			if (ids[next] >= 0)
				inflight++;
			next++;
		}
		if (inflight == 0)
			continue;
		rc = ldap_result(c->ld, LDAP_RES_ANY, LDAP_MSG_ALL, &tv, &res);
		if (rc <= 0) {
			r = rc == 0 ? -ETIMEDOUT : -EIO;
			break;
		}
		msgid = ldap_msgid(res);
		for (i = 0; i < next; i++)
			if (ids[i] == msgid)
				break;
		if (i < next) {
			ids[i] = -1;
			inflight--;
			done(c, v[i], res);
		}
		(void)ldap_msgfree(res);
	}
	free(ids);
	return r;
}

static int
is_protected(const struct lconn *c, const struct act *a, const char *dn)
{
	const struct customer	*cu = a->customer;
	const char		*acct = act_param(a, "account");
	size_t			 i;

	if (strcasecmp(dn, c->bind_dn) == 0)
		return 1;
	for (i = 0; cu && i < cu->nprotected; i++)
		if (strcasecmp(cu->protected[i], dn) == 0 ||
		    (acct && strcmp(cu->protected[i], acct) == 0))
			return 1;
	return 0;
}

static int
submit_find(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { LOCK_ATTR, "pwdPolicySubentry", NULL };
	const char	*acct = act_param(a, "account");
	struct buf	 f;
	int		 msgid, rc;

	if (acct == NULL || *acct == '\0') {
		act_fail(a, "missing parameter 'account'");
		return -1;
	}
	buf_init(&f, LDAP_FILTER_MAX);
	if (buf_printf(&f, "(%s=", c->attr) != 0 ||
	    esc_ldap_filter(&f, acct) != 0 || buf_addc(&f, ')') != 0) {
		buf_free(&f);
		act_fail(a, "account name too long for a search filter");
		return -1;
	}
	rc = ldap_search_ext(c->ld, c->base, LDAP_SCOPE_SUBTREE, f.p, attrs,
	    0, NULL, NULL, NULL, 2, &msgid);
	buf_free(&f);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "search failed: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

/* {"dn": ..., "locked": value|null, "state": ...} from one entry. */
static json_t *
entry_state(LDAP *ld, LDAPMessage *e)
{
	struct berval	**vals;
	char		 *dn = ldap_get_dn(ld, e);
	json_t		 *o = json_object();

	(void)json_object_set_new(o, "dn", json_string(dn ? dn : ""));
	ldap_memfree(dn);
	vals = ldap_get_values_len(ld, e, LOCK_ATTR);
	if (vals && vals[0]) {
		char *v = xstrndup(vals[0]->bv_val, vals[0]->bv_len);

		(void)json_object_set_new(o, "locked", json_string(v));
		(void)json_object_set_new(o, "state", json_string(
		    strcmp(v, LOCK_FOREVER) == 0 ? "locked" :
		    "locked_until_expiry"));
		free(v);
	} else {
		(void)json_object_set_new(o, "locked", json_null());
		(void)json_object_set_new(o, "state", json_string("enabled"));
	}
	ldap_value_free_len(vals);
	vals = ldap_get_values_len(ld, e, "pwdPolicySubentry");
	if (vals && vals[0]) {
		char *v = xstrndup(vals[0]->bv_val, vals[0]->bv_len);

		(void)json_object_set_new(o, "policy", json_string(v));
		free(v);
	}
	ldap_value_free_len(vals);
	return o;
}

/* What the entry should look like when this act is done. */
static json_t *
wanted(const struct act *a)
{
	if (a->restore)
		return json_object_get(a->restore, "locked");
	return NULL;
}

static int
same_lock(const json_t *x, const json_t *y)
{
	if (json_is_null(x) || x == NULL)
		return json_is_null(y) || y == NULL;
	return json_is_string(y) && strcmp(json_string_value(x),
	    json_string_value(y)) == 0;
}

static void
done_find(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	*e;
	json_t		*st = NULL, *cur, *want;
	const char	*dn;
	int		 count = 0, err = LDAP_SUCCESS;

	for (e = ldap_first_message(c->ld, res); e;
	    e = ldap_next_message(c->ld, e)) {
		if (ldap_msgtype(e) == LDAP_RES_SEARCH_ENTRY) {
			if (count++ == 0)
				st = entry_state(c->ld, e);
		} else if (ldap_msgtype(e) == LDAP_RES_SEARCH_RESULT)
			(void)ldap_parse_result(c->ld, e, &err, NULL, NULL,
			    NULL, NULL, 0);
	}
	if (err == LDAP_SIZELIMIT_EXCEEDED || count > 1) {
		act_fail(a, "account '%s' is ambiguous: more than one entry "
		    "matches", act_param(a, "account"));
		goto out;
	}
	if (err != LDAP_SUCCESS && err != LDAP_NO_SUCH_OBJECT) {
		act_fail(a, "search failed: %s", ldap_err2string(err));
		goto out;
	}
	if (count == 0) {
		json_decref(a->before);
		a->before = json_pack("{s:s}", "state", "not_found");
		act_fail(a, "no entry with %s='%s' under '%s'", c->attr,
		    act_param(a, "account"), c->base);
		goto out;
	}
	dn = json_string_value(json_object_get(st, "dn"));
	if (a->restore && strcmp(dn, json_string_value(json_object_get(
	    a->restore, "dn"))) != 0) {
		act_fail(a, "entry moved since the original action: now '%s'",
		    dn);
		goto out;
	}
	json_decref(a->before);
	a->before = json_incref(st);
	if (is_protected(c, a, dn)) {
		act_fail(a, "'%s' is a protected account", dn);
		a->outcome = ACT_REFUSED;
		goto out;
	}
	cur = json_object_get(st, "locked");
	want = a->restore ? wanted(a) : NULL;
	free(a->change);
	a->change = NULL;
	if (a->restore) {
		if (same_lock(cur, want)) {
			a->outcome = ACT_NOCHANGE;
			goto out;
		}
		a->change = json_is_null(want) ?
		    xasprintf("delete %s (unlock)", LOCK_ATTR) :
		    xasprintf("replace %s: %s", LOCK_ATTR,
		    json_string_value(want));
	} else {
		if (json_is_string(cur) &&
		    strcmp(json_string_value(cur), LOCK_FOREVER) == 0) {
			a->outcome = ACT_NOCHANGE;
			goto out;
		}
		a->change = json_is_string(cur) ?
		    xasprintf("replace %s: %s -> %s", LOCK_ATTR,
		    json_string_value(cur), LOCK_FOREVER) :
		    xasprintf("add %s: %s", LOCK_ATTR, LOCK_FOREVER);
	}
	a->outcome = ACT_OK;
out:
	json_decref(st);
}

static int
ldap_check(void *conn, struct act **v, size_t n)
{
	return pipeline(conn, v, n, submit_find, done_find);
}

/* The assertion that the entry still holds the state check saw. */
static int
before_filter(const struct act *a, struct buf *f)
{
	const json_t	*cur = json_object_get(a->before, "locked");

	if (!json_is_string(cur))
		return buf_printf(f, "(!(%s=*))", LOCK_ATTR);
	if (buf_printf(f, "(%s=", LOCK_ATTR) != 0 ||
	    esc_ldap_filter(f, json_string_value(cur)) != 0)
		return -E2BIG;
	return buf_addc(f, ')');
}

/*
 * Writes the wanted lock value (NULL: remove it), only if the entry is
 * still as check saw it, and asks for the result back.
 */
static int
submit_write(struct lconn *c, struct act *a)
{
	static char	*readattrs[] = { LOCK_ATTR, "pwdPolicySubentry",
	    NULL };
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	const json_t	*want = a->restore ? wanted(a) : NULL;
	char		*vals[2] = { NULL, NULL };
	LDAPMod		 mod, *mods[2] = { &mod, NULL };
	LDAPControl	*assert = NULL, post, *ctrls[3] = { NULL, NULL, NULL };
	BerElement	*ber = NULL;
	struct buf	 f;
	int		 msgid = -1, rc;

	memset(&post, 0, sizeof(post));
	buf_init(&f, LDAP_FILTER_MAX);
	if (dn == NULL) {
		act_fail(a, "no entry to modify");
		goto out;
	}
	if (before_filter(a, &f) != 0 || (rc = ldap_create_assertion_control(
	    c->ld, f.p, 1, &assert)) != LDAP_SUCCESS) {
		act_fail(a, "cannot build the assertion control");
		goto out;
	}
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL ||
	    ber_printf(ber, "{v}", readattrs) == -1 ||
	    ber_flatten2(ber, &post.ldctl_value, 0) == -1) {
		act_fail(a, "cannot build the post-read control");
		goto out;
	}
	post.ldctl_oid = LDAP_CONTROL_POST_READ;
	post.ldctl_iscritical = 0;
	ctrls[0] = assert;
	ctrls[1] = &post;
	memset(&mod, 0, sizeof(mod));
	mod.mod_type = LOCK_ATTR;
	if (a->restore && json_is_null(want)) {
		mod.mod_op = LDAP_MOD_DELETE;
	} else {
		mod.mod_op = LDAP_MOD_REPLACE;
		vals[0] = (char *)(a->restore ? json_string_value(want) :
		    LOCK_FOREVER);
		mod.mod_values = vals;
	}
	rc = ldap_modify_ext(c->ld, dn, mods, ctrls, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "modify failed: %s", ldap_err2string(rc));
		msgid = -1;
	}
out:
	if (ber)
		ber_free(ber, 1);
	ldap_control_free(assert);
	buf_free(&f);
	return msgid;
}

/* The post-read control's entry, as entry_state() would describe it. */
static json_t *
postread_state(LDAPControl **ctrls)
{
	LDAPControl	*pc;
	BerElement	*ber;
	struct berval	 bv;
	json_t		*o;
	char		*dn;

	pc = ldap_control_find(LDAP_CONTROL_POST_READ, ctrls, NULL);
	if (pc == NULL || (ber = ber_init(&pc->ldctl_value)) == NULL)
		return NULL;
	if (ber_scanf(ber, "{m{" /*}}*/, &bv) == LBER_ERROR) {
		ber_free(ber, 1);
		return NULL;
	}
	dn = xstrndup(bv.bv_val, bv.bv_len);
	o = json_pack("{s:s,s:n,s:s}", "dn", dn, "locked", "state",
	    "enabled");
	free(dn);
	while (ber_scanf(ber, "{m" /*}*/, &bv) != LBER_ERROR) {
		BerVarray	 vals = NULL;
		char		*v, *type = xstrndup(bv.bv_val, bv.bv_len);

		if (ber_scanf(ber, "[W]", &vals) == LBER_ERROR ||
		    vals == NULL || vals[0].bv_val == NULL) {
			ber_bvarray_free(vals);
			free(type);
			continue;
		}
		v = xstrndup(vals[0].bv_val, vals[0].bv_len);
		if (strcasecmp(type, LOCK_ATTR) == 0) {
			(void)json_object_set_new(o, "locked", json_string(v));
			(void)json_object_set_new(o, "state", json_string(
			    strcmp(v, LOCK_FOREVER) == 0 ? "locked" :
			    "locked_until_expiry"));
		} else if (strcasecmp(type, "pwdPolicySubentry") == 0)
			(void)json_object_set_new(o, "policy",
			    json_string(v));
		free(v);
		free(type);
		ber_bvarray_free(vals);
	}
	ber_free(ber, 1);
	return o;
}

static void
done_write(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPControl	**ctrls = NULL;
	char		 *text = NULL;
	int		  err = LDAP_OTHER;

	(void)ldap_parse_result(c->ld, res, &err, NULL, &text, NULL, &ctrls,
	    0);
	if (err == LDAP_SUCCESS) {
		a->outcome = ACT_OK;
		json_decref(a->observed);
		a->observed = postread_state(ctrls);
	} else if (err == LDAP_ASSERTION_FAILED ||
	    err == LDAP_NO_SUCH_OBJECT) {
		a->outcome = ACT_STALE;
		(void)snprintf(a->msg, sizeof(a->msg), "entry changed since "
		    "it was checked; nothing written");
	} else
		act_fail(a, "modify refused: %s%s%s", ldap_err2string(err),
		    text && *text ? ": " : "", text ? text : "");
	ldap_controls_free(ctrls);
	ldap_memfree(text);
}

static int
ldap_apply(void *conn, struct act **v, size_t n)
{
	return pipeline(conn, v, n, submit_write, done_write);
}

static int
submit_read(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { LOCK_ATTR, "pwdPolicySubentry", NULL };
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	int		 msgid, rc;

	if (dn == NULL) {
		act_fail(a, "no entry to read back");
		return -1;
	}
	rc = ldap_search_ext(c->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, NULL, 1, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "read back failed: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

/* Judges observed against the wanted state. */
static void
judge(struct act *a)
{
	json_t	*want = a->restore ? json_incref(wanted(a)) :
	    json_string(LOCK_FOREVER);

	if (!same_lock(json_object_get(a->observed, "locked"), want))
		act_fail(a, "read back shows %s, not the wanted state",
		    json_string_value(json_object_get(a->observed, "state")));
	else
		a->outcome = ACT_OK;
	json_decref(want);
}

static void
done_read(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	*e = ldap_first_entry(c->ld, res);

	if (e == NULL) {
		act_fail(a, "entry vanished before read back");
		return;
	}
	json_decref(a->observed);
	a->observed = entry_state(c->ld, e);
	judge(a);
}

/*
 * A lock binds nobody unless the governing policy says pwdLockout: TRUE;
 * read that policy once per batch and fail verify if it does not.
 */
static int
policy_enforces(struct lconn *c, const char *pdn, char *why, size_t len)
{
	static char	*attrs[] = { "pwdLockout", NULL };
	struct timeval	 tv = { LDAP_TIMEOUT_S, 0 };
	LDAPMessage	*res = NULL, *e;
	struct berval	**v = NULL;
	int		 rc, ok = 0;

	rc = ldap_search_ext_s(c->ld, pdn, LDAP_SCOPE_BASE, "(objectClass=*)",
	    attrs, 0, NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS || (e = ldap_first_entry(c->ld, res)) == NULL) {
		(void)snprintf(why, len, "cannot read policy '%s': %s", pdn,
		    ldap_err2string(rc));
		goto out;
	}
	v = ldap_get_values_len(c->ld, e, "pwdLockout");
	ok = v && v[0] && v[0]->bv_len == 4 &&
	    strncasecmp(v[0]->bv_val, "TRUE", 4) == 0;
	if (!ok)
		(void)snprintf(why, len, "lock not enforced: policy '%s' "
		    "lacks pwdLockout: TRUE", pdn);
out:
	ldap_value_free_len(v);
	(void)ldap_msgfree(res);
	return ok;
}

static int
ldap_verify(void *conn, struct act **v, size_t n)
{
	struct lconn	 *c = conn;
	struct act	**rd = xcalloc(n, sizeof(*rd));
	char		  why[ACT_MSG_MAX], last[1024] = "";
	const char	 *pdn;
	size_t		  i, m = 0;
	int		  r, ok = 1;

	/* What the write's post-read returned needs no second trip. */
	for (i = 0; i < n; i++) {
		if (v[i]->observed)
			judge(v[i]);
		else
			rd[m++] = v[i];
	}
	r = pipeline(c, rd, m, submit_read, done_read);
	free(rd);
	if (r != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (v[i]->outcome != ACT_OK || v[i]->restore)
			continue;
		pdn = json_string_value(json_object_get(v[i]->observed,
		    "policy"));
		if (pdn == NULL)
			pdn = c->policy_dn;
		if (pdn == NULL)
			continue;
		if (strcmp(pdn, last) != 0) {
			ok = policy_enforces(c, pdn, why, sizeof(why));
			(void)snprintf(last, sizeof(last), "%s", pdn);
		}
		if (!ok)
			act_fail(v[i], "%s", why);
		else
			(void)json_object_set_new(v[i]->observed,
			    "lockout_enforced_by", json_string(pdn));
	}
	return 0;
}

static const struct verb ldap_verbs[] = {
	{
		.name = "disable_account",
		.summary = "lock an account (ppolicy pwdAccountLockedTime)",
		.check = ldap_check,
		.apply = ldap_apply,
		.verify = ldap_verify,
		.undo = ldap_apply,
		.atomic = 1,
		.required_params = { "account", NULL },
	},
	{ .name = NULL },
};

const struct driver ldap_driver = {
	.name = "ldap",
	.verbs = ldap_verbs,
	.target_check = ldap_target_check,
	.open = ldap_open,
	.close = ldap_close,
};
