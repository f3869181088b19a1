/*
 * ldap_ad: the Active Directory flavour of the ldap family (see
 * ldap_ad.h for the contract shared with ldap.c).
 *
 * disable_account sets ACCOUNTDISABLE (0x2) in userAccountControl.  AD
 * has neither the assertion nor the post-read control, so the
 * compare-and-swap is the modify itself: delete the value check saw and
 * add the new one in the same operation.  If another writer changed the
 * attribute in between, the delete finds no such value, the server
 * refuses the whole modify (noSuchAttribute) and the act is ACT_STALE.
 * One Samba quirk: it answers success when the new value already equals
 * the current one, whatever the old value said -- harmless for the state
 * (it is the wanted one), and verify re-reads the entry anyway.  Undo
 * restores exactly the value saved before, and only when the entry still
 * holds what cordon wrote.
 *
 * Targets must use TLS (ldaps://, or ldap:// with starttls = true), with
 * certificate verification always on: AD refuses simple binds and
 * password writes in cleartext anyway, and a bind password must never
 * cross a network in the clear.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldap.h>

#include "../agent/driver.h"
#include "../agent/esc.h"
#include "../agent/secret.h"
#include "../agent/util.h"
#include "ldap_ad.h"

#define UAC_ATTR	"userAccountControl"
#define UAC_TEXT_MAX	16
#define UNICODEPWD_MAX	(2 * (SECRET_MAX + 2))

const char *const ldap_ad_privileged[] = {
	"Domain Admins", "Enterprise Admins", "Schema Admins",
	"Administrators", "Account Operators", "Backup Operators",
	"Server Operators", "Print Operators", NULL,
};

/* An optional integer option: absent, or within [min, max]. */
static int
opt_int_in(const struct target *t, const char *k, long min, long max,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(t->opts, k);

	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)) {
		(void)snprintf(err, errlen, "%s must be an integer from %ld "
		    "to %ld", k, min, max);
		return -EINVAL;
	}
	return 0;
}

int
ldap_ad_target_check(const struct target *t, char *err, size_t errlen)
{
	static const char	*attrs[] = { "sAMAccountName",
	    "userPrincipalName", "mail" };
	const char		*uri = ldap_opt_str(t, "uri");
	const char		*ua = ldap_opt_str(t, "user_attr");
	const char		*ca = ldap_opt_str(t, "ca_file");
	const char		*q;
	char			*x = NULL, *y = NULL;
	size_t			 i;
	int			 r;

	if (strncasecmp(uri, "ldaps://", 8) != 0 &&
	    !(strncasecmp(uri, "ldap://", 7) == 0 &&
	    ldap_opt_bool(t, "starttls"))) {
		(void)snprintf(err, errlen, "flavour \"ad\" needs ldaps:// or "
		    "ldap:// with starttls = true");
		return -EINVAL;
	}
	if (ldap_opt_bool(t, "allow_cleartext")) {
		(void)snprintf(err, errlen, "allow_cleartext is not allowed "
		    "with flavour \"ad\"");
		return -EINVAL;
	}
	if (ua != NULL) {
		for (i = 0; i < ARRAY_SIZE(attrs); i++)
			if (strcasecmp(ua, attrs[i]) == 0)
				break;
		if (i == ARRAY_SIZE(attrs)) {
			(void)snprintf(err, errlen, "user_attr must be "
			    "sAMAccountName, userPrincipalName or mail");
			return -EINVAL;
		}
	}
	/* A CA per target: never whatever ldap.conf happens to trust. */
	if (ca == NULL) {
		(void)snprintf(err, errlen, "flavour \"ad\" needs ca_file "
		    "(the CA that signed the DC's certificate)");
		return -EINVAL;
	}
	if (access(ca, R_OK) != 0) {
		(void)snprintf(err, errlen, "ca_file '%s': %s", ca,
		    strerror(errno));
		return -errno;
	}
	q = ldap_opt_str(t, "quarantine_ou");
	if (json_object_get(t->opts, "quarantine_ou") != NULL && (q == NULL ||
	    ldap_ad_dn_split(q, &x, &y) != 0)) {
		(void)snprintf(err, errlen, "quarantine_ou must be the DN of "
		    "an OU");
		return -EINVAL;
	}
	free(x);
	free(y);
	if ((r = opt_int_in(t, "page_size", 1, 1000, err, errlen)) != 0 ||
	    (r = opt_int_in(t, "range_size", 1, 100000, err, errlen)) != 0 ||
	    (r = opt_int_in(t, "password_length", 12, 128, err, errlen)) != 0)
		return r;
	return 0;
}

