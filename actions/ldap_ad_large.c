/*
 * ldap_ad_large: reading large directories without hitting the server's
 * limits.
 *
 * Paged results (RFC 2696, control 1.2.840.113556.1.4.319): a search that
 * may return many entries asks for them a page at a time (at most 1000,
 * AD's MaxPageSize; the target's page_size may lower it) and follows the
 * server's cookie until it is empty.
 *
 * Range retrieval: AD returns at most MaxValRange (1500 on Samba) values
 * of a multi-valued attribute such as member per read, as the option
 * "member;range=0-1499"; the next read asks for "member;range=1500-*",
 * until the server answers with an upper bound of "*".  A target's
 * range_size asks for ranges of that many values explicitly
 * ("member;range=0-499"), the server still having the last word.
 *
 * Both loops are bounded (LARGE_ROUNDS_MAX requests) and every request
 * has the operation timeout.
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

#define PAGE_MAX		1000
#define LARGE_ROUNDS_MAX	10000
#define RANGE_ATTR_MAX		64
#define RANGE_MAX		100000

/*
 * Values asked for per range read: range_size, or 0 for "as many as the
 * server gives" (AD caps that at MaxValRange).  Asking for fewer makes
 * a directory that does not cap (Samba) read in several ranges too.
 */
static long
range_size(const struct lconn *c)
{
	json_int_t	n = c->t ? json_integer_value(json_object_get(
	    c->t->opts, "range_size")) : 0;

	return n >= 1 && n <= RANGE_MAX ? (long)n : 0;
}

static int
page_size(const struct lconn *c)
{
	json_int_t	n = json_integer_value(json_object_get(c->t->opts,
	    "page_size"));

	return n >= 1 && n <= PAGE_MAX ? (int)n : PAGE_MAX;
}

int
ldap_paged_search(struct lconn *c, const char *base, int scope,
    const char *filter, char **attrs, ldap_entry_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct timeval	 tv = { LDAP_TIMEOUT_S, 0 };
	struct berval	 cookie = { 0, NULL };
	LDAPControl	*pc = NULL, *sctrls[2] = { NULL, NULL }, **rctrls = NULL;
	LDAPControl	*resp;
	LDAPMessage	*res = NULL, *e;
	ber_int_t	 total;
	/* r stays an error until the last page: fn's 0 is not success. */
	int		 rounds, rc, lerr, fr, r = -EIO;

	for (rounds = 0; rounds < LARGE_ROUNDS_MAX; rounds++) {
		if ((rc = ldap_create_page_control(c->ld, page_size(c),
		    &cookie, 1, &pc)) != LDAP_SUCCESS) {
			(void)snprintf(err, errlen, "paged search: %s",
			    ldap_err2string(rc));
			goto out;
		}
		sctrls[0] = pc;
		rc = ldap_search_ext_s(c->ld, base, scope, filter, attrs, 0,
		    sctrls, NULL, &tv, 0, &res);
		ldap_control_free(pc);
		pc = NULL;
		if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
			(void)snprintf(err, errlen, "paged search under '%s': "
			    "%s", base, ldap_err2string(rc));
			goto out;
		}
		for (e = ldap_first_entry(c->ld, res); e;
		    e = ldap_next_entry(c->ld, e))
			if ((fr = fn(c, e, arg)) != 0) {
				r = fr;
				goto out;
			}
		lerr = LDAP_OTHER;
		if (ldap_parse_result(c->ld, res, &lerr, NULL, NULL, NULL,
		    &rctrls, 0) != LDAP_SUCCESS) {
			(void)snprintf(err, errlen, "paged search: unreadable "
			    "result");
			goto out;
		}
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		resp = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls,
		    NULL);
		if (resp != NULL && ldap_parse_pageresponse_control(c->ld,
		    resp, &total, &cookie) != LDAP_SUCCESS) {
			(void)snprintf(err, errlen, "paged search: bad page "
			    "control");
			goto out;
		}
		ldap_controls_free(rctrls);
		rctrls = NULL;
		(void)ldap_msgfree(res);
		res = NULL;
		if (cookie.bv_len == 0) {
			r = 0;
			goto out;
		}
	}
	(void)snprintf(err, errlen, "paged search: more than %d pages",
	    LARGE_ROUNDS_MAX);
	r = -E2BIG;
