#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "journal.h"
#include "redact.h"

/* journal.h's canonical form: compact, sorted keys, ASCII escapes. */
#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

static char *
redacted_line(int64_t seq, const char *ph, const char *hh)
{
	return xasprintf("{\"hash\":\"%s\",\"prev_hash\":\"%s\","
	    "\"redacted\":true,\"seq\":%lld}", hh, ph, (long long)seq);
}

int
redact_export(struct store *s, const char *incident, FILE *lines,
    FILE *chain, json_t **ret_seqs)
{
	sqlite3_stmt	*st;
	json_t		*seqs = json_array();
	int		 rc, bad = 0;

	st = store_q(s, "SELECT seq, ts, actor, incident, action, event, "
	    "payload, prev_hash, hash FROM journal ORDER BY seq", "");
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t		 seq = sqlite3_column_int64(st, 0);
		const char	*inc = (const char *)sqlite3_column_text(st, 3);
		const char	*ph = (const char *)sqlite3_column_text(st, 7);
		const char	*hh = (const char *)sqlite3_column_text(st, 8);
		json_t		*payload, *o;
		char		*canon, *line;

		if (inc == NULL || strcmp(inc, incident) != 0) {
			line = redacted_line(seq, ph, hh);
			bad = fprintf(lines, "%s\n", line) < 0 ||
			    fprintf(chain, "%s %s -\n", ph, hh) < 0;
			free(line);
			continue;
		}
		payload = store_col_json(st, 6);
		canon = journal_canonical(seq, (const char *)
		    sqlite3_column_text(st, 1), (const char *)
		    sqlite3_column_text(st, 2), inc,
		    sqlite3_column_int64(st, 4), (const char *)
		    sqlite3_column_text(st, 5), payload);
		json_decref(payload);
		/* The export line: the canonical entry plus both hashes. */
		if ((o = json_loads(canon, 0, NULL)) == NULL) {
			free(canon);
			bad = 1;
			break;
		}
		(void)json_object_set_new(o, "prev_hash", json_string(ph));
		(void)json_object_set_new(o, "hash", json_string(hh));
		line = json_dumps(o, CANON_FLAGS);
		json_decref(o);
		bad = line == NULL || fprintf(lines, "%s\n", line) < 0 ||
		    fprintf(chain, "%s %s %s\n", ph, hh, canon) < 0;
		free(line);
		free(canon);
		(void)json_array_append_new(seqs, json_integer(seq));
	}
	(void)sqlite3_reset(st);
	if (bad || rc != SQLITE_DONE) {
		json_decref(seqs);
		return -EIO;
	}
	*ret_seqs = seqs;
	return 0;
}

