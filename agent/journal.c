#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "log.h"

#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

static json_t *
entry_obj(int64_t seq, const char *ts, const char *actor,
    const char *incident, int64_t action, const char *event, json_t *payload)
{
	json_t	*o = json_object();

	(void)json_object_set_new(o, "seq", json_integer(seq));
	(void)json_object_set_new(o, "ts", json_string(ts));
	(void)json_object_set_new(o, "actor", json_string(actor));
	(void)json_object_set_new(o, "incident",
	    incident ? json_string(incident) : json_null());
	(void)json_object_set_new(o, "action",
	    action ? json_integer(action) : json_null());
	(void)json_object_set_new(o, "event", json_string(event));
	(void)json_object_set(o, "payload", payload ? payload : json_null());
	return o;
}

static char *
dump(const json_t *o)
{
	char	*s = json_dumps(o, CANON_FLAGS);

	if (s == NULL)
		fatalx("%s: cannot encode entry", __func__);
	return s;
}

char *
journal_canonical(int64_t seq, const char *ts, const char *actor,
    const char *incident, int64_t action, const char *event, json_t *payload)
{
	json_t	*o = entry_obj(seq, ts, actor, incident, action, event,
	    payload);
	char	*s = dump(o);

	json_decref(o);
	return s;
}

int
journal_append(struct store *s, const char *actor, const char *incident,
    int64_t action, const char *event, json_t *payload)
{
	char	 ts[32], h[HASH_HEX_LEN + 1], *canon;
	int64_t	 seq = s->jseq + 1;
	int	 r;

	if (!s->in_tx)
		fatalx("%s: journal write outside a transaction", __func__);
	fmt_time(time(NULL), ts);
	canon = journal_canonical(seq, ts, actor, incident, action, event,
	    payload);
	sha256_hex2(s->jhead, canon, h);
	r = store_exec(s, "INSERT INTO journal(seq, ts, actor, incident, "
	    "action, event, payload, prev_hash, hash) "
	    "VALUES(?,?,?,?,?,?,?,?,?)", "isssisjss", seq, ts, actor,
	    incident, action ? action : (int64_t)0, event,
	    payload ? payload : json_null(), s->jhead, h);
	free(canon);
	json_decref(payload);
	if (r != 0)
		return r;
	s->jseq = seq;
	memcpy(s->jhead, h, sizeof(h));
	return 0;
}

/* Writes export lines to f and, when chain is not NULL, chain lines. */
static int
export_rows(struct store *s, const char *incident, FILE *f, FILE *chain)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_q(s, "SELECT seq, ts, actor, incident, action, event, "
	    "payload, prev_hash, hash FROM journal "
	    "WHERE ?1 IS NULL OR incident = ?1 ORDER BY seq", "s", incident);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t		*payload = store_col_json(st, 6), *o;
		const char	*ph = (const char *)sqlite3_column_text(st, 7);
		const char	*hh = (const char *)sqlite3_column_text(st, 8);
		char		*line, *canon = NULL;
		int		 bad_io;

		o = entry_obj(sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3),
		    sqlite3_column_int64(st, 4),
		    (const char *)sqlite3_column_text(st, 5), payload);
		if (chain != NULL)
			canon = dump(o);
		(void)json_object_set_new(o, "prev_hash", json_string(ph));
		(void)json_object_set_new(o, "hash", json_string(hh));
		line = dump(o);
		json_decref(o);
		json_decref(payload);
		bad_io = fprintf(f, "%s\n", line) < 0 || (chain != NULL &&
		    fprintf(chain, "%s %s %s\n", ph, hh, canon) < 0);
		free(line);
		free(canon);
		if (bad_io) {
			(void)sqlite3_reset(st);
			return -EIO;
		}
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
journal_export(struct store *s, const char *incident, FILE *f)
{
	return export_rows(s, incident, f, NULL);
}

int
journal_export_chain(struct store *s, FILE *lines, FILE *chain)
{
	return export_rows(s, NULL, lines, chain);
}

static int
bad(char *err, size_t len, int64_t line, int64_t seq, const char *why)
{
	if (seq >= 0)
		(void)snprintf(err, len, "line %lld (seq %lld): %s",
		    (long long)line, (long long)seq, why);
	else
		(void)snprintf(err, len, "line %lld: %s", (long long)line,
		    why);
	return -EBADMSG;
}