out:
	ldap_control_free(pc);
	ldap_controls_free(rctrls);
	(void)ldap_msgfree(res);
	ber_memfree(cookie.bv_val);
	return r;
}

/*
 * The upper bound of "member;range=LOW-HIGH" in type: HIGH, or -1 for
 * "*"; -2 when type is not a range of attr.
 */
static long
range_high(const char *type, const char *attr)
{
	size_t		 n = strlen(attr);
	const char	*p;
	char		*end;
	long		 hi;

	if (strncasecmp(type, attr, n) != 0 ||
	    strncasecmp(type + n, ";range=", 7) != 0)
		return -2;
	if ((p = strchr(type + n + 7, '-')) == NULL)
		return -2;
	if (strcmp(p + 1, "*") == 0)
		return -1;
	hi = strtol(p + 1, &end, 10);
	return *end == '\0' && hi >= 0 ? hi : -2;
}

int
ldap_ad_values(struct lconn *c, const char *dn, const char *attr,
    ldap_value_fn fn, void *arg, char *err, size_t errlen)
{
	struct timeval	  tv = { LDAP_TIMEOUT_S, 0 };
	char		  want[RANGE_ATTR_MAX], *attrs[2] = { want, NULL };
	LDAPMessage	 *res = NULL, *e;
	BerElement	 *ber = NULL;
	struct berval	**vals = NULL;
	char		 *type;
	long		  low = 0, hi;
	size_t		  i;
	/* r stays an error until the last range: fn's 0 is not success. */
	int		  rounds, rc, got, fr, r = -EIO;

	for (rounds = 0; rounds < LARGE_ROUNDS_MAX; rounds++) {
		if (range_size(c) > 0)
			(void)snprintf(want, sizeof(want), "%s;range=%ld-%ld",
			    attr, low, low + range_size(c) - 1);
		else
			(void)snprintf(want, sizeof(want), "%s;range=%ld-*",
			    attr, low);
		rc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE,
		    "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &res);
		if (rc != LDAP_SUCCESS) {
			(void)snprintf(err, errlen, "reading %s of '%s': %s",
			    attr, dn, ldap_err2string(rc));
			goto out;
		}
		if ((e = ldap_first_entry(c->ld, res)) == NULL) {
			(void)snprintf(err, errlen, "reading %s of '%s': no "
			    "such entry", attr, dn);
			r = -ENOENT;
			goto out;
		}
		/* The answer names its range; none at all: no values. */
		hi = -1;
		got = 0;
		for (type = ldap_first_attribute(c->ld, e, &ber); type;
		    type = ldap_next_attribute(c->ld, e, ber)) {
			long h = range_high(type, attr);

			if (h != -2 || strcasecmp(type, attr) == 0) {
				vals = ldap_get_values_len(c->ld, e, type);
				for (i = 0; vals && vals[i]; i++)
					if ((fr = fn(c, vals[i], arg)) != 0) {
						ldap_memfree(type);
						r = fr;
						goto out;
					}
				ldap_value_free_len(vals);
				vals = NULL;
				hi = h == -2 ? -1 : h;
				got = 1;
			}
			ldap_memfree(type);
		}
		ber_free(ber, 0);
		ber = NULL;
		(void)ldap_msgfree(res);
		res = NULL;
		if (!got || hi < 0) {
			r = 0;
			goto out;
		}
		if (hi < low) {
			(void)snprintf(err, errlen, "reading %s of '%s': range "
			    "went backwards", attr, dn);
			goto out;
		}
		low = hi + 1;
	}
	(void)snprintf(err, errlen, "reading %s of '%s': more than %d "
	    "ranges", attr, dn, LARGE_ROUNDS_MAX);
	r = -E2BIG;
out:
	ldap_value_free_len(vals);
	if (ber)
		ber_free(ber, 0);
	(void)ldap_msgfree(res);
	return r;
}
