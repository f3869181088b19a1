/*
 * test_journal: the hash-chained journal (agent/journal.c) in a real
 * store (agent/store.c).
 *
 * Each test gets a fresh store in its own mkdtemp directory with five
 * entries, exports it, and then edits the exported text the way someone
 * covering their tracks would.  Verification must refuse every edit and
 * name the first line that no longer chains, because that line is where
 * an auditor starts looking.
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

#define NENTRIES	5
#define MAX_LINES	16
#define ERR_MAX		256

struct fixture {
	char		 dir[64];
	char		*db;
	struct store	*s;
	char		*lines[MAX_LINES];	/* the export, one entry each */
	size_t		 nlines;
};

static const char *accounts[NENTRIES] = {
	"alice", "bob", "carol", "dave", "erin",
};

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Entry n (1-based) locks accounts[n - 1] on behalf of incident INC-1. */
static void
append_entries(struct store *s, size_t from, size_t to)
{
	size_t	i;

	assert_int_equal(store_begin(s), 0);
	for (i = from; i < to; i++)
		assert_int_equal(journal_append(s, "alice(1001)",
		    i == 0 ? NULL : "INC-2026-0001", i == 0 ? 0 :
		    (int64_t)(100 + i), i == 0 ? "incident_opened" : "queued",
		    json_pack("{s:s,s:i}", "account", accounts[i], "n",
		    (int)i)), 0);
	assert_int_equal(store_commit(s), 0);
}

static void
read_lines(struct fixture *f, FILE *fp)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	rewind(fp);
	while ((n = getline(&line, &cap, fp)) > 0) {
		assert_true(f->nlines < MAX_LINES);
		f->lines[f->nlines++] = xstrdup(line);
	}
	free(line);
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	char		 err[ERR_MAX];
	FILE		*fp;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-journal-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->db = xasprintf("%s/cordon.db", f->dir);
	if (store_open(f->db, &f->s, err, sizeof(err)) != 0) {
		print_error("store_open: %s\n", err);
		return -1;
	}
	append_entries(f->s, 0, NENTRIES);
	if ((fp = tmpfile()) == NULL)
		return -1;
	assert_int_equal(journal_export(f->s, NULL, fp), 0);
	read_lines(f, fp);
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

	store_close(f->s);
	(void)unlink(f->db);
	p = xasprintf("%s-wal", f->db);
	(void)unlink(p);
	free(p);
	p = xasprintf("%s-shm", f->db);
	(void)unlink(p);
	free(p);
	(void)rmdir(f->dir);
	for (i = 0; i < f->nlines; i++)
		free(f->lines[i]);
	free(f->db);
	free(f);
	return 0;
}

/* Verifies the given lines, in order, as one export file. */
static int
verify_lines(char *const *lines, size_t n, int64_t *count,
    char head[HASH_HEX_LEN + 1], char *err, size_t errlen)
{
	FILE	*fp;
	size_t	 i;
	int	 r;

	assert_non_null(fp = tmpfile());
	for (i = 0; i < n; i++)
		assert_true(fputs(lines[i], fp) >= 0);
	rewind(fp);
	err[0] = '\0';
	r = journal_verify_stream(fp, count, head, err, errlen);
	(void)fclose(fp);
	return r;
}

/* The export must be refused, naming want_prefix at the start of err. */
static void
expect_bad(char *const *lines, size_t n, const char *want_prefix)
{
	char	err[ERR_MAX], head[HASH_HEX_LEN + 1];
	int64_t	count = -1;

	assert_int_equal(verify_lines(lines, n, &count, head, err,
	    sizeof(err)), -EBADMSG);
	if (strncmp(err, want_prefix, strlen(want_prefix)) != 0)
		fail_msg("err '%s' does not start with '%s'", err,
		    want_prefix);
	/* Outputs are untouched on failure. */
	assert_int_equal(count, -1);
}

