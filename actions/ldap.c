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
#include <time.h>

#include <ldap.h>

#include "../agent/driver.h"
#include "../agent/esc.h"
#include "../agent/secret.h"
#include "../agent/util.h"
#include "../agent/vault.h"
#include "ldap_ad.h"

#define LOCK_FOREVER	"000001010000Z"
#define LOCK_ATTR	"pwdAccountLockedTime"
#define PW_LEN_DEFAULT	24
#define PW_LEN_MIN	12
#define PW_LEN_MAX	128
#define PW_TRIES	64		/* draws until a complex password */
#define GROUPS_MAX	64		/* groups one action may touch */

const char *
ldap_opt_str(const struct target *t, const char *k)
{
	return json_string_value(json_object_get(t->opts, k));
}

int
ldap_opt_bool(const struct target *t, const char *k)
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
		if (ldap_opt_str(t, req[i]) == NULL) {
			(void)snprintf(err, errlen, "missing string '%s'",
			    req[i]);
			return -EINVAL;
		}
	fl = ldap_opt_str(t, "flavour");
	if (fl == NULL || (strcmp(fl, "openldap") != 0 &&
	    strcmp(fl, "ad") != 0)) {
		(void)snprintf(err, errlen, "flavour must be \"openldap\" "
		    "or \"ad\"");
		return -EINVAL;
	}
	if (strcmp(fl, "ad") == 0 &&
	    (r = ldap_ad_target_check(t, err, errlen)) != 0)
		return r;
	uri = ldap_opt_str(t, "uri");
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
	    !ldap_opt_bool(t, "starttls") &&
	    !ldap_opt_bool(t, "allow_cleartext")) {
		(void)snprintf(err, errlen, "cleartext ldap:// to a remote "
		    "host: use ldaps://, starttls = true, or (never in "
		    "production) allow_cleartext = true");
		return -EINVAL;
	}
	if ((r = secret_read_file(ldap_opt_str(t, "password_file"), &s,
	    &why)) != 0) {
		(void)snprintf(err, errlen, "password_file '%s': %s",
		    ldap_opt_str(t, "password_file"), why);
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

/*
 * "msg (the server's or libldap's detail)": a failed TLS handshake says
 * only "Can't contact LDAP server"; why (untrusted chain, wrong name) is
 * in the diagnostic message.
 */
static void
open_err(const struct lconn *c, int rc, const char *what, char *err,
    size_t errlen)
{
	char	*diag = NULL;
	int	 show;

	if (ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) !=
	    LDAP_OPT_SUCCESS)
		diag = NULL;
	/* GnuTLS's verification failures come out as "unknown error". */
	show = diag && *diag && strstr(diag, "unknown error") == NULL;
	(void)snprintf(err, errlen, "%s: %s%s%s%s%s", what,
	    ldap_err2string(rc), show ? " (" : "", show ? diag : "",
	    show ? ")" : "", (c->tls || ldap_opt_bool(c->t, "starttls")) &&
	    (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) ?
	    "; TLS: the server's certificate must chain to ca_file and "
	    "name the host in uri" : "");
	ldap_memfree(diag);
}

