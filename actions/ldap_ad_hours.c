/*
 * ldap_ad_hours: deny_logon_hours, the AD flavour's "no logon at any
 * hour": logonHours set to 21 zero bytes (one bit per hour of the week,
 * all clear).  The undo restores the value saved before, byte for byte,
 * or removes the attribute when it was absent.
 *
 * The state carries logon_hours as lower-case hex, or JSON null when the
 * attribute is absent.  Every write is a compare-and-swap in one modify:
 * delete the exact value check saw (or, when it saw none, add into an
 * absent attribute) and add the new one.  A concurrent writer makes the
 * server refuse the whole modify (noSuchAttribute, or
 * attributeOrValueExists for an add into a value someone else set), and
 * the act is ACT_STALE: nothing written, re-checked, never overwritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "../agent/driver.h"
#include "../agent/util.h"
#include "ldap_ad.h"

#define HOURS_ATTR	"logonHours"
#define HOURS_LEN	21
#define HOURS_HEX_MAX	512		/* 256 bytes: more than AD allows */

static const char	deny_hex[2 * HOURS_LEN + 1] =
    "000000000000000000000000000000000000000000";

/* The state's value: a hex string, or NULL for "absent". */
static const char *
hours_of(const json_t *st)
{
	return json_string_value(json_object_get(st, "logon_hours"));
}

/* The value this act writes: zero bytes, or the saved one on undo. */
static const char *
hours_wanted(const struct act *a)
{
	return a->restore ? hours_of(a->restore) : deny_hex;
}

static int
same(const char *x, const char *y)
{
	return x == NULL ? y == NULL : y != NULL && strcmp(x, y) == 0;
}

static void
done_hours_check(struct lconn *c, struct act *a, LDAPMessage *res)
{
	const char	*cur, *want;
	json_t		*st;

	static const char *const keep[] = { "logon_hours", NULL };

	if ((st = ldap_acct_take(c, a, res)) == NULL)
		return;
	ldap_acct_keep(st, keep);
	if (json_object_get(st, "logon_hours") == NULL)
		(void)json_object_set_new(st, "logon_hours", json_null());
	json_decref(a->before);
	a->before = st;
	free(a->change);
	a->change = NULL;
	cur = hours_of(st);
	if (a->restore && !json_is_string(json_object_get(a->restore,
	    "logon_hours")) && !json_is_null(json_object_get(a->restore,
	    "logon_hours"))) {
		act_fail(a, "the original action saved no %s", HOURS_ATTR);
		return;
	}
	want = hours_wanted(a);
	if (same(cur, want)) {
		a->outcome = ACT_NOCHANGE;
		return;
	}
	/* Undo: only over the value cordon wrote. */
	if (a->restore && !same(cur, deny_hex)) {
		act_fail(a, "%s is %s, not the zeros cordon wrote: someone "
		    "changed it since; not restoring over it", HOURS_ATTR,
		    cur ? cur : "absent");
		return;
	}
	a->change = xasprintf("%s %s: %s -> %s", want ? "replace" : "delete",
	    HOURS_ATTR, cur ? cur : "(absent)", want == NULL ? "(absent)" :
	    a->restore ? want : "21 zero bytes (no logon at any hour)");
	a->outcome = ACT_OK;
}

int
ldap_ad_hours_check(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	size_t		 i;
	int		 r;

	if (!c->ad) {
		for (i = 0; i < n; i++)
			act_fail(v[i], "deny_logon_hours needs flavour \"ad\"");
		return 0;
	}
	if ((r = ldap_pipeline(c, v, n, ldap_acct_submit,
	    done_hours_check)) != 0)
		return r;
	return ldap_ad_protect_groups(c, v, n);
}

