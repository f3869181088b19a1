/*
 * feed: ships journal entries and signed checkpoints to every configured
 * feed between requests (see feed.h for the sinks and the records).
 *
 * Feeds: agent.feed_file/feed_format (one file, as in earlier versions)
 * and each entry of agent.feeds.  Per feed the position is kept in the
 * meta table under "feed:KEY" (journal seq) and "feedcp:KEY" (checkpoint
 * row id), KEY naming the destination; it advances only after the sink
 * said the receiver has the batch.  A failing feed is retried after
 * 1, 2, 4 ... seconds, at most its retry_max (FEED_BACKOFF_MAX); the
 * others go on meanwhile.
 * Checkpoints go after the entries they cover, as they are made.
 * Each tick sends at most FEED_TICK_MAX records per feed and kind, so
 * a feed that is far behind does not hold up the agent's requests; a
 * batch that is not full waits up to FEED_LINGER_S for more, so a long
 * run does not become one POST per entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "agent.h"
#include "checkpoint.h"
#include "feed.h"
#include "log.h"

#define FEED_TICK_MAX		1000	/* records per feed, kind, tick */
#define FEED_BACKOFF_MAX	60	/* default retry_max, seconds */
#define FEED_LINGER_S		1.0	/* a part batch waits this long */

struct feed {
	const struct feed_sink	*sink;
	json_t			*opts;
	char			 key[FEED_KEY_MAX];	/* sink's name */
	void			*st;			/* open sink */
	int64_t			 seq;			/* last entry fed */
	int64_t			 cp;			/* last checkpoint */
	double			 retry_at;
	double			 sent_at;	/* last tried */
	double			 backoff;
	double			 retry_max;
};

static struct feed		*feeds;
static size_t			 nfeeds;
static const struct config	*feeds_cfg;	/* what feeds was built from */

static const struct feed_sink *const sinks[] = {
	&feed_file_sink, &feed_syslog_sink, &feed_hec_sink,
};

const struct feed_sink *
feed_sink_of(const json_t *opts)
{
	const char	*t = feed_opt_str(opts, "type");
	size_t		 i;

	for (i = 0; t != NULL && i < ARRAY_SIZE(sinks); i++)
		if (strcmp(sinks[i]->type, t) == 0)
			return sinks[i];
	return NULL;
}

int
feed_conf_check(const json_t *opts, char *err, size_t len)
{
	const struct feed_sink	*s;
	char			 key[FEED_KEY_MAX];

	if (!json_is_object(opts)) {
		(void)snprintf(err, len, "a feed must be a group");
		return -EINVAL;
	}
	if ((s = feed_sink_of(opts)) == NULL) {
		(void)snprintf(err, len, "'type' must be \"file\", \"syslog\" "
		    "or \"hec\"");
		return -EINVAL;
	}
	if (s->check(opts, err, len) != 0)
		return -EINVAL;
	if (feed_opt_int(opts, "retry_max", FEED_BACKOFF_MAX, 1, 3600) < 0) {
		(void)snprintf(err, len, "'retry_max' must be between 1 and "
		    "3600 seconds");
		return -EINVAL;
	}
	if (s->key(opts, key, sizeof(key)) != 0) {
		(void)snprintf(err, len, "destination name too long");
		return -EINVAL;
	}
	return 0;
}

static int64_t
pos_load(struct agent *ag, const char *prefix, const char *key)
{
	sqlite3_stmt	*st;
	char		 k[FEED_KEY_MAX + 16];
	int64_t		 v = 0;

	(void)snprintf(k, sizeof(k), "%s:%s", prefix, key);
	st = store_q(ag->store, "SELECT v FROM meta WHERE k=?", "s", k);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	return v;
}

static void
pos_save(struct agent *ag, const char *prefix, const char *key, int64_t v)
{
	char	k[FEED_KEY_MAX + 16], num[32];
	int	r;

	(void)snprintf(k, sizeof(k), "%s:%s", prefix, key);
	(void)snprintf(num, sizeof(num), "%lld", (long long)v);
	if ((r = store_begin(ag->store)) == 0) {
		r = store_exec(ag->store, "INSERT OR REPLACE INTO meta(k, v) "
		    "VALUES(?, ?)", "ss", k, num);
		if (r != 0 || (r = store_commit(ag->store)) != 0)
			store_rollback(ag->store);
	}
	/* The receiver has them either way: they are not sent twice now. */
	if (r != 0)
		log_warnx("%s: cannot record the position of feed '%s': %s",
		    __func__, key, store_errmsg(ag->store));
}

static int64_t
last_checkpoint(struct agent *ag)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;

	st = store_q(ag->store, "SELECT COALESCE(MAX(id), 0) FROM checkpoints",
	    "");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	(void)sqlite3_reset(st);
	return v;
}

static void
feeds_free(void)
{
	size_t	i;

	for (i = 0; i < nfeeds; i++) {
		feeds[i].sink->close(feeds[i].st);
		json_decref(feeds[i].opts);
	}
	free(feeds);
	feeds = NULL;
	nfeeds = 0;
	feeds_cfg = NULL;
}

