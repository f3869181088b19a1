/*
 * feed: journal entries to a file a SIEM tails (Wazuh `json` localfile,
 * or any CEF reader), appended between requests by the agent's loop.
 *
 * feed_tick() reads the entries past the last one fed from the store,
 * appends them (one line each), fdatasync()s the file and then records
 * the new position in the meta table, under a key naming the format and
 * the path, so a reload onto another file starts that file from seq 1.
 * Delivery is at least once: a crash between the fsync and the meta
 * commit feeds those entries again; every line carries seq and hash, so
 * a consumer drops duplicates.  A failed write is cut back to the size
 * the file had before it, so the file never holds half a line; it is
 * retried after FEED_RETRY_S.
 *
 * jsonl: exactly the `journal export` line (canonical fields, prev_hash,
 * hash: compact, sorted keys, ASCII escapes).
 * cef:   CEF:0|cordon|cordon|VERSION|EVENT|EVENT|SEVERITY|rt=MS
 *        externalId=SEQ suser=ACTOR cs1Label=incident cs1=ID
 *        cn1Label=action cn1=N cs2Label=hash cs2=HASH
 *        cs3Label=prev_hash cs3=PREV msg=PAYLOAD-JSON
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cef.h"
#include "cli.h"
#include "log.h"

#define FEED_BATCH	1000			/* entries per tick */
#define FEED_BUF_MAX	(32 * 1024 * 1024)	/* bytes per tick */
#define FEED_RETRY_S	10
#define FEED_KEY_MAX	4200

static char	feed_key[FEED_KEY_MAX];
static int64_t	feed_seq = -1;		/* last seq fed; -1: not loaded */
static time_t	feed_failed_at;

static int
feed_load(struct agent *ag, const char *key)
{
	sqlite3_stmt	*st;

	if (strlen(key) >= sizeof(feed_key))
		return -ENAMETOOLONG;
	(void)snprintf(feed_key, sizeof(feed_key), "%s", key);
	feed_seq = 0;
	st = store_q(ag->store, "SELECT v FROM meta WHERE k=?", "s", key);
	if (sqlite3_step(st) == SQLITE_ROW)
		feed_seq = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	return 0;
}