/* Replaces the first occurrence of from in line with to (same length). */
static void
patch(char *line, const char *from, const char *to)
{
	char	*p = strstr(line, from);

	assert_non_null(p);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

/* Flips one hex digit of the 64-digit value that follows key. */
static void
flip_hash(char *line, const char *key)
{
	char	*p = strstr(line, key);

	assert_non_null(p);
	p += strlen(key) + 10;
	*p = *p == '0' ? '1' : '0';
}

static void
test_journal_export_verifies(void **state)
{
	struct fixture	*f = *state;
	char		 err[ERR_MAX], head[HASH_HEX_LEN + 1];
	int64_t		 count = 0;
	json_t		*o;

	assert_int_equal(f->nlines, NENTRIES);
	assert_int_equal(verify_lines(f->lines, f->nlines, &count, head, err,
	    sizeof(err)), 0);
	assert_int_equal(count, NENTRIES);
	assert_string_equal(head, f->s->jhead);
	assert_int_equal(f->s->jseq, NENTRIES);

	/* Line 3 really is entry 3, with its payload. */
	assert_non_null(o = json_loads(f->lines[2], 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 3);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "payload"), "account")), "carol");
	assert_int_equal(json_integer_value(json_object_get(o, "action")),
	    102);
	json_decref(o);
}

static void
test_journal_first_hash_is_sha256_of_genesis_and_canonical(void **state)
{
	struct fixture	*f = *state;
	sqlite3_stmt	*st;
	json_t		*payload;
	char		*canon, h[HASH_HEX_LEN + 1];

	assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT ts, actor, "
	    "event, payload, prev_hash, hash FROM journal WHERE seq = 1", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_non_null(payload = json_loads((const char *)
	    sqlite3_column_text(st, 3), 0, NULL));
	canon = journal_canonical(1, (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1), NULL, 0,
	    (const char *)sqlite3_column_text(st, 2), payload);
	/* Compact, sorted keys: what any JSON tool would reproduce. */
	assert_non_null(strstr(canon, "{\"action\":null,\"actor\":"
	    "\"alice(1001)\",\"event\":\"incident_opened\",\"incident\":null,"
	    "\"payload\":{\"account\":\"alice\",\"n\":0},\"seq\":1,\"ts\":\""));
	assert_string_equal((const char *)sqlite3_column_text(st, 4),
	    zero_hash);
	sha256_hex2(zero_hash, canon, h);
	assert_string_equal(h, (const char *)sqlite3_column_text(st, 5));
	free(canon);
	json_decref(payload);
	(void)sqlite3_finalize(st);
}

static void
test_journal_empty_export(void **state)
{
	char	err[ERR_MAX], head[HASH_HEX_LEN + 1];
	int64_t	count = -1;

	(void)state;
	assert_int_equal(verify_lines(NULL, 0, &count, head, err,
	    sizeof(err)), 0);
	assert_int_equal(count, 0);
	assert_string_equal(head, zero_hash);
}

static void
test_journal_tamper_payload(void **state)
{
	struct fixture	*f = *state;

	patch(f->lines[2], "\"carol\"", "\"carom\"");
	expect_bad(f->lines, f->nlines,
	    "line 3 (seq 3): hash mismatch");
}

static void
test_journal_tamper_delete(void **state)
{
	struct fixture	*f = *state;
	char		*v[NENTRIES - 1] = {
		f->lines[0], f->lines[2], f->lines[3], f->lines[4],
	};

	expect_bad(v, ARRAY_SIZE(v), "line 2 (seq 3): out of sequence");
}

static void
test_journal_tamper_swap(void **state)
{
	struct fixture	*f = *state;
	char		*v[NENTRIES] = {
		f->lines[0], f->lines[2], f->lines[1], f->lines[3],
		f->lines[4],
	};

	expect_bad(v, ARRAY_SIZE(v), "line 2 (seq 3): out of sequence");
}

static void
test_journal_tamper_renumber(void **state)
{
	struct fixture	*f = *state;
	char		*v[NENTRIES - 1] = {
		f->lines[0], f->lines[2], f->lines[3], f->lines[4],
	};

	/* Hiding a deletion by renumbering breaks the chain instead. */
	patch(f->lines[2], "\"seq\":3", "\"seq\":2");
	expect_bad(v, ARRAY_SIZE(v), "line 2 (seq 2): prev_hash does not "
	    "match");
}