/* "(objectGUID=\xx...)" for an undo that saw one, else user_attr=value. */
int
ldap_ad_acct_filter(const struct lconn *c, const struct act *a,
    struct buf *f)
{
	const char	*g = a->restore ? json_string_value(json_object_get(
	    a->restore, "guid")) : NULL;
	size_t		 i;
	int		 r;

	if (g != NULL && strlen(g) == 32 && strspn(g,
	    "0123456789abcdef") == 32) {
		if ((r = buf_adds(f, "(objectGUID=")) != 0)
			return r;
		for (i = 0; i < 32; i += 2)
			if ((r = buf_printf(f, "\\%c%c", g[i], g[i + 1])) != 0)
				return r;
		return buf_addc(f, ')');
	}
	if ((r = buf_printf(f, "(&(objectClass=user)(%s=", c->attr)) != 0 ||
	    (r = esc_ldap_filter(f, act_param(a, "account"))) != 0)
		return r;
	return buf_adds(f, "))");
}

int
ldap_ad_builtin_protected(const json_t *st)
{
	const char	*sam = json_string_value(json_object_get(st, "sam"));
	json_int_t	 rid = json_integer_value(json_object_get(st, "rid"));

	return rid == AD_RID_ADMINISTRATOR || rid == AD_RID_KRBTGT ||
	    (sam && (strcasecmp(sam, "krbtgt") == 0 ||
	    strcasecmp(sam, "Administrator") == 0));
}

static int
uac_of(const json_t *o, uint32_t *ret)
{
	const json_t	*u = json_object_get(o, "uac");

	if (!json_is_integer(u))
		return -ENOENT;
	*ret = (uint32_t)json_integer_value(u);
	return 0;
}

static void
done_disable_check(struct lconn *c, struct act *a, LDAPMessage *res)
{
	json_t		*st;
	uint32_t	 cur, saved;

	static const char *const keep[] = { "uac", NULL };

	if ((st = ldap_acct_take(c, a, res)) == NULL)
		return;
	ldap_acct_keep(st, keep);
	if (uac_of(st, &cur) != 0) {
		act_fail(a, "'%s' has no userAccountControl we may read",
		    json_string_value(json_object_get(st, "dn")));
		json_decref(st);
		return;
	}
	(void)json_object_set_new(st, "state", json_string(
	    cur & AD_UF_ACCOUNTDISABLE ? "disabled" : "enabled"));
	json_decref(a->before);
	a->before = st;
	free(a->change);
	a->change = NULL;
	if (a->restore == NULL) {
		if (cur & AD_UF_ACCOUNTDISABLE) {
			a->outcome = ACT_NOCHANGE;
			return;
		}
		a->change = xasprintf("replace %s: %u -> %u (ACCOUNTDISABLE)",
		    UAC_ATTR, cur, cur | AD_UF_ACCOUNTDISABLE);
		a->outcome = ACT_OK;
		return;
	}
	/* Undo: only a bit cordon set, only over the value cordon wrote. */
	if (uac_of(a->restore, &saved) != 0) {
		act_fail(a, "the original action saved no %s", UAC_ATTR);
		return;
	}
	if ((saved & AD_UF_ACCOUNTDISABLE) ||
	    !(cur & AD_UF_ACCOUNTDISABLE)) {
		a->outcome = ACT_NOCHANGE;
		return;
	}
	if (cur != (saved | AD_UF_ACCOUNTDISABLE)) {
		act_fail(a, "%s is %u, not the %u cordon wrote: someone "
		    "changed it since; not restoring %u over it", UAC_ATTR,
		    cur, saved | AD_UF_ACCOUNTDISABLE, saved);
		return;
	}
	a->change = xasprintf("replace %s: %u -> %u (restore)", UAC_ATTR, cur,
	    saved);
	a->outcome = ACT_OK;
}

int
ldap_ad_disable_check(void *conn, struct act **v, size_t n)
{
	int	r;

	if ((r = ldap_pipeline(conn, v, n, ldap_acct_submit,
	    done_disable_check)) != 0)
		return r;
	return ldap_ad_protect_groups(conn, v, n);
}