static int
line_jsonl(struct buf *b, sqlite3_stmt *st)
{
	json_t	*o, *payload = store_col_json(st, 6);
	char	*s;
	int	 r;

	o = json_pack("{s:I,s:s?,s:s?,s:s?,s:o,s:s?,s:O,s:s?,s:s?}",
	    "seq", (json_int_t)sqlite3_column_int64(st, 0),
	    "ts", sqlite3_column_text(st, 1),
	    "actor", sqlite3_column_text(st, 2),
	    "incident", sqlite3_column_text(st, 3),
	    "action", sqlite3_column_int64(st, 4) ?
	    json_integer(sqlite3_column_int64(st, 4)) : json_null(),
	    "event", sqlite3_column_text(st, 5),
	    "payload", payload ? payload : json_null(),
	    "prev_hash", sqlite3_column_text(st, 7),
	    "hash", sqlite3_column_text(st, 8));
	json_decref(payload);
	if (o == NULL)
		return -EINVAL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	if (s == NULL)
		return -EINVAL;
	if ((r = buf_adds(b, s)) == 0)
		r = buf_addc(b, '\n');
	free(s);
	return r;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const char	*s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

static int
cef_kv(struct buf *b, const char *k, const char *v)
{
	int	r;

	if ((r = buf_printf(b, " %s=", k)) != 0)
		return r;
	return cef_ext(b, v);
}

static int
line_cef(struct buf *b, sqlite3_stmt *st)
{
	const char	*ev = col(st, 5);
	json_t		*payload = store_col_json(st, 6);
	const char	*to = json_string_value(json_object_get(payload,
	    "to"));
	char		*msg = NULL, num[32];
	time_t		 t;
	int		 sev = 3, r;

	if (strcmp(ev, "refused") == 0)
		sev = 7;
	else if (to && (strcmp(to, "failed") == 0 ||
	    strcmp(to, "unknown") == 0))
		sev = 6;
	if (parse_time(col(st, 1), &t) != 0)
		t = 0;
	if (payload)
		msg = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENCODE_ANY);
	json_decref(payload);
	if ((r = buf_printf(b, "CEF:0|cordon|cordon|%s|", CORDON_VERSION)) ||
	    (r = cef_header(b, ev)) || (r = buf_addc(b, '|')) ||
	    (r = cef_header(b, ev)) ||
	    (r = buf_printf(b, "|%d|rt=%lld", sev, (long long)t * 1000)) ||
	    (r = buf_printf(b, " externalId=%lld",
	    (long long)sqlite3_column_int64(st, 0))) ||
	    (r = cef_kv(b, "suser", col(st, 2))) ||
	    (r = cef_kv(b, "cs1Label", "incident")) ||
	    (r = cef_kv(b, "cs1", col(st, 3))))
		goto out;
	(void)snprintf(num, sizeof(num), "%lld",
	    (long long)sqlite3_column_int64(st, 4));
	if ((r = cef_kv(b, "cn1Label", "action")) ||
	    (r = cef_kv(b, "cn1", num)) ||
	    (r = cef_kv(b, "cs2Label", "hash")) ||
	    (r = cef_kv(b, "cs2", col(st, 8))) ||
	    (r = cef_kv(b, "cs3Label", "prev_hash")) ||
	    (r = cef_kv(b, "cs3", col(st, 7))) ||
	    (r = cef_kv(b, "msg", msg ? msg : "")))
		goto out;
	r = buf_addc(b, '\n');
out:
	free(msg);
	return r;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends entries after feed_seq; *ret_last is the last one written. */
static int
feed_append(struct agent *ag, int64_t *ret_last)
{
	struct buf	 b;
	struct stat	 sb;
	sqlite3_stmt	*st;
	size_t		 keep;
	int64_t		 last = feed_seq;
	int		 fd, r = 0, rc;

	buf_init(&b, FEED_BUF_MAX);
	st = store_q(ag->store, "SELECT seq, ts, actor, incident, action, "
	    "event, payload, prev_hash, hash FROM journal WHERE seq > ? "
	    "ORDER BY seq LIMIT ?", "ii", feed_seq, (int64_t)FEED_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		keep = b.len;
		r = ag->cfg->feed_format == FEED_CEF ? line_cef(&b, st) :
		    line_jsonl(&b, st);
		if (r == -E2BIG && last > feed_seq) {
			/* Full: the rest goes next tick. */
			b.len = keep;
			b.p[keep] = '\0';
			r = 0;
			break;
		}
		if (r != 0)
			break;
		last = sqlite3_column_int64(st, 0);
	}
	(void)sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = -EIO;
	if (r != 0 || last == feed_seq)
		goto out;
	if ((fd = open(ag->cfg->feed_file, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &sb) != 0)
		r = -errno;
	else if (!S_ISREG(sb.st_mode))
		r = -EINVAL;
	else if ((r = write_all(fd, b.p, b.len)) == 0 && fdatasync(fd) != 0)
		r = -errno;
	if (r != 0 && r != -EINVAL && ftruncate(fd, sb.st_size) != 0)
		log_warn("%s: cannot cut '%s' back after a failed write",
		    __func__, ag->cfg->feed_file);
	(void)close(fd);
	if (r == 0)
		*ret_last = last;
out:
	buf_free(&b);
	return r;
}

void
feed_tick(struct agent *ag)
{
	char	key[FEED_KEY_MAX], num[32];
	time_t	now;
	int64_t	last = 0;
	int	n, r;

	if (ag->cfg->feed_file == NULL || ag->store->in_tx)
		return;
	n = snprintf(key, sizeof(key), "feed:%s:%s",
	    ag->cfg->feed_format == FEED_CEF ? "cef" : "jsonl",
	    ag->cfg->feed_file);
	if (n < 0 || (size_t)n >= sizeof(key))
		return;
	if (strcmp(key, feed_key) != 0 && feed_load(ag, key) != 0)
		return;
	if (ag->store->jseq <= feed_seq)
		return;
	now = time(NULL);
	if (now - feed_failed_at < FEED_RETRY_S)
		return;
	if ((r = feed_append(ag, &last)) != 0) {
		log_warnx("%s: '%s': %s", __func__, ag->cfg->feed_file,
		    strerror(-r));
		feed_failed_at = now;
		return;
	}
	(void)snprintf(num, sizeof(num), "%lld", (long long)last);
	if ((r = store_begin(ag->store)) == 0) {
		r = store_exec(ag->store, "INSERT OR REPLACE INTO meta(k, v) "
		    "VALUES(?, ?)", "ss", key, num);
		if (r != 0 || (r = store_commit(ag->store)) != 0)
			store_rollback(ag->store);
	}
	if (r != 0)
		log_warnx("%s: cannot record the feed position: %s", __func__,
		    store_errmsg(ag->store));
	/* The file has them either way: do not write them twice now. */
	feed_seq = last;
}