static int
ldap_open(const struct target *t, void **ret, char *err, size_t errlen)
{
	char		 what[256];
	struct lconn	*c = xcalloc(1, sizeof(*c));
	struct secret	*pw = NULL;
	struct berval	 cred;
	struct timeval	 tv = { 10, 0 };
	const char	*why;
	int		 v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
	int		 rc, r = -EIO;

	c->t = t;
	c->ad = ldap_opt_str(t, "flavour") && strcmp(ldap_opt_str(t, "flavour"),
	    "ad") == 0;
	c->base = ldap_opt_str(t, "base_dn");
	c->attr = ldap_opt_str(t, "user_attr") ? ldap_opt_str(t, "user_attr") :
	    c->ad ? "sAMAccountName" : "uid";
	c->bind_dn = ldap_opt_str(t, "bind_dn");
	c->policy_dn = ldap_opt_str(t, "policy_dn");
	c->group_base = ldap_opt_str(t, "group_base_dn") ?
	    ldap_opt_str(t, "group_base_dn") : c->base;
	c->tls = strncasecmp(ldap_opt_str(t, "uri"), "ldaps://", 8) == 0;
	rc = ldap_initialize(&c->ld, ldap_opt_str(t, "uri"));
	if (rc != LDAP_SUCCESS) {
		(void)snprintf(err, errlen, "%s", ldap_err2string(rc));
		goto out;
	}
	if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) ||
	    ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) ||
	    ldap_set_option(c->ld, LDAP_OPT_TIMEOUT,
	    &(struct timeval){ LDAP_TIMEOUT_S, 0 }) ||
	    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) {
		(void)snprintf(err, errlen, "cannot set connection options");
		goto out;
	}
	/*
	 * TLS always gets a context of the handle's own: without NEWCTX
	 * libldap uses its global default one, whose chain checking
	 * ldap.conf and LDAPTLS_REQCERT decide, not the DEMAND set above.
	 */
	if (ldap_opt_str(t, "ca_file") && ldap_set_option(c->ld,
	    LDAP_OPT_X_TLS_CACERTFILE, ldap_opt_str(t, "ca_file"))) {
		(void)snprintf(err, errlen, "cannot set ca_file");
		goto out;
	}
	if ((c->tls || ldap_opt_bool(t, "starttls")) &&
	    ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &(int){0})) {
		if (ldap_opt_str(t, "ca_file"))
			(void)snprintf(err, errlen, "cannot load ca_file '%s'",
			    ldap_opt_str(t, "ca_file"));
		else
			(void)snprintf(err, errlen, "cannot set up TLS");
		goto out;
	}
	if (ldap_opt_bool(t, "starttls") &&
	    (rc = ldap_start_tls_s(c->ld, NULL, NULL)) != LDAP_SUCCESS) {
		open_err(c, rc, "starttls", err, errlen);
		goto out;
	}
	if (ldap_opt_bool(t, "starttls"))
		c->tls = 1;
	if ((r = secret_read_file(ldap_opt_str(t, "password_file"), &pw,
	    &why)) != 0) {
		(void)snprintf(err, errlen, "password_file: %s", why);
		goto out;
	}
	cred.bv_val = pw->s;
	cred.bv_len = pw->len;
	rc = ldap_sasl_bind_s(c->ld, c->bind_dn, LDAP_SASL_SIMPLE, &cred,
	    NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		(void)snprintf(what, sizeof(what), "bind as '%s'", c->bind_dn);
		open_err(c, rc, what, err, errlen);
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
int
ldap_pipeline(struct lconn *c, struct act **v, size_t n,
    ldap_submit_fn submit, ldap_done_fn done)
{
	struct timeval	 tv = { LDAP_TIMEOUT_S, 0 };
	LDAPMessage	*res;
	int		*ids = xcalloc(n, sizeof(int));
	size_t		 next = 0, inflight = 0, i;
	int		 msgid, rc, lerr, r = 0;
	enum act_outcome was;
	char		 msg[ACT_MSG_MAX];

	while (next < n || inflight > 0) {
		while (next < n && inflight < LDAP_WINDOW) {
			was = v[next]->outcome;
			memcpy(msg, v[next]->msg, sizeof(msg));
			ids[next] = submit(c, v[next]);
			/*
			 * LDAP_BUSY: the socket is full and libldap kept the
			 * earlier request's unwritten tail, not this one.
			 * Undo the act's failure, read answers (which lets
			 * libldap finish writing), and send it again.
			 */
			if (ids[next] < 0 && inflight > 0 &&
			    ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE,
			    &lerr) == LDAP_OPT_SUCCESS && lerr == LDAP_BUSY) {
				v[next]->outcome = was;
				memcpy(v[next]->msg, msg, sizeof(msg));
				break;
			}
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

static void
set_str_attr(LDAP *ld, LDAPMessage *e, const char *attr, json_t *o,
    const char *key)
{
	struct berval	**v = ldap_get_values_len(ld, e, attr);
	char		 *s;

	if (v && v[0]) {
		s = xstrndup(v[0]->bv_val, v[0]->bv_len);
		(void)json_object_set_new(o, key, json_string(s));
		free(s);
	}
	ldap_value_free_len(v);
}

/*
 * The entry's own name counts, not the spelling asked for: the directory
 * matches uid case- and space-insensitively, so "BREAKGLASS" finds the
 * entry "breakglass" protects.
 */
static int
is_protected(const struct lconn *c, const struct act *a, const json_t *st)
{
	const struct customer	*cu = a->customer;
	const char		*acct = act_param(a, "account");
	const char		*dn = json_string_value(json_object_get(st,
	    "dn"));
	const char		*name = json_string_value(json_object_get(st,
	    "name"));
	size_t			 i;

	if (ldap_ad_dn_eq(dn, c->bind_dn))
		return 1;
	for (i = 0; cu && i < cu->nprotected; i++)
		if (ldap_ad_dn_eq(cu->protected[i], dn) ||
		    (acct && strcmp(cu->protected[i], acct) == 0) ||
		    (name && strcasecmp(cu->protected[i], name) == 0))
			return 1;
	return 0;
}

static int
submit_find(struct lconn *c, struct act *a)
{
	char		*attrs[] = { LOCK_ATTR, "pwdPolicySubentry",
	    (char *)c->attr, NULL };
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
			if (count++ == 0) {
				st = entry_state(c->ld, e);
				set_str_attr(c->ld, e, c->attr, st, "name");
			}
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
	if (is_protected(c, a, st)) {
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
	if (((struct lconn *)conn)->ad)
		return ldap_ad_disable_check(conn, v, n);
	return ldap_pipeline(conn, v, n, submit_find, done_find);
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
	if (((struct lconn *)conn)->ad)
		return ldap_ad_disable_apply(conn, v, n);
	return ldap_pipeline(conn, v, n, submit_write, done_write);
}

/* A base read of the act's entry (before.dn): the pipeline's read-back. */
int
ldap_submit_base(struct lconn *c, struct act *a, char **attrs)
{
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

static int
submit_read(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { LOCK_ATTR, "pwdPolicySubentry", NULL };

	return ldap_submit_base(c, a, attrs);
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
	struct act	**rd;
	char		  why[ACT_MSG_MAX], last[1024] = "";
	const char	 *pdn;
	size_t		  i, m = 0;
	int		  r, ok = 1;

	if (c->ad)
		return ldap_ad_disable_verify(conn, v, n);
	rd = xcalloc(n, sizeof(*rd));
	/* What the write's post-read returned needs no second trip. */
	for (i = 0; i < n; i++) {
		if (v[i]->observed)
			judge(v[i]);
		else
			rd[m++] = v[i];
	}
	r = ldap_pipeline(c, rd, m, submit_read, done_read);
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

/*
 * Accounts, both flavours: the lookup reset_password, remove_from_groups
 * and the AD disable share.  Attributes a flavour does not know are
 * simply not returned.
 */
static char *acct_attrs[] = { "objectGUID", "objectSid",
    "userAccountControl", "sAMAccountName", "userPrincipalName",
    "pwdLastSet", "pwdChangedTime", "logonHours", NULL };

int
ldap_acct_submit(struct lconn *c, struct act *a)
{
	const char	*acct = act_param(a, "account");
	char		*attrs[ARRAY_SIZE(acct_attrs) + 1];
	struct buf	 f;
	int		 msgid = -1, rc, r;

	if (acct == NULL || *acct == '\0') {
		act_fail(a, "missing parameter 'account'");
		return -1;
	}
	buf_init(&f, LDAP_FILTER_MAX);
	if (c->ad)
		r = ldap_ad_acct_filter(c, a, &f);
	else if ((r = buf_printf(&f, "(%s=", c->attr)) == 0 &&
	    (r = esc_ldap_filter(&f, acct)) == 0)
		r = buf_addc(&f, ')');
	if (r != 0) {
		act_fail(a, "account name too long for a search filter");
		goto out;
	}
	memcpy(attrs, acct_attrs, sizeof(acct_attrs));
	attrs[ARRAY_SIZE(attrs) - 2] = (char *)c->attr;
	attrs[ARRAY_SIZE(attrs) - 1] = NULL;
	rc = ldap_search_ext(c->ld, c->base, LDAP_SCOPE_SUBTREE, f.p,
	    attrs, 0, NULL, NULL, NULL, LDAP_FIND_MAX, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "search failed: %s", ldap_err2string(rc));
		msgid = -1;
	}
out:
	buf_free(&f);
	return msgid;
}

/* {dn, guid, rid, uac, sam, upn, pwd_last_set, pwd_changed}. */
static json_t *
acct_state(LDAP *ld, LDAPMessage *e)
{
	static const char	 hex[] = "0123456789abcdef";
	struct berval		**v;
	char			 *dn = ldap_get_dn(ld, e), g[33], *s;
	const unsigned char	 *b;
	json_t			 *o = json_object();
	size_t			  i;

	(void)json_object_set_new(o, "dn", json_string(dn ? dn : ""));
	ldap_memfree(dn);
	v = ldap_get_values_len(ld, e, "objectGUID");
	if (v && v[0] && v[0]->bv_len == 16) {
		b = (const unsigned char *)v[0]->bv_val;
		for (i = 0; i < 16; i++) {
			g[2 * i] = hex[b[i] >> 4];
			g[2 * i + 1] = hex[b[i] & 15];
		}
		g[32] = '\0';
		(void)json_object_set_new(o, "guid", json_string(g));
	}
	ldap_value_free_len(v);
	/* objectSid: revision, count, 6-byte authority, count LE words. */
	v = ldap_get_values_len(ld, e, "objectSid");
	if (v && v[0] && v[0]->bv_len >= 12 &&
	    v[0]->bv_len == 8 + 4 * (size_t)(unsigned char)v[0]->bv_val[1]) {
		b = (const unsigned char *)v[0]->bv_val + v[0]->bv_len - 4;
		(void)json_object_set_new(o, "rid", json_integer(
		    (json_int_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24)));
	}
	ldap_value_free_len(v);
	v = ldap_get_values_len(ld, e, "userAccountControl");
	if (v && v[0] && v[0]->bv_len > 0 && v[0]->bv_len < 16) {
		char	*end;
		long long x;

		s = xstrndup(v[0]->bv_val, v[0]->bv_len);
		errno = 0;
		x = strtoll(s, &end, 10);
		/* AD writes it as a signed 32-bit integer. */
		if (errno == 0 && *end == '\0' && x >= INT32_MIN &&
		    x <= UINT32_MAX)
			(void)json_object_set_new(o, "uac", json_integer(
			    (json_int_t)(uint32_t)x));
		free(s);
	}
	ldap_value_free_len(v);
	/* logonHours: binary, kept as hex so an undo restores it exactly. */
	v = ldap_get_values_len(ld, e, "logonHours");
	if (v && v[0] && v[0]->bv_len <= 256) {
		char	h[2 * 256 + 1];

		b = (const unsigned char *)v[0]->bv_val;
		for (i = 0; i < v[0]->bv_len; i++) {
			h[2 * i] = hex[b[i] >> 4];
			h[2 * i + 1] = hex[b[i] & 15];
		}
		h[2 * i] = '\0';
		(void)json_object_set_new(o, "logon_hours", json_string(h));
	}
	ldap_value_free_len(v);
	set_str_attr(ld, e, "sAMAccountName", o, "sam");
	set_str_attr(ld, e, "userPrincipalName", o, "upn");
	set_str_attr(ld, e, "pwdLastSet", o, "pwd_last_set");
	set_str_attr(ld, e, "pwdChangedTime", o, "pwd_changed");
	return o;
}

static int
name_eq(const struct lconn *c, const char *x, const char *y)
{
	if (x == NULL || y == NULL)
		return 0;
	return c->ad ? strcasecmp(x, y) == 0 : strcmp(x, y) == 0;
}

/* The bind account, the customer's list, AD's own accounts. */
static int
acct_protected(const struct lconn *c, const struct act *a, const json_t *st)
{
	const struct customer	*cu = a->customer;
	const char		*dn = json_string_value(json_object_get(st,
	    "dn"));
	const char		*sam = json_string_value(json_object_get(st,
	    "sam"));
	const char		*upn = json_string_value(json_object_get(st,
	    "upn"));
	const char		*name = json_string_value(json_object_get(st,
	    "name"));
	const char		*acct = act_param(a, "account");
	size_t			 i;

	if (ldap_ad_dn_eq(dn, c->bind_dn) ||
	    (upn && strcasecmp(upn, c->bind_dn) == 0))
		return 1;
	if (c->ad && ldap_ad_builtin_protected(st))
		return 1;
	for (i = 0; cu && i < cu->nprotected; i++) {
		const char *p = cu->protected[i];

		if (ldap_ad_dn_eq(p, dn) || name_eq(c, p, acct) ||
		    (name && strcasecmp(p, name) == 0) ||
		    (sam && strcasecmp(p, sam) == 0) ||
		    (upn && strcasecmp(p, upn) == 0))
			return 1;
	}
	return 0;
}

json_t *
ldap_acct_take(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	*e;
	json_t		*st = NULL;
	const char	*dn, *was;
	int		 count = 0, err = LDAP_SUCCESS;

	for (e = ldap_first_message(c->ld, res); e;
	    e = ldap_next_message(c->ld, e)) {
		if (ldap_msgtype(e) == LDAP_RES_SEARCH_ENTRY) {
			if (count++ == 0) {
				st = acct_state(c->ld, e);
				set_str_attr(c->ld, e, c->attr, st, "name");
			}
		} else if (ldap_msgtype(e) == LDAP_RES_SEARCH_RESULT)
			(void)ldap_parse_result(c->ld, e, &err, NULL, NULL,
			    NULL, NULL, 0);
	}
	if (err == LDAP_SIZELIMIT_EXCEEDED || count > 1) {
		act_fail(a, "account '%s' is ambiguous: %s%d entries match",
		    act_param(a, "account"), err == LDAP_SIZELIMIT_EXCEEDED ?
		    "at least " : "", count);
		goto fail;
	}
	if (err != LDAP_SUCCESS && err != LDAP_NO_SUCH_OBJECT) {
		act_fail(a, "search failed: %s", ldap_err2string(err));
		goto fail;
	}
	if (count == 0) {
		json_decref(a->before);
		a->before = json_pack("{s:s}", "state", "not_found");
		act_fail(a, "no entry with %s='%s' under '%s'%s", c->attr,
		    act_param(a, "account"), c->base, a->restore ?
		    " (looked up by the objectGUID the action saw)" : "");
		goto fail;
	}
	dn = json_string_value(json_object_get(st, "dn"));
	if (a->restore) {
		was = json_string_value(json_object_get(a->restore, "guid"));
		if (was == NULL || json_object_get(st, "guid") == NULL) {
			was = json_string_value(json_object_get(a->restore,
			    "dn"));
			if (was == NULL || strcasecmp(dn, was) != 0) {
				act_fail(a, "entry moved since the original "
				    "action: now '%s'", dn);
				goto fail;
			}
		} else if (strcmp(was, json_string_value(json_object_get(st,
		    "guid"))) != 0) {
			act_fail(a, "entry replaced since the original "
			    "action: objectGUID differs");
			goto fail;
		}
	}
	if (acct_protected(c, a, st)) {
		json_decref(a->before);
		a->before = json_incref(st);
		act_fail(a, "'%s' is a protected account", dn);
		a->outcome = ACT_REFUSED;
		goto fail;
	}
	return st;
fail:
	json_decref(st);
	return NULL;
}

void
ldap_acct_protect(struct lconn *c, struct act **v, size_t n)
{
	const char	*dn;
	size_t		 i;

	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if ((a->outcome != ACT_OK && a->outcome != ACT_NOCHANGE) ||
		    (dn = json_string_value(json_object_get(a->before,
		    "dn"))) == NULL || !acct_protected(c, a, a->before))
			continue;
		act_fail(a, "'%s' is a protected account (refused at apply)",
		    dn);
		a->outcome = ACT_REFUSED;
	}
}

/*
 * Keeps in st only the account's identity and the keys this verb decides
 * on (NULL-terminated extra): before is part of the plan hash, and a
 * runbook's earlier step (disable) must not change the plan of a later
 * one (remove_from_groups) through an attribute that one never reads.
 */
void
ldap_acct_keep(json_t *st, const char *const *extra)
{
	static const char	*id[] = { "dn", "guid", "sam", "upn", "name",
	    "rid", NULL };
	const char		*k;
	json_t			*v, *drop = json_array(), *x;
	size_t			 i, j;
	int			 keep;

	json_object_foreach(st, k, v) {
		keep = 0;
		for (i = 0; id[i] && !keep; i++)
			keep = strcmp(k, id[i]) == 0;
		for (i = 0; extra && extra[i] && !keep; i++)
			keep = strcmp(k, extra[i]) == 0;
		if (!keep)
			(void)json_array_append_new(drop, json_string(k));
	}
	json_array_foreach(drop, j, x)
		(void)json_object_del(st, json_string_value(x));
	json_decref(drop);
}

/* A base read of the act's entry (before.dn) for the account attributes. */
static int
submit_base_read(struct lconn *c, struct act *a)
{
	return ldap_submit_base(c, a, acct_attrs);
}

/*
 * reset_password: a new random password, written over TLS only, kept in
 * the vault (the journal sees its fingerprint).  Irreversible: the verb
 * has no undo.  AD: unicodePwd ("password" in UTF-16LE); OpenLDAP: the
 * RFC 3062 Password Modify extended operation, which on a ppolicy
 * directory also clears pwdAccountLockedTime -- a runbook that resets
 * and locks must reset first.
 */
static size_t
pw_len(const struct lconn *c)
{
	json_int_t	n = json_integer_value(json_object_get(c->t->opts,
	    "password_length"));

	return n >= PW_LEN_MIN && n <= PW_LEN_MAX ? (size_t)n :
	    PW_LEN_DEFAULT;
}

static int
pw_twice(const struct act *a)
{
	const char	*t = act_param(a, "twice");
	json_t		*j = json_object_get(a->params, "twice");

	return json_is_true(j) || (t && (strcmp(t, "true") == 0 ||
	    strcmp(t, "1") == 0 || strcmp(t, "yes") == 0));
}

static void
done_reset_check(struct lconn *c, struct act *a, LDAPMessage *res)
{
	json_t	*st;

	static const char *const keep[] = { "pwd_last_set", "pwd_changed",
	    NULL };

	if ((st = ldap_acct_take(c, a, res)) == NULL)
		return;
	ldap_acct_keep(st, keep);
	json_decref(a->before);
	a->before = st;
	free(a->change);
	a->change = xasprintf("set a new random password (%zu characters, "
	    "kept in the vault)%s; irreversible: no undo", pw_len(c),
	    pw_twice(a) ? ", twice" : "");
	a->outcome = ACT_OK;
}

static int
ldap_reset_check(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	size_t		 i;
	int		 r;

	for (i = 0; i < n; i++) {
		if (!c->tls) {
			act_fail(v[i], "refusing to send a password in "
			    "cleartext: the target needs ldaps:// or "
			    "starttls = true");
			v[i]->outcome = ACT_REFUSED;
		} else if (vault_dir() == NULL)
			act_fail(v[i], "no vault to keep the new password: "
			    "set agent.secrets_dir");
	}
	if (!c->tls || vault_dir() == NULL)
		return 0;
	if ((r = ldap_pipeline(c, v, n, ldap_acct_submit,
	    done_reset_check)) != 0 || !c->ad)
		return r;
	return ldap_ad_protect_groups(c, v, n);
}

static int
has_any(const char *s, size_t len, const char *set)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (strchr(set, s[i]) != NULL)
			return 1;
	return 0;
}

/* A password with every character class the alphabet offers. */
static int
pw_new(const struct lconn *c, struct secret **ret)
{
	static const char	*cls[] = { "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	    "abcdefghijklmnopqrstuvwxyz", "0123456789",
	    "-_.,:+=@%!#*?/" };
	const char		*alpha = ldap_opt_str(c->t,
	    "password_alphabet");
	struct secret		*s = NULL;
	size_t			 i;
	int			 r, tries, ok;

	if (alpha == NULL)
		alpha = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
		    "23456789-_.,:+=@%!#";
	for (tries = 0; tries < PW_TRIES; tries++) {
		if ((r = secret_random(pw_len(c), alpha, &s)) != 0)
			return r;
		for (ok = 1, i = 0; i < ARRAY_SIZE(cls) && ok; i++)
			if (has_any(alpha, strlen(alpha), cls[i]) &&
			    !has_any(s->s, s->len, cls[i]))
				ok = 0;
		if (ok) {
			*ret = s;
			return 0;
		}
		secret_free(s);
		s = NULL;
	}
	return -EAGAIN;
}

/* RFC 3062: the server sets exactly this password for dn. */
static int
openldap_password_submit(struct lconn *c, struct act *a,
    const struct secret *pw)
{
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	struct berval	 user, npw;
	int		 msgid, rc;

	user.bv_val = (char *)dn;
	user.bv_len = strlen(dn);
	npw.bv_val = pw->s;
	npw.bv_len = pw->len;
	rc = ldap_passwd(c->ld, &user, NULL, &npw, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "password modify failed: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

/*
 * One password write per act.  The throwaway pass (twice = true) sets a
 * password nobody keeps; the final pass puts the password into the vault
 * first, so a crash after the write never loses it.
 */
static int
reset_submit(struct lconn *c, struct act *a, int final)
{
	struct secret	*pw = NULL;
	char		 fp[24], ts[32];
	int		 msgid = -1, r;

	if (a->outcome != ACT_OK)
		return -1;
	if (json_string_value(json_object_get(a->before, "dn")) == NULL) {
		act_fail(a, "no entry to reset");
		return -1;
	}
	if ((r = pw_new(c, &pw)) != 0) {
		act_fail(a, "cannot generate a password: %s", strerror(-r));
		goto out;
	}
	if (final) {
		if ((r = vault_put(a->id, "password", pw->s, pw->len,
		    fp)) != 0) {
			act_fail(a, "cannot store the password in the vault: "
			    "%s; nothing written", strerror(-r));
			goto out;
		}
		fmt_time(time(NULL), ts);
		json_decref(a->observed);
		a->observed = json_pack("{s:s,s:s,s:s,s:b}", "password_fp", fp,
		    "vault_label", "password", "set_at", ts, "twice",
		    pw_twice(a));
	}
	msgid = c->ad ? ldap_ad_password_submit(c, a, pw) :
	    openldap_password_submit(c, a, pw);
out:
	secret_free(pw);
	return msgid;
}

static int
reset_submit_first(struct lconn *c, struct act *a)
{
	return reset_submit(c, a, 0);
}

static int
reset_submit_final(struct lconn *c, struct act *a)
{
	return reset_submit(c, a, 1);
}

static void
done_reset(struct lconn *c, struct act *a, LDAPMessage *res)
{
	char	*text = NULL;
	int	 err = LDAP_OTHER;

	(void)ldap_parse_result(c->ld, res, &err, NULL, &text, NULL, NULL, 0);
	if (err == LDAP_SUCCESS)
		a->outcome = ACT_OK;
	else {
		act_fail(a, "password refused: %s%s%s", ldap_err2string(err),
		    text && *text ? ": " : "", text ? text : "");
		if (a->observed)
			(void)json_object_set_new(a->observed, "written",
			    json_false());
	}
	ldap_memfree(text);
}

static int
ldap_reset_apply(void *conn, struct act **v, size_t n)
{
	struct lconn	 *c = conn;
	struct act	**tw = xcalloc(n ? n : 1, sizeof(*tw));
	size_t		  i, m = 0;
	int		  r = 0;

	if (!c->tls) {
		for (i = 0; i < n; i++) {
			act_fail(v[i], "refusing to send a password in "
			    "cleartext");
			v[i]->outcome = ACT_REFUSED;
		}
		goto out;
	}
	if (c->ad && (r = ldap_ad_protect_groups(c, v, n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (pw_twice(v[i]) && v[i]->outcome == ACT_OK)
			tw[m++] = v[i];
	if (m > 0 && (r = ldap_pipeline(c, tw, m, reset_submit_first,
	    done_reset)) != 0)
		goto out;
	r = ldap_pipeline(c, v, n, reset_submit_final, done_reset);
out:
	free(tw);
	return r;
}

static void
done_reset_read(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	*e = ldap_first_entry(c->ld, res);
	json_t		*st;
	const char	*key = c->ad ? "pwd_last_set" : "pwd_changed";
	const char	*was, *now;

	if (e == NULL) {
		act_fail(a, "entry vanished before read back");
		return;
	}
	st = acct_state(c->ld, e);
	was = json_string_value(json_object_get(a->before, key));
	now = json_string_value(json_object_get(st, key));
	if (a->observed == NULL)
		a->observed = json_object();
	if (now)
		(void)json_object_set_new(a->observed, key, json_string(now));
	if (now == NULL || strcmp(now, "0") == 0)
		act_fail(a, "read back shows no password change time (%s)",
		    c->ad ? "pwdLastSet" : "pwdChangedTime: ppolicy missing?");
	else if (was && strcmp(was, now) == 0)
		act_fail(a, "read back shows the password unchanged");
	else
		a->outcome = ACT_OK;
	json_decref(st);
}

static int
ldap_reset_verify(void *conn, struct act **v, size_t n)
{
	return ldap_pipeline(conn, v, n, submit_base_read, done_reset_read);
}

/*
 * remove_from_groups: deletes the account's DN from the member attribute
 * of the groups named by the runbook ("privileged" on AD: the well-known
 * set), one modify per group; before lists the groups it was in, and the
 * undo adds it back to exactly those.  Group work is synchronous per act
 * (one search per group), bounded by GROUPS_MAX and the operation
 * timeout; the account lookups are pipelined.
 */
static int
group_search(struct lconn *c, const char *base, int scope,
    const char *filter, LDAPMessage **ret)
{
	static char	*attrs[] = { "1.1", NULL };
	struct timeval	 tv = { LDAP_TIMEOUT_S, 0 };

	*ret = NULL;
	return ldap_search_ext_s(c->ld, base, scope, filter, attrs, 0, NULL,
	    NULL, &tv, LDAP_FIND_MAX, ret);
}

/* The DN of one group by DN or name; 0, or act_fail and -1. */
static int
group_resolve(struct lconn *c, struct act *a, const char *name,
    int optional, char **ret_dn)
{
	LDAPMessage	*res = NULL, *e;
	struct buf	 f;
	char		*dn;
	int		 rc, n, r = -1;

	*ret_dn = NULL;
	buf_init(&f, LDAP_FILTER_MAX);
	if (strchr(name, '=') != NULL)
		rc = group_search(c, name, LDAP_SCOPE_BASE, c->ad ?
		    "(objectClass=group)" : "(|(objectClass=groupOfNames)"
		    "(objectClass=group))", &res);
	else {
		if (buf_adds(&f, c->ad ? "(&(objectClass=group)"
		    "(sAMAccountName=" : "(&(|(objectClass=groupOfNames)"
		    "(objectClass=group))(cn=") != 0 ||
		    esc_ldap_filter(&f, name) != 0 ||
		    buf_adds(&f, "))") != 0) {
			act_fail(a, "group name too long");
			goto out;
		}
		rc = group_search(c, c->group_base, LDAP_SCOPE_SUBTREE, f.p,
		    &res);
	}
	n = res ? ldap_count_entries(c->ld, res) : 0;
	if ((rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) || n > 1) {
		act_fail(a, "group '%s': %s", name, n > 1 ?
		    "ambiguous: several groups match" : ldap_err2string(rc));
		goto out;
	}
	if (n == 0) {
		if (optional)
			r = 0;
		else
			act_fail(a, "no group '%s'", name);
		goto out;
	}
	e = ldap_first_entry(c->ld, res);
	dn = ldap_get_dn(c->ld, e);
	*ret_dn = xstrdup(dn ? dn : "");
	ldap_memfree(dn);
	r = 0;
out:
	(void)ldap_msgfree(res);
	buf_free(&f);
	return r;
}

/* 1 member, 0 not, -1 after act_fail. */
static int
group_has(struct lconn *c, struct act *a, const char *gdn, const char *udn)
{
	LDAPMessage	*res = NULL;
	struct buf	 f;
	int		 rc, r = -1;

	buf_init(&f, LDAP_FILTER_MAX);
	if (buf_adds(&f, "(member=") != 0 || esc_ldap_filter(&f, udn) != 0 ||
	    buf_addc(&f, ')') != 0) {
		act_fail(a, "account DN too long for a filter");
		goto out;
	}
	rc = group_search(c, gdn, LDAP_SCOPE_BASE, f.p, &res);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "reading group '%s': %s", gdn,
		    ldap_err2string(rc));
		goto out;
	}
	r = ldap_count_entries(c->ld, res) > 0;
out:
	(void)ldap_msgfree(res);
	buf_free(&f);
	return r;
}

static int
add_group_dn(struct lconn *c, LDAPMessage *e, void *arg)
{
	char	*dn = ldap_get_dn(c->ld, e);

	if (dn == NULL)
		return -EIO;
	(void)json_array_append_new(arg, json_string(dn));
	ldap_memfree(dn);
	return json_array_size(arg) > GROUPS_MAX ? -E2BIG : 0;
}

/*
 * "all": every group that lists the account in member (on AD that is
 * every group but the primary one, which AD keeps out of member), found
 * with a paged search -- a directory may hold any number of groups.
 */
static int
groups_all(struct lconn *c, struct act *a, json_t *out)
{
	static char	*attrs[] = { "1.1", NULL };
	const char	*udn = json_string_value(json_object_get(a->before,
	    "dn"));
	char		 err[ACT_MSG_MAX];
	struct buf	 f;
	int		 r;

	buf_init(&f, LDAP_FILTER_MAX);
	if (udn == NULL || buf_adds(&f, c->ad ? "(&(objectClass=group)"
	    "(member=" : "(&(|(objectClass=groupOfNames)(objectClass=group))"
	    "(member=") != 0 || esc_ldap_filter(&f, udn) != 0 ||
	    buf_adds(&f, "))") != 0) {
		buf_free(&f);
		act_fail(a, "account DN too long for a filter");
		return -1;
	}
	err[0] = '\0';
	r = ldap_paged_search(c, c->group_base, LDAP_SCOPE_SUBTREE, f.p, attrs,
	    add_group_dn, out, err, sizeof(err));
	buf_free(&f);
	if (r == -E2BIG && err[0] == '\0')
		act_fail(a, "member of more than %d groups", GROUPS_MAX);
	else if (r != 0)
		act_fail(a, "%s", err);
	return r != 0 ? -1 : 0;
}

/*
 * What an undo re-adds: exactly the groups the original apply removed
 * (before.removed, which apply records), not every group it planned to:
 * a group somebody else removed in between is not cordon's to restore.
 * An action recorded before apply kept that list has only groups.
 */
static json_t *
restore_groups(const struct act *a)
{
	json_t	*r = json_object_get(a->restore, "removed");

	return json_is_array(r) ? r : json_object_get(a->restore, "groups");
}

/* The DNs the act is about: the undo's saved list, or the runbook's. */
static json_t *
groups_wanted(struct lconn *c, struct act *a)
{
	const char	*spec = act_param(a, "groups"), *p, *q;
	json_t		*out = json_array(), *g;
	char		*item, *dn;
	size_t		 i, k, len;
	int		 bad = 0;
	char		 sep;

	if (a->restore) {
		json_array_foreach(restore_groups(a), i, g)
			if (json_is_string(g))
				(void)json_array_append(out, g);
		return out;
	}
	if (spec == NULL || *spec == '\0') {
		act_fail(a, "missing parameter 'groups'");
		goto fail;
	}
	/* "a, b" or, since a DN holds commas itself, "dn1; dn2". */
	sep = strchr(spec, ';') ? ';' : ',';
	for (p = spec; *p && !bad; p = *q ? q + 1 : q) {
		if ((q = strchr(p, sep)) == NULL)
			q = p + strlen(p);
		/* One DN among names: it takes the rest of the list. */
		if (sep == ',' && strchr(p, '=') != NULL &&
		    strchr(p, '=') < q)
			q = p + strlen(p);
		while (p < q && *p == ' ')
			p++;
		len = (size_t)(q - p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0)
			continue;
		item = xstrndup(p, len);
		if (strcmp(item, "all") == 0) {
			if (groups_all(c, a, out) != 0)
				bad = 1;
		} else if (strcmp(item, "privileged") == 0) {
			if (!c->ad) {
				act_fail(a, "'privileged' names the Active "
				    "Directory groups; name the groups");
				bad = 1;
			}
			for (k = 0; !bad && ldap_ad_privileged[k]; k++) {
				if (group_resolve(c, a, ldap_ad_privileged[k],
				    1, &dn) != 0)
					bad = 1;
				else if (dn)
					(void)json_array_append_new(out,
					    json_string(dn));
				free(dn);
			}
		} else if (group_resolve(c, a, item, 0, &dn) != 0)
			bad = 1;
		else {
			(void)json_array_append_new(out, json_string(dn));
			free(dn);
		}
		free(item);
		if (json_array_size(out) > GROUPS_MAX) {
			act_fail(a, "more than %d groups", GROUPS_MAX);
			bad = 1;
		}
	}
	if (!bad)
		return out;
fail:
	json_decref(out);
	return NULL;
}

static void
done_groups_find(struct lconn *c, struct act *a, LDAPMessage *res)
{
	json_t	*st;

	if ((st = ldap_acct_take(c, a, res)) == NULL)
		return;
	ldap_acct_keep(st, NULL);
	json_decref(a->before);
	a->before = st;
	a->outcome = ACT_OK;
}

static void
groups_decide(struct lconn *c, struct act *a)
{
	json_t		*want, *in = json_array(), *g;
	const char	*udn = json_string_value(json_object_get(a->before,
	    "dn"));
	struct buf	 ch;
	size_t		 i, nch = 0;
	int		 m;

	buf_init(&ch, 64 * 1024);
	if ((want = groups_wanted(c, a)) == NULL)
		goto out;
	json_array_foreach(want, i, g) {
		if ((m = group_has(c, a, json_string_value(g), udn)) < 0)
			goto out;
		if (m)
			(void)json_array_append(in, g);
		if (m == !!a->restore)
			continue;
		if (buf_printf(&ch, "%s%s", nch++ ? "; " : "",
		    json_string_value(g)) != 0) {
			act_fail(a, "change text too long");
			goto out;
		}
	}
	(void)json_object_set(a->before, "groups", in);
	free(a->change);
	a->change = NULL;
	if (nch == 0) {
		a->outcome = ACT_NOCHANGE;
		goto out;
	}
	a->change = xasprintf("%s member %s: %s", a->restore ? "add" :
	    "delete", udn, ch.p);
	a->outcome = ACT_OK;
out:
	json_decref(want);
	json_decref(in);
	buf_free(&ch);
}

static int
ldap_groups_check(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	size_t		 i;
	int		 r;

	if ((r = ldap_pipeline(c, v, n, ldap_acct_submit,
	    done_groups_find)) != 0 || (c->ad &&
	    (r = ldap_ad_protect_groups(c, v, n)) != 0))
		return r;
	for (i = 0; i < n; i++)
		if (v[i]->outcome == ACT_OK && v[i]->before)
			groups_decide(c, v[i]);
	return 0;
}

/* One member modify; 1 done, 0 already so, -1 after act_fail. */
static int
group_member_mod(struct lconn *c, struct act *a, const char *gdn,
    const char *udn, int add)
{
	char	*vals[2] = { (char *)udn, NULL };
	LDAPMod	 mod, *mods[2] = { &mod, NULL };
	int	 rc;

	memset(&mod, 0, sizeof(mod));
	mod.mod_op = add ? LDAP_MOD_ADD : LDAP_MOD_DELETE;
	mod.mod_type = "member";
	mod.mod_values = vals;
	rc = ldap_modify_ext_s(c->ld, gdn, mods, NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return 1;
	if ((!add && rc == LDAP_NO_SUCH_ATTRIBUTE) || (add &&
	    (rc == LDAP_TYPE_OR_VALUE_EXISTS || rc == LDAP_ALREADY_EXISTS)))
		return 0;
	act_fail(a, "%s member of '%s': %s", add ? "add" : "delete", gdn,
	    ldap_err2string(rc));
	return -1;
}

/* apply deletes from before.groups; undo adds restore.groups - before. */
static int
ldap_groups_apply(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	json_t		*list, *done, *g, *x;
	const char	*udn;
	size_t		 i, k, j;
	int		 m, skip, r;

	for (i = 0; i < n; i++)
		v[i]->outcome = ACT_OK;
	if (c->ad && (r = ldap_ad_protect_groups(c, v, n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if (a->outcome != ACT_OK)
			continue;
		udn = json_string_value(json_object_get(a->before, "dn"));
		if (udn == NULL) {
			act_fail(a, "no entry to modify");
			continue;
		}
		list = a->restore ? restore_groups(a) :
		    json_object_get(a->before, "groups");
		done = json_array();
		a->outcome = ACT_OK;
		json_array_foreach(list, k, g) {
			skip = 0;
			if (a->restore)
				json_array_foreach(json_object_get(a->before,
				    "groups"), j, x)
					if (json_equal(x, g))
						skip = 1;
			if (skip || !json_is_string(g))
				continue;
			m = group_member_mod(c, a, json_string_value(g), udn,
			    a->restore != NULL);
			if (m < 0)
				break;
			if (m > 0)
				(void)json_array_append(done, g);
		}
		/* Kept with before: the undo's restore (see restore_groups). */
		if (a->restore == NULL)
			(void)json_object_set(a->before, "removed", done);
		json_decref(a->observed);
		a->observed = json_pack("{s:s,s:o}", "dn", udn, a->restore ?
		    "added" : "removed", done);
	}
	return 0;
}

struct member_scan {
	const char	*udn;
	size_t		 count;
	int		 found;
};

static int
member_seen(struct lconn *c, const struct berval *v, void *arg)
{
	struct member_scan	*ms = arg;

	(void)c;
	ms->count++;
	if (!ms->found && v->bv_len == strlen(ms->udn) &&
	    strncasecmp(v->bv_val, ms->udn, v->bv_len) == 0)
		ms->found = 1;
	return 0;
}

/*
 * AD read-back: the group's member values themselves, every range of
 * them (a big group returns 1500 per read), not a server-side match.
 * 1 member, 0 not, -1 after act_fail; sizes[gdn] = values read.
 */
static int
group_read_has(struct lconn *c, struct act *a, const char *gdn,
    const char *udn, json_t *sizes)
{
	struct member_scan	ms = { udn, 0, 0 };
	char			err[ACT_MSG_MAX];

	if (ldap_ad_values(c, gdn, "member", member_seen, &ms, err,
	    sizeof(err)) != 0) {
		act_fail(a, "%s", err);
		return -1;
	}
	(void)json_object_set_new(sizes, gdn, json_integer(
	    (json_int_t)ms.count));
	return ms.found;
}

static int
ldap_groups_verify(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	json_t		*list, *in, *g, *sizes;
	const char	*udn;
	size_t		 i, k;
	int		 m;

	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		udn = json_string_value(json_object_get(a->before, "dn"));
		list = a->restore ? restore_groups(a) :
		    json_object_get(a->before, "groups");
		if (udn == NULL) {
			act_fail(a, "no entry to read back");
			continue;
		}
		in = json_array();
		sizes = json_object();
		a->outcome = ACT_OK;
		json_array_foreach(list, k, g) {
			if (c->ad)
				m = group_read_has(c, a, json_string_value(g),
				    udn, sizes);
			else
				m = group_has(c, a, json_string_value(g), udn);
			if (m < 0)
				break;
			if (m)
				(void)json_array_append(in, g);
			if (m != (a->restore != NULL)) {
				act_fail(a, "read back: '%s' %s", udn,
				    m ? "is still a member of a group" :
				    "is not back in every group");
			}
		}
		if (a->observed == NULL)
			a->observed = json_object();
		(void)json_object_set_new(a->observed, "member_of", in);
		if (c->ad)
			(void)json_object_set_new(a->observed, "group_sizes",
			    sizes);
		else
			json_decref(sizes);
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
	{
		.name = "reset_password",
		.summary = "set a random password, kept in the vault "
		    "(irreversible)",
		.check = ldap_reset_check,
		.apply = ldap_reset_apply,
		.verify = ldap_reset_verify,
		.undo = NULL,
		.atomic = 0,
		.needs_approval = 1,
		.required_params = { "account", NULL },
	},
	{
		.name = "remove_from_groups",
		.summary = "remove an account from privileged groups",
		.check = ldap_groups_check,
		.apply = ldap_groups_apply,
		.verify = ldap_groups_verify,
		.undo = ldap_groups_apply,
		.atomic = 0,
		.required_params = { "account", "groups", NULL },
	},
	{
		.name = "quarantine_ou",
		.summary = "move an account into the quarantine OU (AD)",
		.check = ldap_ad_move_check,
		.apply = ldap_ad_move_apply,
		.verify = ldap_ad_move_verify,
		.undo = ldap_ad_move_apply,
		.atomic = 1,
		.required_params = { "account", NULL },
	},
	{
		.name = "deny_logon_hours",
		.summary = "allow no logon at any hour: logonHours all zero "
		    "(AD)",
		.check = ldap_ad_hours_check,
		.apply = ldap_ad_hours_apply,
		.verify = ldap_ad_hours_verify,
		.undo = ldap_ad_hours_apply,
		.atomic = 1,
		.required_params = { "account", NULL },
	},
	{ .name = NULL },
};

/*
 * On OpenLDAP a password change clears ppolicy's pwdAccountLockedTime:
 * a reset after the lock would silently unlock the account.
 */
static int
ldap_step_order(const struct target *t, const char *first, const char *then,
    char *err, size_t errlen)
{
	const char	*fl = ldap_opt_str(t, "flavour");

	if ((fl == NULL || strcmp(fl, "openldap") == 0) &&
	    strcmp(first, "ldap.disable_account") == 0 &&
	    strcmp(then, "ldap.reset_password") == 0) {
		(void)snprintf(err, errlen, "on OpenLDAP a password change "
		    "removes the lock, so ldap.reset_password must come "
		    "before ldap.disable_account");
		return -EINVAL;
	}
	return 0;
}

const struct driver ldap_driver = {
	.name = "ldap",
	.verbs = ldap_verbs,
	.target_check = ldap_target_check,
	.open = ldap_open,
	.close = ldap_close,
	.parallel = 1,
	.step_order = ldap_step_order,
};
