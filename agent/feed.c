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
 * A batch that is not full waits up to FEED_LINGER_S for more, so a long
 * run does not become one POST per entry.
 *
 * Network feeds (syslog, HEC) send from a thread of their own, one batch
 * at a time: a collector that is down or blackholed stalls only its
 * feed, never the agent's requests and approvals.  The store is read and
 * the positions written by the main thread only; the sender owns the
 * open sink while a batch is in flight.  A file feed is local and sends
 * inline, at most FEED_TICK_MAX records per tick.
 */
#include <errno.h>
#include <pthread.h>
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

enum feed_job { JOB_IDLE, JOB_BUSY, JOB_DONE };

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
	/* The batch in hand: the sender's while JOB_BUSY, else main's. */
	enum feed_kind		 kind;
	struct feed_rec		*recs;
	size_t			 n, sent;
	int			 r;
	char			 err[FEED_ERR_MAX];
	/* The sender thread, for network feeds (thr_up). */
	int			 thr_up, quit;
	enum feed_job		 job;
	pthread_t		 thr;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
};

static struct feed		*feeds;
static size_t			 nfeeds;
static const struct config	*feeds_cfg;	/* what feeds was built from */
static int			 feeds_busy;	/* a batch is in flight */

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

static void recs_free(struct feed_rec *, size_t);

/* Stops f's sender; a batch in flight ends within the sink's timeout. */
static void
sender_stop(struct feed *f)
{
	if (!f->thr_up)
		return;
	(void)pthread_mutex_lock(&f->mu);
	f->quit = 1;
	(void)pthread_cond_signal(&f->cv);
	(void)pthread_mutex_unlock(&f->mu);
	(void)pthread_join(f->thr, NULL);
	(void)pthread_cond_destroy(&f->cv);
	(void)pthread_mutex_destroy(&f->mu);
	f->thr_up = 0;
}

static void
feeds_free(void)
{
	size_t	i;

	for (i = 0; i < nfeeds; i++) {
		sender_stop(&feeds[i]);
		/* Not acknowledged: sent again from the saved position. */
		recs_free(feeds[i].recs, feeds[i].n);
		feeds[i].sink->close(feeds[i].st);
		json_decref(feeds[i].opts);
	}
	free(feeds);
	feeds = NULL;
	nfeeds = 0;
	feeds_cfg = NULL;
	feeds_busy = 0;
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

/* Opens f's sink if need be and sends the batch in hand (any thread). */
static void
feed_send(struct feed *f)
{
	f->err[0] = '\0';
	f->sent = 0;
	f->r = 0;
	if (f->st == NULL)
		f->r = f->sink->open(f->opts, &f->st, f->err, sizeof(f->err));
	if (f->r == 0) {
		f->r = f->sink->send(f->st, f->recs, f->n, &f->sent, f->err,
		    sizeof(f->err));
		if (f->r == 0 && (f->sent == 0 || f->sent > f->n))
			f->r = -EPROTO;
		if (f->r != 0) {
			f->sink->close(f->st);
			f->st = NULL;
		}
	}
}

static void *
sender_main(void *arg)
{
	struct feed	*f = arg;

	(void)pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->job != JOB_BUSY && !f->quit)
			(void)pthread_cond_wait(&f->cv, &f->mu);
		if (f->quit)
			break;
		(void)pthread_mutex_unlock(&f->mu);
		feed_send(f);
		(void)pthread_mutex_lock(&f->mu);
		f->job = JOB_DONE;
	}
	(void)pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Without a thread the feed still works, inline, as a file feed does. */
