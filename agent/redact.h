/*
 * redact: one incident's audit bundle out of a journal that is a single
 * hash chain across incidents and customers.
 *
 * The bundle holds the whole chain, up to the head a fresh checkpoint
 * signs, but every entry of another incident (or of none) is reduced to
 * its position and hashes:
 *
 *   journal.jsonl  {"hash":"H","prev_hash":"P","redacted":true,"seq":N}
 *   chain.txt      P H -
 *
 * The incident's own entries are there in full, as in any export.  An
 * auditor recomputes the hash of every full entry and follows the links
 * through the redacted ones: as each full entry's hash covers its
 * prev_hash, and the signed head covers them all, no entry -- full or
 * redacted -- can be edited, dropped, reordered or added without breaking
 * the chain or the signature.  What a redacted entry said is not checked
 * (nor shown): the price of not handing other customers' records to this
 * incident's auditor.  The alternative, every entry up to the incident's
 * newest in full, verifies more but discloses everything else.
 *
 * Redacting a full entry keeps the chain intact, so the bundle also holds
 * a signed manifest (same key as the checkpoints, another first line):
 *
 *   cordon-bundle/<customer>
 *   incident <id>
 *   entries <seq>,<seq>,...           (or "entries none")
 *   journal.jsonl <sha256 hex>
 *   chain.txt <sha256 hex>
 *   checkpoint.txt <sha256 hex>
 *
 * in manifest.txt, its raw Ed25519 signature in manifest.sig: the files
 * as exported, and which entries were in full.
 */
#ifndef CORDON_REDACT_H
#define CORDON_REDACT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "hash.h"
#include "store.h"
#include "util.h"

#define REDACT_ORIGIN		"cordon-bundle/"
#define REDACT_MANIFEST_MAX	(4 * 1024 * 1024)
#define REDACT_INCIDENT_MAX	64

/*
 * Writes the redacted chain as export lines and chain lines; *ret_seqs
 * gets a new array of the seqs written in full.
 */
int	redact_export(struct store *, const char *incident, FILE *lines,
	    FILE *chain, json_t **ret_seqs) WARN_UNUSED;
/* SHA-256 of f from its start (f is left at its end). */
int	redact_file_sha(FILE *, char out[HASH_HEX_LEN + 1]) WARN_UNUSED;
/* The manifest text above; caller frees. */
char	*redact_manifest(const char *customer, const char *incident,
	    const json_t *seqs, const char *sha_journal, const char *sha_chain,
	    const char *sha_checkpoint);
/*
 * Checks a redacted export (lines + chain) as above: every full entry
 * belongs to incident and hashes right, every link holds.  *ret_count,
 * ret_head as journal_verify_chain(); *ret_seqs the full entries' seqs
 * (a new array).  0, or -EBADMSG with err.
 */
int	redact_verify(FILE *lines, FILE *chain, const char *incident,
	    int64_t *ret_count, char ret_head[HASH_HEX_LEN + 1],
	    json_t **ret_seqs, char *err, size_t errlen) WARN_UNUSED;
/*
 * Parses manifest text; fills customer, incident, the seqs (new array)
 * and the three hashes.  0 or -EBADMSG.
 */
struct redact_manifest {
	char	 customer[129];
	char	 incident[REDACT_INCIDENT_MAX + 1];
	json_t	*seqs;
	char	 sha_journal[HASH_HEX_LEN + 1];
	char	 sha_chain[HASH_HEX_LEN + 1];
	char	 sha_checkpoint[HASH_HEX_LEN + 1];
};
int	redact_manifest_parse(const char *text, size_t len,
	    struct redact_manifest *) WARN_UNUSED;

#endif
