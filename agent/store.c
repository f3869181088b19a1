#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT);"
	"CREATE TABLE IF NOT EXISTS incidents("
	" id TEXT PRIMARY KEY, year INTEGER, num INTEGER, customer TEXT,"
	" title TEXT, aware_at TEXT, opened_at TEXT, opened_by TEXT,"
	" record TEXT, closed_at TEXT);"
	"CREATE TABLE IF NOT EXISTS runs("
	" id INTEGER PRIMARY KEY, incident TEXT, runbook TEXT,"
	" runbook_sha TEXT, requested_by TEXT, requested_uid INTEGER,"
	" created_at TEXT, total INTEGER, started REAL);"
	"CREATE TABLE IF NOT EXISTS actions("
	" id INTEGER PRIMARY KEY, run_id INTEGER, incident TEXT,"
	" customer TEXT, step TEXT, step_no INTEGER, stop_on_fail INTEGER,"
	" target TEXT, verb TEXT, params TEXT,"
	" restore TEXT, undo_of INTEGER, state TEXT, before TEXT,"
	" change TEXT, plan_hash TEXT, approval_required INTEGER,"
	" approvals_needed INTEGER, requested_by TEXT,"
	" requested_uid INTEGER, observed TEXT, message TEXT,"
	" updated_at TEXT);"
	"CREATE INDEX IF NOT EXISTS actions_state ON actions(state);"
	"CREATE INDEX IF NOT EXISTS actions_run ON actions(run_id, step_no);"
	"CREATE INDEX IF NOT EXISTS actions_incident ON actions(incident);"
	/* queue.c looks up an incident's isolations, and their undos, for
	 * every action it loads: without these, a scan of the incident. */
	"CREATE INDEX IF NOT EXISTS actions_incident_verb ON"
	" actions(incident, verb);"
	"CREATE INDEX IF NOT EXISTS actions_undo ON actions(undo_of);"
	"CREATE TABLE IF NOT EXISTS approvals("
	" id INTEGER PRIMARY KEY, action INTEGER, approver TEXT,"
	" approver_uid INTEGER, plan_hash TEXT, at INTEGER, at_text TEXT);"
	"CREATE INDEX IF NOT EXISTS approvals_action ON approvals(action);"
	"CREATE TABLE IF NOT EXISTS journal("
	" seq INTEGER PRIMARY KEY, ts TEXT, actor TEXT, incident TEXT,"
	" action INTEGER, event TEXT, payload TEXT, prev_hash TEXT,"
	" hash TEXT);"
	"CREATE INDEX IF NOT EXISTS journal_incident ON journal(incident);"
	/* Signed checkpoints of the journal (agent/checkpoint.h). */
	"CREATE TABLE IF NOT EXISTS checkpoints("
	" id INTEGER PRIMARY KEY, customer TEXT, size INTEGER, head TEXT,"
	" text TEXT, sig BLOB, at TEXT);"
	"CREATE INDEX IF NOT EXISTS checkpoints_customer ON"
	" checkpoints(customer, id);"
	"CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON"
	" checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are"
	" append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON"
	" checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are"
	" append-only'); END;"
	/* The journal is append-only, in the database too. */
	"CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON"
	" journal BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON"
	" journal BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
	/* INSERT OR REPLACE fires no delete trigger: refuse old seqs. */
	"CREATE TRIGGER IF NOT EXISTS journal_only_forward BEFORE INSERT ON"
	" journal WHEN NEW.seq <= (SELECT COALESCE(MAX(seq), 0) FROM journal)"
	" BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;";

int
store_open(const char *path, struct store **ret, char *err, size_t errlen)
{
	struct store	*s = xcalloc(1, sizeof(*s));
	sqlite3_stmt	*st;
	char		*msg = NULL;
	int		 rc;

	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	(void)sqlite3_busy_timeout(s->db, 5000);
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;", NULL, NULL,
	    &msg);
	if (rc != SQLITE_OK)
		goto fail;
	if ((rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg)) != SQLITE_OK)
		goto fail;
	memset(s->jhead, '0', HASH_HEX_LEN);
	st = store_q(s, "SELECT seq, hash FROM journal ORDER BY seq DESC "
	    "LIMIT 1", "");
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->jseq = sqlite3_column_int64(st, 0);
		(void)snprintf(s->jhead, sizeof(s->jhead), "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	(void)sqlite3_reset(st);
	*ret = s;
	return 0;
fail:
	(void)snprintf(err, errlen, "%s: %s", path,
	    msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	store_close(s);
	return -EIO;
}

void
store_close(struct store *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < STORE_STMT_CACHE; i++)
		(void)sqlite3_finalize(s->cache[i].st);
	(void)sqlite3_close(s->db);
	free(s);
}

int
store_begin(struct store *s)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return -EIO;
	s->in_tx = 1;
	return 0;
}

int
store_commit(struct store *s)
{
	s->in_tx = 0;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_rollback(s);
		return -EIO;
	}
	return 0;
}

void
store_rollback(struct store *s)
{
	sqlite3_stmt	*st;

	s->in_tx = 0;
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	/* The cached head may include entries that were just rolled back. */
	s->jseq = 0;
	memset(s->jhead, '0', HASH_HEX_LEN);
	st = store_q(s, "SELECT seq, hash FROM journal ORDER BY seq DESC "
	    "LIMIT 1", "");
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->jseq = sqlite3_column_int64(st, 0);
		(void)snprintf(s->jhead, sizeof(s->jhead), "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	(void)sqlite3_reset(st);
}

static sqlite3_stmt *
vq(struct store *s, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt	*st = NULL;
	size_t		 i;
	int		 col = 1, rc = SQLITE_OK;

	for (i = 0; i < STORE_STMT_CACHE && s->cache[i].sql; i++)
		if (s->cache[i].sql == sql) {
			st = s->cache[i].st;
			break;
		}
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
			fatalx("%s: %s: %s", __func__, sqlite3_errmsg(s->db),
			    sql);
		if (i == STORE_STMT_CACHE)
			fatalx("%s: statement cache full", __func__);
		s->cache[i].sql = sql;
		s->cache[i].st = st;
	}
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	for (; *fmt && rc == SQLITE_OK; fmt++, col++) {
		switch (*fmt) {
		case 's': {
			const char *v = va_arg(ap, const char *);

			rc = v ? sqlite3_bind_text(st, col, v, -1,
			    SQLITE_TRANSIENT) : sqlite3_bind_null(st, col);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int64(st, col, va_arg(ap, int64_t));
			break;
		case 'j': {
			json_t	*j = va_arg(ap, json_t *);
			char	*d;

			if (j == NULL) {
				rc = sqlite3_bind_null(st, col);
				break;
			}
			d = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
			    JSON_ENCODE_ANY);
			if (d == NULL)
				fatalx("%s: out of memory", __func__);
			rc = sqlite3_bind_text(st, col, d, -1, free);
			break;
		}
		default:
			fatalx("%s: bad format '%c'", __func__, *fmt);
		}
	}
	if (rc != SQLITE_OK)
		fatalx("%s: bind: %s", __func__, sqlite3_errmsg(s->db));
	return st;
}

sqlite3_stmt *
store_q(struct store *s, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = vq(s, sql, fmt, ap);
	va_end(ap);
	return st;
}

int
store_exec(struct store *s, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	st = vq(s, sql, fmt, ap);
	va_end(ap);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

const char *
store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

char *
store_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

json_t *
store_col_json(sqlite3_stmt *st, int i)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	if (t == NULL)
		return NULL;
	return json_loads((const char *)t, JSON_DECODE_ANY, NULL);
}