static void
sender_start(struct feed *f)
{
	int	r;

	if (pthread_mutex_init(&f->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&f->cv, NULL) != 0) {
		(void)pthread_mutex_destroy(&f->mu);
		return;
	}
	f->job = JOB_IDLE;
	if ((r = pthread_create(&f->thr, NULL, sender_main, f)) != 0) {
		log_warnx("%s: feed '%s': no sender thread (%s); sending "
		    "inline", __func__, f->key, strerror(r));
		(void)pthread_cond_destroy(&f->cv);
		(void)pthread_mutex_destroy(&f->mu);
		return;
	}
	f->thr_up = 1;
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
	/* Only now: the array no longer moves under a thread's feed. */
	for (i = 0; i < nfeeds; i++)
		if (feeds[i].sink != &feed_file_sink)
			sender_start(&feeds[i]);
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

/* Reads f's next batch into hand: entries first, then checkpoints. */
static int
batch_read(struct agent *ag, struct feed *f)
{
	size_t	batch = f->sink->batch(f->opts);

	if (batch > FEED_TICK_MAX)
		batch = FEED_TICK_MAX;
	f->recs = NULL;
	f->n = 0;
	if (ag->store->jseq > f->seq) {
		f->kind = FEED_ENTRY;
		return read_entries(ag, f->seq, batch, &f->recs, &f->n);
	}
	if (!f->sink->checkpoints)
		return 0;
	f->kind = FEED_CHECKPOINT;
	return read_checkpoints(ag, f->cp, batch, &f->recs, &f->n);
}

/* Settles the batch in hand: the position on success, else backoff. */
static int
batch_done(struct agent *ag, struct feed *f)
{
	int64_t	*pos = f->kind == FEED_CHECKPOINT ? &f->cp : &f->seq;
	int	 r = f->r;

	if (r == 0) {
		if (f->err[0] != '\0')	/* e.g. a record sent cut down */
			log_warnx("%s: feed '%s': %s", __func__, f->key,
			    f->err);
		*pos = f->recs[f->sent - 1].id;
		pos_save(ag, f->kind == FEED_CHECKPOINT ? "feedcp" : "feed",
		    f->key, *pos);
		f->backoff = 0;
	} else {
		log_warnx("%s: feed '%s': %s", __func__, f->key, f->err[0] ?
		    f->err : strerror(-r));
		f->backoff = f->backoff == 0 ? 1 : f->backoff * 2;
		if (f->backoff > f->retry_max)
			f->backoff = f->retry_max;
		f->retry_at = now_mono() + f->backoff;
	}
	recs_free(f->recs, f->n);
	f->recs = NULL;
	f->n = 0;
	return r;
}

/* The sender's state, and JOB_IDLE again once a finished batch is taken. */
static enum feed_job
job_take(struct feed *f)
{
	enum feed_job	j;

	(void)pthread_mutex_lock(&f->mu);
	j = f->job;
	if (j == JOB_DONE)
		f->job = JOB_IDLE;
	(void)pthread_mutex_unlock(&f->mu);
	return j;
}

/* Settles what f's sender finished, then hands it or sends the next. */
static int
feed_step(struct agent *ag, struct feed *f, double now)
{
	size_t	done = 0;
	int	r;

	if (f->thr_up) {
		switch (job_take(f)) {
		case JOB_BUSY:
			return 1;
		case JOB_DONE:
			if (batch_done(ag, f) != 0)
				return 0;
			break;
		case JOB_IDLE:
			break;
		}
	}
	if (now < f->retry_at || (now - f->sent_at < FEED_LINGER_S &&
	    ag->store->jseq - f->seq < (int64_t)f->sink->batch(f->opts)))
		return 0;
	f->sent_at = now;
	while (done < FEED_TICK_MAX) {
		if ((r = batch_read(ag, f)) != 0) {
			f->r = r;
			(void)snprintf(f->err, sizeof(f->err), "cannot read the "
			    "store: %s", strerror(-r));
			(void)batch_done(ag, f);
			return 0;
		}
		if (f->n == 0) {
			recs_free(f->recs, 0);
			f->recs = NULL;
			return 0;
		}
		if (f->thr_up) {
			(void)pthread_mutex_lock(&f->mu);
			f->job = JOB_BUSY;
			(void)pthread_cond_signal(&f->cv);
			(void)pthread_mutex_unlock(&f->mu);
			return 1;
		}
		feed_send(f);
		done += f->sent;
		if (batch_done(ag, f) != 0)
			return 0;
	}
	return 0;
}

void
feed_tick(struct agent *ag)
{
	double	now;
	size_t	i;
	int	busy = 0;

	if (ag->store->in_tx)
		return;
	feeds_build(ag);
	now = now_mono();
	for (i = 0; i < nfeeds; i++)
		busy |= feed_step(ag, &feeds[i], now);
	feeds_busy = busy;
}

int
feed_busy(void)
{
	return feeds_busy;
}

void
feed_shutdown(void)
{
	feeds_free();
}