static int
submit_hours_write(struct lconn *c, struct act *a)
{
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	const char	*cur = hours_of(a->before), *want = hours_wanted(a);
	unsigned char	 ob[HOURS_HEX_MAX / 2], nb[HOURS_HEX_MAX / 2];
	struct berval	 ov, nv, *ovs[2] = { &ov, NULL }, *nvs[2] = { &nv,
	    NULL };
	LDAPMod		 del, add, *mods[3] = { NULL, NULL, NULL };
	int		 k = 0, on, nn, msgid, rc;

	if (a->outcome != ACT_OK)
		return -1;
	if (dn == NULL || json_object_get(a->before, "logon_hours") == NULL) {
		act_fail(a, "no entry state to write from");
		return -1;
	}
	memset(&del, 0, sizeof(del));
	memset(&add, 0, sizeof(add));
	if (cur != NULL) {
		if ((on = hex_decode(cur, strlen(cur), ob, sizeof(ob))) < 0) {
			act_fail(a, "saved %s is not hex", HOURS_ATTR);
			return -1;
		}
		ov.bv_val = (char *)ob;
		ov.bv_len = (ber_len_t)on;
		del.mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES;
		del.mod_type = HOURS_ATTR;
		del.mod_bvalues = ovs;
		mods[k++] = &del;
	}
	if (want != NULL) {
		if ((nn = hex_decode(want, strlen(want), nb, sizeof(nb))) < 0) {
			act_fail(a, "wanted %s is not hex", HOURS_ATTR);
			return -1;
		}
		nv.bv_val = (char *)nb;
		nv.bv_len = (ber_len_t)nn;
		add.mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
		add.mod_type = HOURS_ATTR;
		add.mod_bvalues = nvs;
		mods[k++] = &add;
	}
	if (k == 0) {
		a->outcome = ACT_NOCHANGE;
		return -1;
	}
	rc = ldap_modify_ext(c->ld, dn, mods, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "modify failed: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

static void
done_hours_write(struct lconn *c, struct act *a, LDAPMessage *res)
{
	char	*text = NULL;
	int	 err = LDAP_OTHER;

	(void)ldap_parse_result(c->ld, res, &err, NULL, &text, NULL, NULL, 0);
	if (err == LDAP_SUCCESS)
		a->outcome = ACT_OK;
	else if (err == LDAP_NO_SUCH_ATTRIBUTE ||
	    err == LDAP_TYPE_OR_VALUE_EXISTS ||
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
ldap_ad_hours_apply(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	size_t		 i;
	int		 r;

	for (i = 0; i < n; i++)
		v[i]->outcome = ACT_OK;
	ldap_acct_protect(c, v, n);
	if ((r = ldap_ad_protect_groups(c, v, n)) != 0)
		return r;
	return ldap_pipeline(c, v, n, submit_hours_write, done_hours_write);
}

static int
submit_hours_read(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { HOURS_ATTR, NULL };

	return ldap_submit_base(c, a, attrs);
}

static void
done_hours_read(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage		 *e = ldap_first_entry(c->ld, res);
	struct berval		**vals;
	const char		 *want = hours_wanted(a);
	char			  got[HOURS_HEX_MAX + 1];
	int			  have = 0;

	if (e == NULL) {
		act_fail(a, "entry vanished before read back");
		return;
	}
	vals = ldap_get_values_len(c->ld, e, HOURS_ATTR);
	if (vals && vals[0] && vals[0]->bv_len <= HOURS_HEX_MAX / 2) {
		hex_encode(vals[0]->bv_val, vals[0]->bv_len, got);
		have = 1;
	}
	ldap_value_free_len(vals);
	json_decref(a->observed);
	a->observed = json_pack("{s:s,s:s?}", "dn", json_string_value(
	    json_object_get(a->before, "dn")), "logon_hours", have ? got :
	    NULL);
	if (!same(have ? got : NULL, want))
		act_fail(a, "read back shows %s %s, not %s", HOURS_ATTR,
		    have ? got : "absent", want ? want : "absent");
	else
		a->outcome = ACT_OK;
}

int
ldap_ad_hours_verify(void *conn, struct act **v, size_t n)
{
	return ldap_pipeline(conn, v, n, submit_hours_read, done_hours_read);
}