/* The value this act writes: before | 0x2, or the saved one on undo. */
static int
uac_wanted(const struct act *a, uint32_t *ret)
{
	uint32_t	cur;
	int		r;

	if (a->restore)
		return uac_of(a->restore, ret);
	if ((r = uac_of(a->before, &cur)) != 0)
		return r;
	*ret = cur | AD_UF_ACCOUNTDISABLE;
	return 0;
}

static int
submit_uac_write(struct lconn *c, struct act *a)
{
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	char		 oldv[UAC_TEXT_MAX], newv[UAC_TEXT_MAX];
	char		*ov[2] = { oldv, NULL }, *nv[2] = { newv, NULL };
	LDAPMod		 del, add, *mods[3] = { &del, &add, NULL };
	uint32_t	 cur, want;
	int		 msgid, rc;

	if (a->outcome != ACT_OK)
		return -1;
	if (dn == NULL || uac_of(a->before, &cur) != 0 ||
	    uac_wanted(a, &want) != 0) {
		act_fail(a, "no entry state to write from");
		return -1;
	}
	/* AD stores the attribute as a signed 32-bit integer. */
	(void)snprintf(oldv, sizeof(oldv), "%d", (int32_t)cur);
	(void)snprintf(newv, sizeof(newv), "%d", (int32_t)want);
	memset(&del, 0, sizeof(del));
	memset(&add, 0, sizeof(add));
	del.mod_op = LDAP_MOD_DELETE;
	del.mod_type = UAC_ATTR;
	del.mod_values = ov;
	add.mod_op = LDAP_MOD_ADD;
	add.mod_type = UAC_ATTR;
	add.mod_values = nv;
	rc = ldap_modify_ext(c->ld, dn, mods, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "modify failed: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

static void
done_uac_write(struct lconn *c, struct act *a, LDAPMessage *res)
{
	char	*text = NULL;
	int	 err = LDAP_OTHER;

	(void)ldap_parse_result(c->ld, res, &err, NULL, &text, NULL, NULL, 0);
	if (err == LDAP_SUCCESS)
		a->outcome = ACT_OK;
	else if (err == LDAP_NO_SUCH_ATTRIBUTE ||
	    err == LDAP_NO_SUCH_OBJECT) {
		a->outcome = ACT_STALE;
		(void)snprintf(a->msg, sizeof(a->msg), "entry changed since "
		    "it was checked; nothing written");
	} else
		act_fail(a, "modify refused: %s%s%s", ldap_err2string(err),
		    text && *text ? ": " : "", text ? text : "");
	ldap_memfree(text);
}

int
ldap_ad_disable_apply(void *conn, struct act **v, size_t n)
{
	size_t	i;
	int	r;

	for (i = 0; i < n; i++)
		v[i]->outcome = ACT_OK;
	ldap_acct_protect(conn, v, n);
	if ((r = ldap_ad_protect_groups(conn, v, n)) != 0)
		return r;
	return ldap_pipeline(conn, v, n, submit_uac_write, done_uac_write);
}

static int
submit_uac_read(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { UAC_ATTR, NULL };

	return ldap_submit_base(c, a, attrs);
}

static void
done_uac_read(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	 *e = ldap_first_entry(c->ld, res);
	struct berval	**vals;
	char		  buf[UAC_TEXT_MAX], *end;
	long long	  num;
	uint32_t	  got, want;

	if (e == NULL) {
		act_fail(a, "entry vanished before read back");
		return;
	}
	vals = ldap_get_values_len(c->ld, e, UAC_ATTR);
	if (vals == NULL || vals[0] == NULL ||
	    vals[0]->bv_len >= sizeof(buf)) {
		ldap_value_free_len(vals);
		act_fail(a, "read back shows no %s", UAC_ATTR);
		return;
	}
	memcpy(buf, vals[0]->bv_val, vals[0]->bv_len);
	buf[vals[0]->bv_len] = '\0';
	ldap_value_free_len(vals);
	errno = 0;
	num = strtoll(buf, &end, 10);
	/* AD writes the flags as a signed 32-bit integer. */
	if (errno != 0 || end == buf || *end != '\0' || num < INT32_MIN ||
	    num > UINT32_MAX) {
		act_fail(a, "read back shows a %s that is not a number",
		    UAC_ATTR);
		return;
	}
	got = (uint32_t)num;
	json_decref(a->observed);
	a->observed = json_pack("{s:s,s:I,s:s}", "dn",
	    json_string_value(json_object_get(a->before, "dn")), "uac",
	    (json_int_t)got, "state", got & AD_UF_ACCOUNTDISABLE ?
	    "disabled" : "enabled");
	if (uac_wanted(a, &want) != 0)
		act_fail(a, "no wanted state to compare with");
	else if (got != want)
		act_fail(a, "read back shows %s %u, not the %u written",
		    UAC_ATTR, got, want);
	else
		a->outcome = ACT_OK;
}

int
ldap_ad_disable_verify(void *conn, struct act **v, size_t n)
{
	return ldap_pipeline(conn, v, n, submit_uac_read, done_uac_read);
}

/*
 * An administrative reset: replace unicodePwd with the password in double
 * quotes, UTF-16LE.  The password is ASCII (secret_random's alphabet), so
 * each byte becomes two.  The encoded copy is wiped before returning;
 * libldap's own copy in the encoded request is freed by it.
 */
int
ldap_ad_password_submit(struct lconn *c, struct act *a,
    const struct secret *pw)
{
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	struct berval	 bv, *bvs[2] = { &bv, NULL };
	LDAPMod		 mod, *mods[2] = { &mod, NULL };
	unsigned char	*u = NULL;
	size_t		 i, n = 0;
	int		 msgid = -1, rc;

	if (dn == NULL || pw->len > SECRET_MAX) {
		act_fail(a, "no entry to reset");
		return -1;
	}
	u = xmalloc(UNICODEPWD_MAX);
	u[n++] = '"';
	u[n++] = 0;
	for (i = 0; i < pw->len; i++) {
		if ((unsigned char)pw->s[i] >= 0x80) {
			act_fail(a, "password alphabet must be ASCII");
			goto out;
		}
		u[n++] = (unsigned char)pw->s[i];
		u[n++] = 0;
	}
	u[n++] = '"';
	u[n++] = 0;
	bv.bv_val = (char *)u;
	bv.bv_len = n;
	memset(&mod, 0, sizeof(mod));
	mod.mod_op = LDAP_MOD_REPLACE | LDAP_MOD_BVALUES;
	mod.mod_type = "unicodePwd";
	mod.mod_bvalues = bvs;
	rc = ldap_modify_ext(c->ld, dn, mods, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "password write failed: %s", ldap_err2string(rc));
		msgid = -1;
	}
out:
	explicit_bzero(u, UNICODEPWD_MAX);
	free(u);
	return msgid;
}

/*
 * A subtree search for the entry with before.guid (the account wherever
 * it lives now) for attrs: a msgid, or -1 after act_fail.
 */
int
ldap_ad_guid_submit(struct lconn *c, struct act *a, char **attrs)
{
	const char	*g = json_string_value(json_object_get(a->before,
	    "guid"));
	struct buf	 f;
	size_t		 i;
	int		 msgid = -1, rc;

	if (g == NULL || strlen(g) != 32 || strspn(g, "0123456789abcdef") !=
	    32) {
		act_fail(a, "no objectGUID to find the entry by");
		return -1;
	}
	buf_init(&f, LDAP_FILTER_MAX);
	rc = buf_adds(&f, "(objectGUID=");
	for (i = 0; rc == 0 && i < 32; i += 2)
		rc = buf_printf(&f, "\\%c%c", g[i], g[i + 1]);
	if (rc == 0)
		rc = buf_addc(&f, ')');
	if (rc != 0) {
		act_fail(a, "cannot build the objectGUID filter");
		goto out;
	}
	rc = ldap_search_ext(c->ld, c->base, LDAP_SCOPE_SUBTREE, f.p, attrs,
	    0, NULL, NULL, NULL, 2, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "search failed: %s", ldap_err2string(rc));
		msgid = -1;
	}
out:
	buf_free(&f);
	return msgid;
}