static void
test_journal_tamper_hash(void **state)
{
	struct fixture	*f = *state;

	flip_hash(f->lines[1], "\"hash\":\"");
	expect_bad(f->lines, f->nlines, "line 2 (seq 2): hash mismatch");
}

static void
test_journal_tamper_last_hash(void **state)
{
	struct fixture	*f = *state;

	flip_hash(f->lines[4], "\"hash\":\"");
	expect_bad(f->lines, f->nlines, "line 5 (seq 5): hash mismatch");
}

static void
test_journal_tamper_prev_hash(void **state)
{
	struct fixture	*f = *state;

	flip_hash(f->lines[3], "\"prev_hash\":\"");
	expect_bad(f->lines, f->nlines, "line 4 (seq 4): prev_hash does not "
	    "match");
}

static void
test_journal_tamper_forged_append(void **state)
{
	struct fixture	*f = *state;
	char		*v[NENTRIES + 1], *canon, h[HASH_HEX_LEN + 1];
	json_t		*p = json_pack("{s:s}", "account", "mallory"), *o;
	size_t		 i;

	/* A well-formed entry 6, hashed correctly but chained to genesis. */
	canon = journal_canonical(6, "2026-01-01T00:00:00Z", "root(0)", NULL,
	    0, "queued", p);
	sha256_hex2(zero_hash, canon, h);
	o = json_loads(canon, 0, NULL);
	assert_non_null(o);
	(void)json_object_set_new(o, "prev_hash", json_string(zero_hash));
	(void)json_object_set_new(o, "hash", json_string(h));
	free(canon);
	canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	for (i = 0; i < NENTRIES; i++)
		v[i] = f->lines[i];
	v[NENTRIES] = xasprintf("%s\n", canon);
	expect_bad(v, ARRAY_SIZE(v), "line 6 (seq 6): prev_hash does not "
	    "match");
	free(v[NENTRIES]);
	free(canon);
	json_decref(o);
	json_decref(p);
}

static void
test_journal_tamper_blank_line(void **state)
{
	struct fixture	*f = *state;
	char		*v[NENTRIES + 1] = {
		f->lines[0], f->lines[1], "\n", f->lines[2], f->lines[3],
		f->lines[4],
	};

	expect_bad(v, ARRAY_SIZE(v), "line 3: not a JSON object");
}

static void
test_journal_tamper_garbage_line(void **state)
{
	struct fixture	*f = *state;
	char		*v[NENTRIES + 1] = {
		f->lines[0], f->lines[1], f->lines[2], f->lines[3],
		"# removed by admin\n", f->lines[4],
	};
	char		*w[NENTRIES + 1] = {
		f->lines[0], "[1,2,3]\n", f->lines[1], f->lines[2],
		f->lines[3], f->lines[4],
	};

	expect_bad(v, ARRAY_SIZE(v), "line 5: not a JSON object");
	expect_bad(w, ARRAY_SIZE(w), "line 2: not a JSON object");
}

static void
test_journal_tamper_extra_field(void **state)
{
	struct fixture	*f = *state;
	char		*old = f->lines[1];

	/* A field slipped in outside the hashed set is still an alteration. */
	assert_int_equal(old[0], '{');
	f->lines[1] = xasprintf("{\"note\":\"ok\",%s", old + 1);
	free(old);
	expect_bad(f->lines, f->nlines, "line 2 (seq 2): unexpected fields");
}

static void
test_journal_truncation_changes_head(void **state)
{
	struct fixture	*f = *state;
	char		 err[ERR_MAX], head[HASH_HEX_LEN + 1];
	int64_t		 count = 0;

	/*
	 * Dropping the newest entries leaves a valid chain; only the head,
	 * compared with the one the agent holds, shows the loss.
	 */
	assert_int_equal(verify_lines(f->lines, NENTRIES - 1, &count, head,
	    err, sizeof(err)), 0);
	assert_int_equal(count, NENTRIES - 1);
	assert_string_not_equal(head, f->s->jhead);
}