static void
feed_add(struct agent *ag, json_t *opts)
{
	const struct feed_sink	*s = feed_sink_of(opts);
	struct feed		*f;
	char			 key[FEED_KEY_MAX];
	size_t			 i;

	/* config_load checked opts: this holds. */
	if (s == NULL || s->key(opts, key, sizeof(key)) != 0) {
		json_decref(opts);
		return;
	}
	for (i = 0; i < nfeeds; i++)
		if (strcmp(feeds[i].key, key) == 0) {
			log_warnx("%s: feed '%s' is configured twice; fed once",
			    __func__, key);
			json_decref(opts);
			return;
		}
	feeds = xreallocarray(feeds, nfeeds + 1, sizeof(*feeds));
	f = &feeds[nfeeds++];
	memset(f, 0, sizeof(*f));
	f->sink = s;
	f->opts = opts;
	(void)snprintf(f->key, sizeof(f->key), "%s", key);
	f->retry_max = (double)feed_opt_int(opts, "retry_max",
	    FEED_BACKOFF_MAX, 1, 3600);
	f->seq = pos_load(ag, "feed", key);
	f->cp = pos_load(ag, "feedcp", key);
	if (f->seq > ag->store->jseq)
		log_warnx("%s: the journal ends at entry %lld but feed '%s' "
		    "already had %lld: was it truncated?", __func__,
		    (long long)ag->store->jseq, key, (long long)f->seq);
	if (s->checkpoints && f->cp > last_checkpoint(ag))
		log_warnx("%s: the checkpoints end before number %lld, which "
		    "feed '%s' already had: were they truncated?", __func__,
		    (long long)f->cp, key);
}

/* (Re)builds the feed list when the config changed (start, reload). */
static void
feeds_build(struct agent *ag)
{
	const struct config	*c = ag->cfg;
	size_t			 i;

	if (c == feeds_cfg)
		return;
	feeds_free();
	feeds_cfg = c;
	if (c->feed_file != NULL)
		feed_add(ag, json_pack("{s:s,s:s,s:s}", "type", "file", "path",
		    c->feed_file, "format", c->feed_format == FEED_CEF ?
		    "cef" : "jsonl"));
	for (i = 0; c->feeds != NULL && i < json_array_size(c->feeds); i++)
		feed_add(ag, json_deep_copy(json_array_get(c->feeds, i)));
}

static void
recs_free(struct feed_rec *recs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		json_decref(recs[i].obj);
	free(recs);
}

/* Up to max journal entries after seq, oldest first. */
static int
read_entries(struct agent *ag, int64_t seq, size_t max,
    struct feed_rec **ret, size_t *ret_n)
{
	struct feed_rec	*recs = xcalloc(max, sizeof(*recs));
	sqlite3_stmt	*st;
	json_t		*payload;
	const char	*ts;
	size_t		 n = 0;
	int		 rc, r = 0;

	st = store_q(ag->store, "SELECT seq, ts, actor, incident, action, "
	    "event, payload, prev_hash, hash FROM journal WHERE seq > ? "
	    "ORDER BY seq LIMIT ?", "ii", seq, (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct feed_rec	*rec = &recs[n];

		payload = store_col_json(st, 6);
		rec->kind = FEED_ENTRY;
		rec->id = sqlite3_column_int64(st, 0);
		ts = (const char *)sqlite3_column_text(st, 1);
		if (ts == NULL || parse_time(ts, &rec->t) != 0)
			rec->t = 0;
		rec->obj = json_pack("{s:I,s:s?,s:s?,s:s?,s:o,s:s?,s:o,s:s?,"
		    "s:s?}", "seq", (json_int_t)rec->id, "ts", ts,
		    "actor", sqlite3_column_text(st, 2),
		    "incident", sqlite3_column_text(st, 3),
		    "action", sqlite3_column_int64(st, 4) ?
		    json_integer(sqlite3_column_int64(st, 4)) : json_null(),
		    "event", sqlite3_column_text(st, 5),
		    "payload", payload ? payload : json_null(),
		    "prev_hash", sqlite3_column_text(st, 7),
		    "hash", sqlite3_column_text(st, 8));
		if (rec->obj == NULL) {
			r = -EINVAL;
			break;
		}
		n++;
	}
	if (r == 0 && n < max && rc != SQLITE_DONE)
		r = -EIO;
	(void)sqlite3_reset(st);
	if (r != 0) {
		recs_free(recs, n);
		return r;
	}
	*ret = recs;
	*ret_n = n;
	return 0;
}

/* Up to max checkpoints after row id, oldest first. */
static int
read_checkpoints(struct agent *ag, int64_t id, size_t max,
    struct feed_rec **ret, size_t *ret_n)
{
	struct feed_rec	*recs = xcalloc(max, sizeof(*recs));
	sqlite3_stmt	*st;
	const char	*cu, *at, *fp = NULL;
	char		 b64[2 * CHECKPOINT_SIG_LEN];
	size_t		 n = 0;
	int		 rc, r = 0;

