/*
 * test_csv: the RFC 4180 writer (agent/csv.c), checked against exact text
 * and by reading its output back with a small independent RFC 4180 reader.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/csv.h"
#include "../../agent/util.h"

#define NF	8

/*
 * Reads one record from *p into fields (malloc'd, at most NF); returns
 * the count, or -1 on malformed input.  Advances *p past the CRLF.
 */
static int
read_record(const char **p, char *fields[NF])
{
	const char	*s = *p;
	struct buf	 f;
	int		 n = 0;

	for (;;) {
		buf_init(&f, 1 << 20);
		if (*s == '"') {
			for (s++;; s++) {
				if (*s == '\0')
					return -1;
				if (*s == '"' && s[1] == '"') {
					assert_int_equal(buf_addc(&f, '"'), 0);
					s++;
				} else if (*s == '"') {
					s++;
					break;
				} else
					assert_int_equal(buf_addc(&f, *s), 0);
			}
		} else
			while (*s && *s != ',' && *s != '\r' && *s != '\n') {
				if (*s == '"')
					return -1;
				assert_int_equal(buf_addc(&f, *s++), 0);
			}
		if (n == NF)
			return -1;
		fields[n++] = f.p ? buf_steal(&f) : strdup("");
		if (*s == ',') {
			s++;
			continue;
		}
		if (s[0] != '\r' || s[1] != '\n')
			return -1;
		*p = s + 2;
		return n;
	}
}

static void
test_csv_exact(void **state)
{
	const char	*row[] = { "plain", "a,b", "say \"hi\"", "l1\nl2",
	    NULL, " pad", "Zoë" };
	struct buf	 b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(csv_record(&b, row, 7), 0);
	assert_string_equal(b.p, "plain,\"a,b\",\"say \"\"hi\"\"\","
	    "\"l1\nl2\",,\" pad\",Zoë\r\n");
	buf_free(&b);
}

static void
test_csv_round_trip(void **state)
{
	const char	*rows[2][5] = {
		{ "id", "title", "note", "cr", "utf8" },
		{ "INC-2026-0001", "\"quoted\", with comma", "two\r\nlines",
		    "x\ry", "Ærøskøbing — 東京 😀" },
	};
	char		*got[NF];
	const char	*p;
	struct buf	 b;
	int		 i, j, n;

	(void)state;
	buf_init(&b, 4096);
	for (i = 0; i < 2; i++)
		assert_int_equal(csv_record(&b, rows[i], 5), 0);
	p = b.p;
	for (i = 0; i < 2; i++) {
		n = read_record(&p, got);
		assert_int_equal(n, 5);
		for (j = 0; j < n; j++) {
			assert_string_equal(got[j], rows[i][j]);
			free(got[j]);
		}
	}
	assert_int_equal(*p, '\0');
	buf_free(&b);
}

static void
test_csv_bounded(void **state)
{
	const char	*row[] = { "0123456789", "\"\"\"\"" };
	struct buf	 b;

	(void)state;
	buf_init(&b, 12);
	assert_int_equal(csv_record(&b, row, 2), -E2BIG);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_exact),
		cmocka_unit_test(test_csv_round_trip),
		cmocka_unit_test(test_csv_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
