/*
 * test_esc_html: the HTML escaper (agent/esc.c), the one every value of
 * an HTML report goes through.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/esc.h"
#include "../../agent/util.h"

static void
check(const char *in, const char *want)
{
	struct buf	b;

	buf_init(&b, 4096);
	assert_int_equal(esc_html(&b, in), 0);
	assert_string_equal(b.p ? b.p : "", want);
	buf_free(&b);
}

static void
test_esc_html_specials(void **state)
{
	(void)state;
	check("<script>alert('x')</script>",
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	check("a & b \"q\"", "a &amp; b &quot;q&quot;");
	check("&amp;", "&amp;amp;");
	check("", "");
}

static void
test_esc_html_keeps_utf8_and_text(void **state)
{
	(void)state;
	check("Müller, Zoë — 東京\nline 2", "Müller, Zoë — 東京\nline 2");
}

static void
test_esc_html_bounded(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(esc_html(&b, "<<<<"), -E2BIG);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esc_html_specials),
		cmocka_unit_test(test_esc_html_keeps_utf8_and_text),
		cmocka_unit_test(test_esc_html_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