static void
test_journal_rows_are_append_only(void **state)
{
	struct fixture	*f = *state;
	sqlite3_stmt	*st;
	char		*msg = NULL;
	char		 err[ERR_MAX], head[HASH_HEX_LEN + 1];
	int64_t		 count = 0;
	FILE		*fp;

	assert_int_not_equal(sqlite3_exec(f->s->db,
	    "UPDATE journal SET event='x'", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(f->s->db,
	    "DELETE FROM journal WHERE seq=2", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);

	assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT COUNT(*) FROM "
	    "journal WHERE event='x'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	(void)sqlite3_finalize(st);

	/* The table is as it was: a fresh export still verifies. */
	assert_non_null(fp = tmpfile());
	assert_int_equal(journal_export(f->s, NULL, fp), 0);
	rewind(fp);
	assert_int_equal(journal_verify_stream(fp, &count, head, err,
	    sizeof(err)), 0);
	(void)fclose(fp);
	assert_int_equal(count, NENTRIES);
	assert_string_equal(head, f->s->jhead);
}

static void
test_journal_rollback_restores_head(void **state)
{
	struct fixture	*f = *state;
	char		 head[HASH_HEX_LEN + 1], err[ERR_MAX];
	int64_t		 count = 0;
	FILE		*fp;

	memcpy(head, f->s->jhead, sizeof(head));
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(journal_append(f->s, "bob(1002)", NULL, 0, "queued",
	    NULL), 0);
	assert_int_equal(f->s->jseq, NENTRIES + 1);
	store_rollback(f->s);
	assert_int_equal(f->s->jseq, NENTRIES);
	assert_string_equal(f->s->jhead, head);

	/* The next entry chains from the surviving head, not the lost one. */
	append_entries(f->s, NENTRIES - 1, NENTRIES);
	assert_non_null(fp = tmpfile());
	assert_int_equal(journal_export(f->s, NULL, fp), 0);
	rewind(fp);
	assert_int_equal(journal_verify_stream(fp, &count, head, err,
	    sizeof(err)), 0);
	(void)fclose(fp);
	assert_int_equal(count, NENTRIES + 1);
	assert_string_equal(head, f->s->jhead);
}

static void
test_journal_reopen_keeps_head(void **state)
{
	struct fixture	*f = *state;
	char		 head[HASH_HEX_LEN + 1], err[ERR_MAX];

	memcpy(head, f->s->jhead, sizeof(head));
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->db, &f->s, err, sizeof(err)), 0);
	assert_int_equal(f->s->jseq, NENTRIES);
	assert_string_equal(f->s->jhead, head);
}

static void
test_journal_export_one_incident(void **state)
{
	struct fixture	*f = *state;
	char		*line = NULL;
	size_t		 cap = 0, n = 0;
	FILE		*fp;

	/* Entry 1 has no incident; the other four belong to INC-2026-0001. */
	assert_non_null(fp = tmpfile());
	assert_int_equal(journal_export(f->s, "INC-2026-0001", fp), 0);
	rewind(fp);
	while (getline(&line, &cap, fp) > 0) {
		assert_non_null(strstr(line, "\"incident\":\"INC-2026-0001\""));
		n++;
	}
	free(line);
	(void)fclose(fp);
	assert_int_equal(n, NENTRIES - 1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_journal_export_verifies),
		T(test_journal_first_hash_is_sha256_of_genesis_and_canonical),
		T(test_journal_empty_export),
		T(test_journal_tamper_payload),
		T(test_journal_tamper_delete),
		T(test_journal_tamper_swap),
		T(test_journal_tamper_renumber),
		T(test_journal_tamper_hash),
		T(test_journal_tamper_last_hash),
		T(test_journal_tamper_prev_hash),
		T(test_journal_tamper_forged_append),
		T(test_journal_tamper_blank_line),
		T(test_journal_tamper_garbage_line),
		T(test_journal_tamper_extra_field),
		T(test_journal_truncation_changes_head),
		T(test_journal_rows_are_append_only),
		T(test_journal_rollback_restores_head),
		T(test_journal_reopen_keeps_head),
		T(test_journal_export_one_incident),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