int
redact_file_sha(FILE *f, char out[HASH_HEX_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	EVP_MD_CTX		*ctx;
	unsigned char		 buf[65536], md[32];
	unsigned int		 mdlen = 0;
	size_t			 n, i;
	int			 ok;

	if (fflush(f) != 0 || fseeko(f, 0, SEEK_SET) != 0)
		return -EIO;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	    mdlen == sizeof(md);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[HASH_HEX_LEN] = '\0';
	return 0;
}

char *
redact_manifest(const char *customer, const char *incident,
    const json_t *seqs, const char *sha_journal, const char *sha_chain,
    const char *sha_checkpoint)
{
	struct buf	 b;
	const json_t	*v;
	size_t		 i;
	int		 r;

	buf_init(&b, REDACT_MANIFEST_MAX);
	r = buf_printf(&b, REDACT_ORIGIN "%s\nincident %s\nentries ",
	    customer, incident);
	if (r == 0 && json_array_size(seqs) == 0)
		r = buf_adds(&b, "none");
	json_array_foreach(seqs, i, v)
		if (r == 0)
			r = buf_printf(&b, "%s%lld", i ? "," : "",
			    (long long)json_integer_value(v));
	if (r == 0)
		r = buf_printf(&b, "\njournal.jsonl %s\nchain.txt %s\n"
		    "checkpoint.txt %s\n", sha_journal, sha_chain,
		    sha_checkpoint);
	if (r != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
is_hex64(const char *s, size_t n)
{
	size_t	i;

	if (s == NULL || n != HASH_HEX_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' &&
		    s[i] <= 'f'))
			return 0;
	return 1;
}

/* "<key> <64 hex>\n" at *p; advances *p. */
static int
sha_line(const char **p, const char *end, const char *key,
    char out[HASH_HEX_LEN + 1])
{
	size_t	kl = strlen(key);

	if ((size_t)(end - *p) < kl + 1 + HASH_HEX_LEN + 1 ||
	    memcmp(*p, key, kl) != 0 || (*p)[kl] != ' ' ||
	    !is_hex64(*p + kl + 1, HASH_HEX_LEN) ||
	    (*p)[kl + 1 + HASH_HEX_LEN] != '\n')
		return -EBADMSG;
	memcpy(out, *p + kl + 1, HASH_HEX_LEN);
	out[HASH_HEX_LEN] = '\0';
	*p += kl + 1 + HASH_HEX_LEN + 1;
	return 0;
}

int
redact_manifest_parse(const char *text, size_t len,
    struct redact_manifest *m)
{
	const char	*p = text, *end = text + len, *nl;
	char		*e;
	long long	 v, last = 0;
	size_t		 n;

	memset(m, 0, sizeof(*m));
	if (memchr(text, '\0', len) != NULL)
		return -EBADMSG;
	n = strlen(REDACT_ORIGIN);
	if (len < n || memcmp(p, REDACT_ORIGIN, n) != 0 ||
	    (nl = memchr(p, '\n', len)) == NULL || (size_t)(nl - p) == n ||
	    (size_t)(nl - p - n) >= sizeof(m->customer))
		return -EBADMSG;
	memcpy(m->customer, p + n, (size_t)(nl - p) - n);
	p = nl + 1;
	if ((size_t)(end - p) < 9 || memcmp(p, "incident ", 9) != 0 ||
	    (nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    nl - p - 9 < 1 || nl - p - 9 > REDACT_INCIDENT_MAX)
		return -EBADMSG;
	memcpy(m->incident, p + 9, (size_t)(nl - p - 9));
	p = nl + 1;
	if ((size_t)(end - p) < 8 || memcmp(p, "entries ", 8) != 0 ||
	    (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return -EBADMSG;
	p += 8;
	m->seqs = json_array();
	if (p == nl)
		goto bad;	/* "none" says there are none */
	if (nl - p == 4 && memcmp(p, "none", 4) == 0)
		p = nl;
	while (p < nl) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		v = strtoll(p, &e, 10);
		/* Ascending, as exported: a reordered list is not ours. */
		if (errno || v <= last || (e != nl && *e != ','))
			goto bad;
		last = v;
		(void)json_array_append_new(m->seqs, json_integer(v));
		p = e == nl ? nl : e + 1;
		if (p == nl && *e == ',')
			goto bad;
	}
	p = nl + 1;
	if (sha_line(&p, end, "journal.jsonl", m->sha_journal) != 0 ||
	    sha_line(&p, end, "chain.txt", m->sha_chain) != 0 ||
	    sha_line(&p, end, "checkpoint.txt", m->sha_checkpoint) != 0 ||
	    p != end)
		goto bad;
	return 0;
bad:
	json_decref(m->seqs);
	m->seqs = NULL;
	return -EBADMSG;
}

static int
vbad(char *err, size_t len, int64_t line, const char *why)
{
	(void)snprintf(err, len, "line %lld: %s", (long long)line, why);
	return -EBADMSG;
}

/* The next chain line must be exactly "ph hh tail\n". */
static int
chain_is(FILE *chain, char **cl, size_t *cap, const char *ph,
    const char *hh, const char *tail)
{
	ssize_t	n;
	size_t	lt = strlen(tail);

	if ((n = getline(cl, cap, chain)) <= 0)
		return -EBADMSG;
	if ((size_t)n != 2 * HASH_HEX_LEN + lt + 3 ||
	    memcmp(*cl, ph, HASH_HEX_LEN) != 0 || (*cl)[HASH_HEX_LEN] != ' ' ||
	    memcmp(*cl + HASH_HEX_LEN + 1, hh, HASH_HEX_LEN) != 0 ||
	    (*cl)[2 * HASH_HEX_LEN + 1] != ' ' ||
	    memcmp(*cl + 2 * HASH_HEX_LEN + 2, tail, lt) != 0 ||
	    (*cl)[n - 1] != '\n')
		return -EBADMSG;
	return 0;
}

int
redact_verify(FILE *f, FILE *chain, const char *incident, int64_t *ret_count,
    char ret_head[HASH_HEX_LEN + 1], json_t **ret_seqs, char *err,
    size_t errlen)
{
	char		 prev[HASH_HEX_LEN + 1], h[HASH_HEX_LEN + 1];
	char		*line = NULL, *cl = NULL, *canon, *want;
	size_t		 cap = 0, ccap = 0;
	ssize_t		 n;
	int64_t		 lineno = 0, seq;
	json_t		*o, *jseq, *seqs = json_array();
	const char	*ph, *hh, *inc;
	int		 r = 0;

	memset(prev, '0', HASH_HEX_LEN);
	prev[HASH_HEX_LEN] = '\0';
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (n > JOURNAL_LINE_MAX || line[n - 1] != '\n') {
			r = vbad(err, errlen, lineno, "line too long or "
			    "unterminated");
			goto out;
		}
		line[--n] = '\0';
		if ((o = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES,
		    NULL)) == NULL || !json_is_object(o)) {
			json_decref(o);
			r = vbad(err, errlen, lineno, "not a JSON object");
			goto out;
		}
		jseq = json_object_get(o, "seq");
		seq = json_is_integer(jseq) ? json_integer_value(jseq) : -1;
		ph = json_string_value(json_object_get(o, "prev_hash"));
		hh = json_string_value(json_object_get(o, "hash"));
		if (seq != lineno || ph == NULL || hh == NULL ||
		    !is_hex64(ph, strlen(ph)) || !is_hex64(hh, strlen(hh))) {
			json_decref(o);
			r = vbad(err, errlen, lineno, seq != lineno ? "out of "
			    "sequence (entry missing, added or reordered)" :
			    "prev_hash or hash is not 64 hex digits");
			goto out;
		}
		if (strcmp(ph, prev) != 0) {
			json_decref(o);
			r = vbad(err, errlen, lineno, "prev_hash does not match "
			    "the previous entry's hash");
			goto out;
		}
		(void)snprintf(h, sizeof(h), "%s", hh);
		if (json_object_get(o, "redacted") != NULL) {
			/* Only the exact redacted form, nothing beside it. */
			want = redacted_line(seq, prev, h);
			json_decref(o);
			r = strcmp(line, want) != 0 ? vbad(err, errlen, lineno,
			    "malformed redacted entry") : chain_is(chain, &cl,
			    &ccap, prev, h, "-") != 0 ? vbad(err, errlen,
			    lineno, "chain.txt does not match this entry") : 0;
			free(want);
			if (r != 0)
				goto out;
			memcpy(prev, h, sizeof(h));
			continue;
		}
		(void)json_object_del(o, "prev_hash");
		(void)json_object_del(o, "hash");
		inc = json_string_value(json_object_get(o, "incident"));
		if (json_object_size(o) != 7 || inc == NULL ||
		    strcmp(inc, incident) != 0) {
			json_decref(o);
			r = vbad(err, errlen, lineno, "a full entry that is not "
			    "one of the incident's");
			goto out;
		}
		if ((canon = json_dumps(o, CANON_FLAGS)) == NULL) {
			json_decref(o);
			r = vbad(err, errlen, lineno, "cannot encode");
			goto out;
		}
		json_decref(o);
		if (chain_is(chain, &cl, &ccap, prev, h, canon) != 0) {
			free(canon);
			r = vbad(err, errlen, lineno, "chain.txt does not match "
			    "this entry");
			goto out;
		}
		sha256_hex2(prev, canon, prev);
		free(canon);
		if (strcmp(prev, h) != 0) {
			r = vbad(err, errlen, lineno, "hash mismatch (entry was "
			    "altered)");
			goto out;
		}
		(void)json_array_append_new(seqs, json_integer(seq));
	}
	if (ferror(f) || ferror(chain)) {
		r = vbad(err, errlen, lineno, "read error");
		goto out;
	}
	if (getline(&cl, &ccap, chain) > 0) {
		r = vbad(err, errlen, lineno + 1, "chain.txt has more entries "
		    "than the journal");
		goto out;
	}
	*ret_count = lineno;
	memcpy(ret_head, prev, sizeof(prev));
	*ret_seqs = seqs;
	seqs = NULL;
out:
	json_decref(seqs);
	free(line);
	free(cl);
	return r;
}