/*
 * Protected groups: the filter that matches an account which is a member
 * of any of them, nested membership included (the DC evaluates
 * LDAP_MATCHING_RULE_IN_CHAIN), or has one as its primary group (which
 * AD keeps out of member/memberOf).  Built once per batch; every group
 * must exist, so a typo in the setting fails closed instead of quietly
 * protecting nobody.  NULL and *err set when it cannot be built.
 */
#define IN_CHAIN	"1.2.840.113556.1.4.1941"

static char *
protect_filter(struct lconn *c, const struct customer *cu, char *err,
    size_t errlen)
{
	static char	 *attrs[] = { "objectSid", NULL };
	struct timeval	  tv = { LDAP_TIMEOUT_S, 0 };
	LDAPMessage	 *res = NULL, *e;
	struct berval	**sid;
	const unsigned char *b;
	struct buf	  f;
	char		 *out = NULL;
	size_t		  i;
	uint32_t	  rid;
	int		  rc;

	buf_init(&f, LDAP_FILTER_MAX * 4);
	if (buf_adds(&f, "(|") != 0)
		goto toolong;
	for (i = 0; i < cu->nprotected_groups; i++) {
		const char *g = cu->protected_groups[i];

		rc = ldap_search_ext_s(c->ld, g, LDAP_SCOPE_BASE,
		    "(objectClass=group)", attrs, 0, NULL, NULL, &tv, 1, &res);
		if (rc != LDAP_SUCCESS || (e = ldap_first_entry(c->ld,
		    res)) == NULL) {
			(void)snprintf(err, errlen, "protected group '%s': %s",
			    g, rc == LDAP_SUCCESS ? "not a group" :
			    ldap_err2string(rc));
			goto out;
		}
		if (buf_adds(&f, "(memberOf:" IN_CHAIN ":=") != 0 ||
		    esc_ldap_filter(&f, g) != 0 || buf_addc(&f, ')') != 0)
			goto toolong;
		sid = ldap_get_values_len(c->ld, e, "objectSid");
		if (sid && sid[0] && sid[0]->bv_len >= 12 && sid[0]->bv_len ==
		    8 + 4 * (size_t)(unsigned char)sid[0]->bv_val[1]) {
			b = (const unsigned char *)sid[0]->bv_val +
			    sid[0]->bv_len - 4;
			rid = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
			    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
			if (buf_printf(&f, "(primaryGroupID=%u)", rid) != 0) {
				ldap_value_free_len(sid);
				goto toolong;
			}
		}
		ldap_value_free_len(sid);
		(void)ldap_msgfree(res);
		res = NULL;
	}
	if (buf_addc(&f, ')') != 0)
		goto toolong;
	out = xstrdup(f.p);
	goto out;
toolong:
	(void)snprintf(err, errlen, "protected_groups too long for a filter");
out:
	(void)ldap_msgfree(res);
	buf_free(&f);
	return out;
}

