/*
 * journal: the append-only, hash-chained record of everything cordon did.
 *
 * Entry n holds seq, ts, actor, incident, action, event, payload and
 *   hash_n = SHA-256(hash_{n-1} as hex ‖ canonical(entry_n))
 * with hash_0 = 64 zeros.  canonical() is the entry as compact JSON with
 * sorted keys and ASCII-only escapes, so any JSON tool reproduces it.
 *
 * journal_append() must run inside a store transaction: the entry becomes
 * durable with the state change it describes, in the same commit.
 * Payloads never carry secrets, only fingerprints.
 *
 * An export is one JSON object per line: the canonical fields plus
 * "prev_hash" and "hash".  journal_verify_stream() needs nothing but that
 * file; it names the first entry that does not chain.
 *
 * A chain file (for audit bundles, see checkpoint.h) has one line per
 * entry: "prev_hash hash canonical", the canonical bytes exactly as
 * hashed, so `printf '%s%s' "$prev" "$canonical" | sha256sum` recomputes
 * each hash without a JSON tool.
 */
#ifndef CORDON_JOURNAL_H
#define CORDON_JOURNAL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

#define JOURNAL_LINE_MAX (1024 * 1024)

/* payload is stolen (may be NULL). */
int	journal_append(struct store *, const char *actor, const char *incident,
	    int64_t action, const char *event, json_t *payload) WARN_UNUSED;
/* The canonical text hashed for an entry; caller frees. */
char	*journal_canonical(int64_t seq, const char *ts, const char *actor,
	    const char *incident, int64_t action, const char *event,
	    json_t *payload);
/* Writes entries (all, or one incident's) as export lines. */
int	journal_export(struct store *, const char *incident, FILE *)
	    WARN_UNUSED;
/* The whole chain as export lines to lines and chain lines to chain. */
int	journal_export_chain(struct store *, FILE *lines, FILE *chain)
	    WARN_UNUSED;
/*
 * Checks a full export.  0 when every line chains from the genesis hash;
 * otherwise -EBADMSG and err names the first bad line and why.
 */
int	journal_verify_stream(FILE *, int64_t *ret_count,
	    char ret_head[HASH_HEX_LEN + 1], char *err, size_t errlen);
/* The same, and chain (not NULL) must hold the matching chain lines. */
int	journal_verify_chain(FILE *, FILE *chain, int64_t *ret_count,
	    char ret_head[HASH_HEX_LEN + 1], char *err, size_t errlen);

#endif
