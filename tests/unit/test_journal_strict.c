/*
 * test_pending_journal_strict: journal_verify_stream() must not accept a
 * line whose text differs from what was hashed -- fails until fixed.
 *
 * agent/journal.c journal_verify_stream() re-canonicalises what jansson
 * parsed, so bytes the parse drops are never checked:
 *   - a duplicate key: json_loads() keeps the last one, so a forged
 *     "event":"deleted_by_admin" placed before the real "event" passes,
 *     while grep or a first-wins reader sees the forgery;
 *   - anything after a NUL byte: json_loads() stops at the NUL;
 *   - a "hash" longer than 64 digits: snprintf() into h[65] cuts it to
 *     the correct prefix before the comparison.
 * Each must be -EBADMSG naming line 2.  A fix: json_loadb(line, n,
 * JSON_REJECT_DUPLICATES) and an exact 64-hex check, or simply compare
 * the line with the canonical dump of the parsed object.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/hash.h"
#include "../../agent/journal.h"
#include "../../agent/store.h"
#include "../../agent/util.h"

#define NENTRIES	3
#define ERR_MAX		256

struct fixture {
	char	 dir[64];
	char	*db;
	char	*lines[NENTRIES];
	size_t	 len[NENTRIES];		/* without the newline */
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	struct store	*s = NULL;
	char		 err[ERR_MAX], *line = NULL;
	size_t		 cap = 0, i;
	ssize_t		 n;
	FILE		*fp;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-jstrict-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->db = xasprintf("%s/cordon.db", f->dir);
	if (store_open(f->db, &s, err, sizeof(err)) != 0)
		return -1;
	assert_int_equal(store_begin(s), 0);
	for (i = 0; i < NENTRIES; i++)
		assert_int_equal(journal_append(s, "alice(1001)", "INC-1",
		    (int64_t)i + 1, "succeeded", json_pack("{s:s}", "account",
		    "bob")), 0);
	assert_int_equal(store_commit(s), 0);
	assert_non_null(fp = tmpfile());
	assert_int_equal(journal_export(s, NULL, fp), 0);
	store_close(s);
	rewind(fp);
	for (i = 0; i < NENTRIES; i++) {
		assert_true((n = getline(&line, &cap, fp)) > 1);
		f->len[i] = (size_t)n - 1;
		f->lines[i] = xstrndup(line, f->len[i]);
	}
	free(line);
	(void)fclose(fp);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*p;
	size_t		 i;

	(void)unlink(f->db);
	p = xasprintf("%s-wal", f->db);
	(void)unlink(p);
	free(p);
	p = xasprintf("%s-shm", f->db);
	(void)unlink(p);
	free(p);
	(void)rmdir(f->dir);
	for (i = 0; i < NENTRIES; i++)
		free(f->lines[i]);
	free(f->db);
	free(f);
	return 0;
}

/*
 * Verifies the export with line 2 replaced by the n bytes of two, which
 * is freed here, before any assertion can leave.
 */
static void
expect_line2_bad(struct fixture *f, char *two, size_t n)
{
	char	err[ERR_MAX] = "", head[HASH_HEX_LEN + 1];
	int64_t	count = -1;
	FILE	*fp;
	int	ok, r;

	fp = tmpfile();
	ok = fp != NULL && fprintf(fp, "%s\n", f->lines[0]) > 0 &&
	    fwrite(two, 1, n, fp) == n &&
	    fprintf(fp, "\n%s\n", f->lines[2]) > 0;
	free(two);
	assert_non_null(fp);
	if (!ok) {
		(void)fclose(fp);
		fail_msg("cannot write the export");
	}
	rewind(fp);
	r = journal_verify_stream(fp, &count, head, err, sizeof(err));
	(void)fclose(fp);
	if (r != -EBADMSG)
		fail_msg("altered line 2 verified (count %lld)",
		    (long long)count);
	if (strncmp(err, "line 2", 6) != 0)
		fail_msg("err '%s' does not name line 2", err);
}

static void
test_pending_journal_strict_duplicate_key(void **state)
{
	struct fixture	*f = *state;
	char		*two;

	assert_int_equal(f->lines[1][0], '{');
	two = xasprintf("{\"event\":\"deleted_by_admin\",%s",
	    f->lines[1] + 1);
	expect_line2_bad(f, two, strlen(two));
}

static void
test_pending_journal_strict_after_nul(void **state)
{
	struct fixture	*f = *state;
	static const char tail[] = "{\"event\":\"hidden\"}";
	char		*two = xmalloc(f->len[1] + 1 + sizeof(tail));

	memcpy(two, f->lines[1], f->len[1]);
	two[f->len[1]] = '\0';
	memcpy(two + f->len[1] + 1, tail, sizeof(tail) - 1);
	expect_line2_bad(f, two, f->len[1] + sizeof(tail));
}

static void
test_pending_journal_strict_long_hash(void **state)
{
	struct fixture	*f = *state;
	char		*two, *p;

	/* "hash":"<64 hex>" becomes "hash":"<64 hex>ff". */
	assert_non_null(p = strstr(f->lines[1], "\"hash\":\""));
	p += strlen("\"hash\":\"") + HASH_HEX_LEN;
	assert_int_equal(*p, '"');
	two = xasprintf("%.*sff%s", (int)(p - f->lines[1]), f->lines[1], p);
	expect_line2_bad(f, two, strlen(two));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pending_journal_strict_duplicate_key),
		T(test_pending_journal_strict_after_nul),
		T(test_pending_journal_strict_long_hash),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
