/*
 * test_cef: CEF escaping (agent/cef.c), header and extension rules apart,
 * with the characters that break naive writers: | = \ and line breaks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/cef.h"
#include "../../agent/util.h"

static void
check(int (*fn)(struct buf *, const char *), const char *in,
    const char *want)
{
	struct buf	b;

	buf_init(&b, 4096);
	assert_int_equal(fn(&b, in), 0);
	assert_string_equal(b.p ? b.p : "", want);
	buf_free(&b);
}

static void
test_cef_header(void **state)
{
	(void)state;
	check(cef_header, "a|b", "a\\|b");
	check(cef_header, "back\\slash", "back\\\\slash");
	check(cef_header, "k=v", "k=v");		/* '=' is fine here */
	check(cef_header, "l1\nl2\rx", "l1 l2 x");	/* no breaks in a header */
	check(cef_header, "|\\|", "\\|\\\\\\|");
}

static void
test_cef_extension(void **state)
{
	(void)state;
	check(cef_ext, "a=b", "a\\=b");
	check(cef_ext, "back\\slash", "back\\\\slash");
	check(cef_ext, "pipe|kept", "pipe|kept");	/* '|' is fine here */
	check(cef_ext, "l1\nl2", "l1\\nl2");
	check(cef_ext, "cr\r", "cr\\r");
	check(cef_ext, "\\=\n", "\\\\\\=\\n");
	check(cef_ext, "Zoë", "Zoë");
}

static void
test_cef_bounded(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(cef_ext(&b, "===="), -E2BIG);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cef_header),
		cmocka_unit_test(test_cef_extension),
		cmocka_unit_test(test_cef_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