static int
submit_pg(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { "1.1", NULL };
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	int		 msgid, rc;

	if ((a->outcome != ACT_OK && a->outcome != ACT_NOCHANGE) ||
	    dn == NULL)
		return -1;
	rc = ldap_search_ext(c->ld, dn, LDAP_SCOPE_BASE, c->pg_filter, attrs,
	    0, NULL, NULL, NULL, 1, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "cannot tell whether the account is in a "
		    "protected group: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

static void
done_pg(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	*m;
	int		 err = LDAP_OTHER, found = 0;

	for (m = ldap_first_message(c->ld, res); m;
	    m = ldap_next_message(c->ld, m)) {
		if (ldap_msgtype(m) == LDAP_RES_SEARCH_ENTRY)
			found = 1;
		else if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
			(void)ldap_parse_result(c->ld, m, &err, NULL, NULL,
			    NULL, NULL, 0);
	}
	if (found) {
		act_fail(a, "'%s' is a protected account: a member of a "
		    "protected group", json_string_value(json_object_get(
		    a->before, "dn")));
		a->outcome = ACT_REFUSED;
	} else if (err != LDAP_SUCCESS && err != LDAP_NO_SUCH_OBJECT)
		/* Gone or moved: the write that follows finds out (stale). */
		act_fail(a, "cannot tell whether the account is in a "
		    "protected group: %s", ldap_err2string(err));
}

int
ldap_ad_protect_groups(struct lconn *c, struct act **v, size_t n)
{
	const struct customer	*cu = n > 0 ? v[0]->customer : NULL;
	char			 err[ACT_MSG_MAX] = "";
	char			*f;
	size_t			 i;
	int			 r;

	if (cu == NULL || cu->nprotected_groups == 0)
		return 0;
	if ((f = protect_filter(c, cu, err, sizeof(err))) == NULL) {
		for (i = 0; i < n; i++)
			if (v[i]->outcome == ACT_OK ||
			    v[i]->outcome == ACT_NOCHANGE)
				act_fail(v[i], "%s", err);
		return 0;
	}
	c->pg_filter = f;
	r = ldap_pipeline(c, v, n, submit_pg, done_pg);
	c->pg_filter = NULL;
	free(f);
	return r;
}