static int
is_hex64(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != HASH_HEX_LEN)
		return 0;
	for (i = 0; i < HASH_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

int
journal_verify_stream(FILE *f, int64_t *ret_count,
    char ret_head[HASH_HEX_LEN + 1], char *err, size_t errlen)
{
	return journal_verify_chain(f, NULL, ret_count, ret_head, err,
	    errlen);
}

/* 0 when chain's next line is "prev hash canon"; -EBADMSG otherwise. */
static int
chain_line_is(FILE *chain, char **cl, size_t *ccap, const char *ph,
    const char *hh, const char *canon)
{
	ssize_t	n;
	size_t	lp = strlen(ph), lh = strlen(hh), lc = strlen(canon);

	if ((n = getline(cl, ccap, chain)) <= 0)
		return -EBADMSG;
	if ((*cl)[n - 1] != '\n' || (size_t)n != lp + lh + lc + 3 ||
	    memcmp(*cl, ph, lp) != 0 || (*cl)[lp] != ' ' ||
	    memcmp(*cl + lp + 1, hh, lh) != 0 || (*cl)[lp + 1 + lh] != ' ' ||
	    memcmp(*cl + lp + lh + 2, canon, lc) != 0)
		return -EBADMSG;
	return 0;
}

int
journal_verify_chain(FILE *f, FILE *chain, int64_t *ret_count,
    char ret_head[HASH_HEX_LEN + 1], char *err, size_t errlen)
{
	char		 prev[HASH_HEX_LEN + 1], h[HASH_HEX_LEN + 1];
	char		*line = NULL, *canon, *cl = NULL;
	size_t		 cap = 0, ccap = 0;
	ssize_t		 n;
	int64_t		 lineno = 0, seq, expect = 1;
	json_t		*o, *jseq;
	const char	*ph, *hh;
	int		 r = 0;

	memset(prev, '0', HASH_HEX_LEN);
	prev[HASH_HEX_LEN] = '\0';
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (n > JOURNAL_LINE_MAX) {
			r = bad(err, errlen, lineno, -1, "line too long");
			goto out;
		}
		/* json_loadb with the real length: a NUL inside the line
		 * must not hide what follows it; duplicate keys are how
		 * a second value would hide behind the hashed one. */
		if (n > 0 && line[n - 1] == '\n')
			n--;
		if ((o = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES,
		    NULL)) == NULL || !json_is_object(o)) {
			json_decref(o);
			r = bad(err, errlen, lineno, -1, "not a JSON object");
			goto out;
		}
		jseq = json_object_get(o, "seq");
		seq = json_is_integer(jseq) ? json_integer_value(jseq) : -1;
		ph = json_string_value(json_object_get(o, "prev_hash"));
		hh = json_string_value(json_object_get(o, "hash"));
		if (seq != expect || !is_hex64(ph) || !is_hex64(hh)) {
			json_decref(o);
			r = bad(err, errlen, lineno, seq, seq != expect ?
			    "out of sequence (entry missing, added or "
			    "reordered)" : "prev_hash or hash is not 64 hex "
			    "digits");
			goto out;
		}
		if (strcmp(ph, prev) != 0) {
			json_decref(o);
			r = bad(err, errlen, lineno, seq, "prev_hash does not "
			    "match the previous entry's hash");
			goto out;
		}
		(void)snprintf(h, sizeof(h), "%s", hh);
		(void)json_object_del(o, "prev_hash");
		(void)json_object_del(o, "hash");
		if (json_object_size(o) != 7) {
			json_decref(o);
			r = bad(err, errlen, lineno, seq, "unexpected fields");
			goto out;
		}
		canon = dump(o);
		json_decref(o);
		if (chain != NULL && chain_line_is(chain, &cl, &ccap, prev, h,
		    canon) != 0) {
			free(canon);
			r = bad(err, errlen, lineno, seq, "chain.txt does not "
			    "match this entry");
			goto out;
		}
		sha256_hex2(prev, canon, prev);
		free(canon);
		if (strcmp(prev, h) != 0) {
			r = bad(err, errlen, lineno, seq, "hash mismatch "
			    "(entry was altered)");
			goto out;
		}
		expect++;
	}
	if (ferror(f) || (chain != NULL && ferror(chain))) {
		r = bad(err, errlen, lineno, -1, "read error");
		goto out;
	}
	if (chain != NULL && getline(&cl, &ccap, chain) > 0) {
		r = bad(err, errlen, lineno + 1, -1, "chain.txt has more "
		    "entries than the journal");
		goto out;
	}
	*ret_count = expect - 1;
	memcpy(ret_head, prev, sizeof(prev));
out:
	free(line);
	free(cl);
	return r;
}
