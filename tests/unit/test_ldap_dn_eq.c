/*
 * test_ldap_dn_eq: DNs compare as names, not as strings.  The bind
 * account check (actions/ldap.c acct_protected) and the customer's
 * protected list use ldap_ad_dn_eq; a plain string compare let
 * "CN=cordon-svc, CN=Users,..." (a space after the comma) or another
 * case past the check that keeps cordon from locking itself out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../agent/util.h"
#include "../../actions/ldap_ad.h"

#define SVC	"CN=cordon-svc,CN=Users,DC=cordon,DC=test"

static void
test_dn_eq_spelling(void **state)
{
	(void)state;
	assert_true(ldap_ad_dn_eq(SVC, SVC));
	assert_true(ldap_ad_dn_eq(SVC,
	    "CN=cordon-svc, CN=Users, DC=cordon, DC=test"));
	assert_true(ldap_ad_dn_eq(SVC,
	    "cn=Cordon-Svc,cn=users,dc=CORDON,dc=test"));
	assert_true(ldap_ad_dn_eq(SVC,
	    "cn = cordon-svc , CN=Users,DC=cordon,DC=test"));
	/* Escaped the RFC 4514 way: the same characters. */
	assert_true(ldap_ad_dn_eq("CN=Doe\\, John,CN=Users,DC=x",
	    "CN=Doe\\2C John,CN=Users,DC=x"));
}

static void
test_dn_eq_different(void **state)
{
	(void)state;
	assert_false(ldap_ad_dn_eq(SVC,
	    "CN=cordon-svc2,CN=Users,DC=cordon,DC=test"));
	assert_false(ldap_ad_dn_eq(SVC, "CN=cordon-svc,DC=cordon,DC=test"));
	assert_false(ldap_ad_dn_eq(SVC, NULL));
	assert_false(ldap_ad_dn_eq(NULL, SVC));
	/* Not a DN at all: compared as text, never equal to a DN. */
	assert_false(ldap_ad_dn_eq(SVC, "cordon-svc"));
	assert_true(ldap_ad_dn_eq("breakglass", "BreakGlass"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dn_eq_spelling),
		cmocka_unit_test(test_dn_eq_different),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
