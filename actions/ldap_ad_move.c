/*
 * ldap_ad_move: quarantine_ou, the AD flavour's move of an account into a
 * quarantine OU (ldap_rename), and its undo, the move back.
 *
 * The new RDN is the entry's own first RDN, taken from the DN the server
 * returned and written out again by libldap's RFC 4514 encoder, so a
 * name such as "Doe\, John" or "a+b" keeps its escaping and never turns
 * into a different RDN or parent.  The rename names the DN check saw: if
 * someone moved or renamed the entry in between, the server answers
 * noSuchObject and the act is ACT_STALE, nothing moved.  A name already
 * taken in the destination is entryAlreadyExists: failed, nothing moved.
 *
 * The undo finds the entry by objectGUID (it no longer lives where the
 * original action saw it), and moves it back only while it is still
 * where cordon put it.  Verify finds the entry by objectGUID too and
 * compares its DN with the one wanted.
 *
 * The destination is the step's "ou" argument, else the target's
 * quarantine_ou setting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "../agent/driver.h"
#include "../agent/util.h"
#include "ldap_ad.h"

/* dn split into its RFC 4514 first RDN and its parent; 0 or -EINVAL. */
int
ldap_ad_dn_split(const char *dn, char **ret_rdn, char **ret_parent)
{
	LDAPDN	 ldn = NULL;
	char	*rdn = NULL, *parent = NULL;
	int	 r = -EINVAL;

	*ret_rdn = *ret_parent = NULL;
	if (ldap_str2dn(dn, &ldn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    ldn == NULL || ldn[0] == NULL || ldn[1] == NULL)
		goto out;
	if (ldap_rdn2str(ldn[0], &rdn, LDAP_DN_FORMAT_LDAPV3 |
	    LDAP_DN_PRETTY) != LDAP_SUCCESS ||
	    ldap_dn2str(&ldn[1], &parent, LDAP_DN_FORMAT_LDAPV3 |
	    LDAP_DN_PRETTY) != LDAP_SUCCESS)
		goto out;
	*ret_rdn = xstrdup(rdn);
	*ret_parent = xstrdup(parent);
	r = 0;
out:
	ldap_memfree(rdn);
	ldap_memfree(parent);
	ldap_dnfree(ldn);
	return r;
}

/* 1 when x and y name the same entry (AD compares DNs without case). */
int
ldap_ad_dn_eq(const char *x, const char *y)
{
	char	*nx = NULL, *ny = NULL;
	int	 eq;

	if (x == NULL || y == NULL)
		return 0;
	if (ldap_dn_normalize(x, LDAP_DN_FORMAT_LDAPV3, &nx,
	    LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    ldap_dn_normalize(y, LDAP_DN_FORMAT_LDAPV3, &ny,
	    LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		eq = strcasecmp(x, y) == 0;
	else
		eq = strcasecmp(nx, ny) == 0;
	ldap_memfree(nx);
	ldap_memfree(ny);
	return eq;
}

static const char *
quarantine_of(const struct lconn *c, const struct act *a)
{
	const char	*ou = act_param(a, "ou");

	return ou && *ou ? ou : ldap_opt_str(c->t, "quarantine_ou");
}

static void
done_move_check(struct lconn *c, struct act *a, LDAPMessage *res)
{
	const char	*dn, *ou, *was, *put;
	char		*rdn = NULL, *parent = NULL, *to = NULL;
	char		*orig_rdn = NULL, *orig_parent = NULL;
	json_t		*st;

	if ((st = ldap_acct_take(c, a, res)) == NULL)
		return;
	ldap_acct_keep(st, NULL);
	dn = json_string_value(json_object_get(st, "dn"));
	if (ldap_ad_dn_split(dn, &rdn, &parent) != 0) {
		act_fail(a, "cannot parse the entry's DN '%s'", dn);
		goto out;
	}
	free(a->change);
	a->change = NULL;
	if (a->restore == NULL) {
		ou = quarantine_of(c, a);
		if (ldap_ad_dn_eq(parent, ou)) {
			a->outcome = ACT_NOCHANGE;
			goto set;
		}
		to = xasprintf("%s,%s", rdn, ou);
		(void)json_object_set_new(st, "to_parent", json_string(ou));
	} else {
		/* Back to the parent it had, only from where cordon put it. */
		was = json_string_value(json_object_get(a->restore, "dn"));
		put = json_string_value(json_object_get(a->restore, "to"));
		if (was == NULL || ldap_ad_dn_split(was, &orig_rdn,
		    &orig_parent) != 0) {
			act_fail(a, "the original action saved no DN to "
			    "move back to");
			goto out;
		}
		if (ldap_ad_dn_eq(parent, orig_parent)) {
			a->outcome = ACT_NOCHANGE;
			goto set;
		}
		if (put == NULL || !ldap_ad_dn_eq(dn, put)) {
			act_fail(a, "'%s' is no longer where cordon moved it "
			    "('%s'): someone moved it since; not moving it",
			    dn, put ? put : "?");
			goto out;
		}
		to = xasprintf("%s,%s", rdn, orig_parent);
		(void)json_object_set_new(st, "to_parent",
		    json_string(orig_parent));
	}
	(void)json_object_set_new(st, "rdn", json_string(rdn));
	(void)json_object_set_new(st, "to", json_string(to));
	a->change = xasprintf("move '%s' to '%s'", dn, to);
	a->outcome = ACT_OK;
set:
	json_decref(a->before);
	a->before = json_incref(st);
out:
	json_decref(st);
	free(rdn);
	free(parent);
	free(to);
	free(orig_rdn);
	free(orig_parent);
}

int
ldap_ad_move_check(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	const char	*ou;
	char		*x = NULL, *y = NULL;
	size_t		 i;
	int		 r;

	for (i = 0; i < n; i++) {
		if (!c->ad) {
			act_fail(v[i], "quarantine_ou needs flavour \"ad\" "
			    "(the undo finds the entry by objectGUID)");
			continue;
		}
		ou = quarantine_of(c, v[i]);
		if (v[i]->restore == NULL && (ou == NULL ||
		    ldap_ad_dn_split(ou, &x, &y) != 0))
			act_fail(v[i], ou ? "quarantine OU '%s' is not a DN" :
			    "no quarantine OU: set the target's quarantine_ou "
			    "or the step's ou", ou);
		free(x);
		free(y);
		x = y = NULL;
	}
	if (!c->ad)
		return 0;
	if ((r = ldap_pipeline(c, v, n, ldap_acct_submit,
	    done_move_check)) != 0)
		return r;
	return ldap_ad_protect_groups(c, v, n);
}

static int
submit_rename(struct lconn *c, struct act *a)
{
	const char	*dn = json_string_value(json_object_get(a->before,
	    "dn"));
	const char	*rdn = json_string_value(json_object_get(a->before,
	    "rdn"));
	const char	*np = json_string_value(json_object_get(a->before,
	    "to_parent"));
	int		 msgid, rc;

	if (a->outcome != ACT_OK)
		return -1;
	if (dn == NULL || rdn == NULL || np == NULL) {
		act_fail(a, "no planned move to make");
		return -1;
	}
	rc = ldap_rename(c->ld, dn, rdn, np, 1, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		act_fail(a, "rename failed: %s", ldap_err2string(rc));
		return -1;
	}
	return msgid;
}

static void
done_rename(struct lconn *c, struct act *a, LDAPMessage *res)
{
	char	*text = NULL;
	int	 err = LDAP_OTHER;

	(void)ldap_parse_result(c->ld, res, &err, NULL, &text, NULL, NULL, 0);
	if (err == LDAP_SUCCESS)
		a->outcome = ACT_OK;
	else if (err == LDAP_NO_SUCH_OBJECT) {
		a->outcome = ACT_STALE;
		(void)snprintf(a->msg, sizeof(a->msg), "entry moved since it "
		    "was checked; nothing moved");
	} else if (err == LDAP_ALREADY_EXISTS)
		act_fail(a, "'%s' already exists; nothing moved",
		    json_string_value(json_object_get(a->before, "to")));
	else
		act_fail(a, "rename refused: %s%s%s", ldap_err2string(err),
		    text && *text ? ": " : "", text ? text : "");
	ldap_memfree(text);
}

int
ldap_ad_move_apply(void *conn, struct act **v, size_t n)
{
	struct lconn	*c = conn;
	size_t		 i;
	int		 r;

	for (i = 0; i < n; i++)
		v[i]->outcome = ACT_OK;
	ldap_acct_protect(c, v, n);
	if ((r = ldap_ad_protect_groups(c, v, n)) != 0)
		return r;
	return ldap_pipeline(c, v, n, submit_rename, done_rename);
}

static int
submit_guid_read(struct lconn *c, struct act *a)
{
	static char	*attrs[] = { "1.1", NULL };

	return ldap_ad_guid_submit(c, a, attrs);
}

static void
done_move_read(struct lconn *c, struct act *a, LDAPMessage *res)
{
	LDAPMessage	*e = ldap_first_entry(c->ld, res);
	const char	*want = json_string_value(json_object_get(a->before,
	    "to"));
	char		*dn;

	if (e == NULL || ldap_count_entries(c->ld, res) != 1) {
		act_fail(a, "read back: no single entry with the account's "
		    "objectGUID");
		return;
	}
	dn = ldap_get_dn(c->ld, e);
	json_decref(a->observed);
	a->observed = json_pack("{s:s}", "dn", dn ? dn : "");
	if (!ldap_ad_dn_eq(dn, want))
		act_fail(a, "read back shows '%s', not '%s'", dn ? dn : "?",
		    want ? want : "?");
	else
		a->outcome = ACT_OK;
	ldap_memfree(dn);
}

int
ldap_ad_move_verify(void *conn, struct act **v, size_t n)
{
	return ldap_pipeline(conn, v, n, submit_guid_read, done_move_read);
}
