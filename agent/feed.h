/*
 * feed: live copies of the journal, and of the signed checkpoints, for a
 * SIEM.  Internal to the feed modules (feed*.c) and config.c.
 *
 * A feed is one destination: a file (feed_file.c), an RFC 5424 syslog
 * receiver (feed_syslog.c) or a Splunk HTTP Event Collector
 * (feed_hec.c).  feed.c reads what a feed has not had yet from the
 * store, hands it to the feed's sink in batches, and records the new
 * position in the store's meta table only after the sink said the
 * receiver has the batch.  Delivery is at least once: a crash, or a
 * receiver that took a batch but could not say so, means that batch is
 * sent again; every record carries its seq (or checkpoint id) and hash,
 * so a consumer drops duplicates.
 *
 * Records: a journal entry is the object of its `journal export` line
 * (seq, ts, actor, incident, action, event, payload, prev_hash, hash);
 * a checkpoint is {"type": "checkpoint", "id", "customer", "size",
 * "head", "at", "text", "sig" (base64 of the raw Ed25519 signature),
 * "key_fp"}.  Files get journal entries only (a file on the same host
 * cannot show truncation at the source); syslog and HEC get both.
 */
#ifndef CORDON_FEED_H
#define CORDON_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "util.h"

#define FEED_ERR_MAX	256
#define FEED_KEY_MAX	4200

enum feed_kind {
	FEED_ENTRY = 0,
	FEED_CHECKPOINT,
};

struct feed_rec {
	enum feed_kind	 kind;
	int64_t		 id;	/* journal seq, or checkpoint row id */
	time_t		 t;	/* the entry's ts, the checkpoint's at */
	json_t		*obj;	/* see above; owned by the caller */
};

/*
 * One kind of destination.  check() validates a feeds entry at config
 * time (0, or -EINVAL with the reason in err); key() names the
 * destination (its position in the store is kept under that name, so a
 * feed pointed elsewhere starts from seq 1); open() connects or
 * prepares; send() delivers recs in order and returns 0 only when the
 * receiver has them (after a failure the caller close()s and
 * opens again before the next try); on 0, *ret_sent (at least 1) says
 * how many of the first records the receiver has, as a sink may take
 * fewer than given when they do not fit its size limit; close() accepts
 * NULL.  A record too big for one message on its own is sent cut down
 * (feed_rec_cut) rather than retried for ever, which would stall every
 * later entry: send() then still returns 0 and says so in err, which
 * the caller logs as a warning.
 */
struct feed_sink {
	const char	*type;
	int		 checkpoints;	/* ships checkpoints too */
	int	(*check)(const json_t *opts, char *err, size_t len);
	int	(*key)(const json_t *opts, char *out, size_t len);
	size_t	(*batch)(const json_t *opts);	/* records per send() */
	int	(*open)(const json_t *opts, void **ret, char *err, size_t len);
	int	(*send)(void *, const struct feed_rec *, size_t n,
		    size_t *ret_sent, char *err, size_t len);
	void	(*close)(void *);
};

extern const struct feed_sink feed_file_sink;
extern const struct feed_sink feed_syslog_sink;
extern const struct feed_sink feed_hec_sink;

/* The sink for opts' "type", or NULL. */
const struct feed_sink *feed_sink_of(const json_t *opts);

/*
 * Validates one entry of agent.feeds (an object with "type" and the
 * sink's settings): 0, or -EINVAL with the reason in err.
 */
int	feed_conf_check(const json_t *opts, char *err, size_t len)
	    WARN_UNUSED;

/* Formatting (feed_line.c); both append one record, no line break. */
int	feed_line_json(struct buf *, const struct feed_rec *) WARN_UNUSED;
int	feed_line_cef(struct buf *, const struct feed_rec *) WARN_UNUSED;
/*
 * A stand-in for rec when rec does not fit one message of the sink:
 * its kind, id and time, the identifying fields (seq, ts, hash, event,
 * incident, actor, action for an
 * entry; type, id, customer, size, head, at for
 * a checkpoint), "oversize": true and "original_size", the bytes of
 * rec's JSON line.  Enough for a SIEM to know the entry exists and to fetch it
 * from the register.  0, or -ENOMEM; out->obj is the caller's.
 */
int	feed_rec_cut(const struct feed_rec *rec, struct feed_rec *out)
	    WARN_UNUSED;
/* opts' "format": 0 jsonl (default), 1 cef, -1 anything else. */
int	feed_opt_format(const json_t *opts);

/* Small option helpers shared by the sinks. */
const char *feed_opt_str(const json_t *opts, const char *key);
/* opts' integer key in [min, max], or def when absent; -1 when invalid. */
int64_t	 feed_opt_int(const json_t *opts, const char *key, int64_t def,
	    int64_t min, int64_t max);
/* 0 when opts has no key other than those listed (NULL-terminated). */
int	 feed_opt_only(const json_t *opts, const char *const *keys,
	    char *err, size_t len);

/*
 * RFC 5424 (feed_syslog.c), exposed for the unit tests.
 * feed_sd_value() appends a PARAM-VALUE body: '"', '\' and ']' escaped
 * with a backslash (RFC 5424 6.3.3), everything else as is.
 * feed_syslog_msg() appends one whole message, without framing.
 */
struct feed_syslog_hdr {
	int		 facility;	/* 0..23 */
	int		 severity;	/* 0..7: the least for an entry */
	const char	*hostname;	/* 1..255 printable US-ASCII */
	const char	*app_name;	/* 1..48 */
	const char	*procid;	/* 1..128 */
	int		 format;	/* MSG: 0 jsonl, 1 cef */
};
int	feed_sd_value(struct buf *, const char *) WARN_UNUSED;
int	feed_syslog_msg(struct buf *, const struct feed_syslog_hdr *,
	    const struct feed_rec *) WARN_UNUSED;

#endif