	st = store_q(ag->store, "SELECT id, customer, size, head, text, at, "
	    "sig FROM checkpoints WHERE id > ? ORDER BY id LIMIT ?", "ii", id,
	    (int64_t)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct feed_rec	*rec = &recs[n];

		if (sqlite3_column_bytes(st, 6) != CHECKPOINT_SIG_LEN ||
		    (cu = (const char *)sqlite3_column_text(st, 1)) == NULL) {
			r = -EBADMSG;
			break;
		}
		(void)EVP_EncodeBlock((unsigned char *)b64,
		    sqlite3_column_blob(st, 6), CHECKPOINT_SIG_LEN);
		/* Only a configured customer's key: never make one here. */
		fp = NULL;
		if (config_customer(ag->cfg, cu) != NULL)
			(void)checkpoint_key_of(ag, cu, &fp);
		rec->kind = FEED_CHECKPOINT;
		rec->id = sqlite3_column_int64(st, 0);
		at = (const char *)sqlite3_column_text(st, 5);
		if (at == NULL || parse_time(at, &rec->t) != 0)
			rec->t = 0;
		rec->obj = json_pack("{s:s,s:I,s:s,s:I,s:s?,s:s?,s:s?,s:s,"
		    "s:s?}", "type", "checkpoint", "id", (json_int_t)rec->id,
		    "customer", cu, "size",
		    (json_int_t)sqlite3_column_int64(st, 2),
		    "head", sqlite3_column_text(st, 3),
		    "at", at, "text", sqlite3_column_text(st, 4), "sig", b64,
		    "key_fp", fp);
		if (rec->obj == NULL) {
			r = -EINVAL;
			break;
		}
		n++;
	}
	if (r == 0 && n < max && rc != SQLITE_DONE)
		r = -EIO;
	(void)sqlite3_reset(st);
	if (r != 0) {
		recs_free(recs, n);
		return r;
	}
	*ret = recs;
	*ret_n = n;
	return 0;
}

/* Sends one kind of record to f until caught up or FEED_TICK_MAX. */
static int
feed_pump(struct agent *ag, struct feed *f, enum feed_kind kind)
{
	struct feed_rec	*recs = NULL;
	int64_t		*pos = kind == FEED_CHECKPOINT ? &f->cp : &f->seq;
	size_t		 batch = f->sink->batch(f->opts), n, sent, done = 0;
	char		 err[FEED_ERR_MAX] = "";
	int		 r = 0;

	if (batch > FEED_TICK_MAX)
		batch = FEED_TICK_MAX;
	while (done < FEED_TICK_MAX) {
		if (kind == FEED_ENTRY && ag->store->jseq <= f->seq)
			break;
		r = kind == FEED_CHECKPOINT ? read_checkpoints(ag, *pos, batch,
		    &recs, &n) : read_entries(ag, *pos, batch, &recs, &n);
		if (r != 0) {
			(void)snprintf(err, sizeof(err), "cannot read the "
			    "store: %s", strerror(-r));
			break;
		}
		if (n == 0) {
			recs_free(recs, n);
			break;
		}
		if (f->st == NULL &&
		    (r = f->sink->open(f->opts, &f->st, err, sizeof(err))) != 0) {
			recs_free(recs, n);
			break;
		}
		sent = 0;
		r = f->sink->send(f->st, recs, n, &sent, err, sizeof(err));
		if (r == 0 && (sent == 0 || sent > n))
			r = -EPROTO;
		if (r == 0) {
			*pos = recs[sent - 1].id;
			pos_save(ag, kind == FEED_CHECKPOINT ? "feedcp" : "feed",
			    f->key, *pos);
			done += sent;
		}
		recs_free(recs, n);
		if (r != 0) {
			f->sink->close(f->st);
			f->st = NULL;
			break;
		}
	}
	if (r != 0)
		log_warnx("%s: feed '%s': %s", __func__, f->key, err[0] ? err :
		    strerror(-r));
	return r;
}

void
feed_tick(struct agent *ag)
{
	struct feed	*f;
	double		 now;
	size_t		 i;
	int		 r;

	if (ag->store->in_tx)
		return;
	feeds_build(ag);
	now = now_mono();
	for (i = 0; i < nfeeds; i++) {
		f = &feeds[i];
		if (now < f->retry_at)
			continue;
		if (now - f->sent_at < FEED_LINGER_S &&
		    ag->store->jseq - f->seq < (int64_t)f->sink->batch(f->opts))
			continue;
		f->sent_at = now;
		r = feed_pump(ag, f, FEED_ENTRY);
		if (r == 0 && f->sink->checkpoints)
			r = feed_pump(ag, f, FEED_CHECKPOINT);
		if (r == 0) {
			f->backoff = 0;
			continue;
		}
		f->backoff = f->backoff == 0 ? 1 : f->backoff * 2;
		if (f->backoff > f->retry_max)
			f->backoff = f->retry_max;
		f->retry_at = now_mono() + f->backoff;
	}
}

void
feed_shutdown(void)
{
	feeds_free();
}
