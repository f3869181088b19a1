/*
 * checkpoint: signed statements of the journal's size and head, so that an
 * auditor can check a bundle with openssl and sha256sum alone, and so that
 * removing the newest entries is detectable.
 *
 * A checkpoint's text is exactly four lines, each ending in '\n':
 *
 *   cordon-journal/<customer>
 *   <size>                       journal seq covered (decimal, 0 = empty)
 *   <head>                       that entry's hash (64 hex; 64 zeros at 0)
 *   prev <sha256 hex of the previous checkpoint text of this customer>
 *
 * The first checkpoint of a customer has prev = 64 zeros, so checkpoints
 * chain like the journal does.  The signature is the raw 64-byte Ed25519
 * signature (RFC 8032, pure) over those bytes, which is what
 * `openssl pkeyutl -verify -rawin` checks.
 *
 * Keys: one Ed25519 key per customer in keys_dir (mode 0700, ours):
 * <name>.key (PKCS#8 PEM, 0600; refused when group or others may read or
 * write it, as ssh refuses a loose key) and <name>.pub (SubjectPublicKeyInfo
 * PEM), created when missing.  <name> is the customer name when it is made
 * of [A-Za-z0-9._-] and does not start with '.', else "sha256-" and 32 hex
 * digits of its hash.  A key's fingerprint is "SHA256:" + the hex SHA-256
 * of the DER SubjectPublicKeyInfo, i.e.
 *   openssl pkey -pubin -in K.pub -outform DER | sha256sum
 *
 * The library part (text, keys, sign, verify, bundle_verify) never logs;
 * it returns 0 or -errno (-EBADMSG: bad signature or malformed input).
 * The agent part (checkpoint_init/tick/make) keeps one key per customer in
 * module state; checkpoint_make() writes a row of the checkpoints table.
 * Checkpoints are not journal entries: that would make every checkpoint
 * need another one.
 *
 * An audit bundle (`cordon journal export --bundle DIR`) holds:
 *   journal.jsonl        the full chain, the exact export lines
 *   chain.txt            per entry "prev_hash hash canonical-json"
 *   checkpoint.txt/.sig  a fresh checkpoint covering every entry
 *   checkpoints/N.txt/.sig  the customer's stored checkpoints, oldest
 *                        first (at most CHECKPOINT_BUNDLE_MAX, the newest)
 *   pubkey.pem, README.txt
 *
 * `cordon journal export --incident ID DIR` writes the same for one
 * incident, with other entries redacted to their hashes and a signed
 * manifest.txt/.sig (see redact.h).
 */
#ifndef CORDON_CHECKPOINT_H
#define CORDON_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "hash.h"
#include "util.h"

#define CHECKPOINT_ORIGIN	"cordon-journal/"
#define CHECKPOINT_CUSTOMER_MAX	128	/* bytes of a name in the origin */
#define CHECKPOINT_TEXT_MAX	512
#define CHECKPOINT_SIG_LEN	64
#define CHECKPOINT_FP_LEN	(7 + HASH_HEX_LEN)	/* "SHA256:" + hex */
#define CHECKPOINT_KEY_MAX	(16 * 1024)	/* a PEM file we read */
#define CHECKPOINT_BUNDLE_MAX	1000	/* stored checkpoints in a bundle */

struct agent;

/*
 * Formats a checkpoint into out (NUL-terminated); returns its length or
 * -EINVAL (customer empty, too long or holding a control character; head
 * or prev not 64 lowercase hex; size < 0), -ENAMETOOLONG if out is short.
 * prev NULL means the first checkpoint (64 zeros).
 */
int	checkpoint_text(const char *customer, int64_t size, const char *head,
	    const char *prev, char *out, size_t len);
/* Parses exactly the format above; -EBADMSG otherwise. */
int	checkpoint_parse(const char *text, size_t len,
	    char ret_customer[CHECKPOINT_CUSTOMER_MAX + 1], int64_t *ret_size,
	    char ret_head[HASH_HEX_LEN + 1], char ret_prev[HASH_HEX_LEN + 1])
	    WARN_UNUSED;

/*
 * Loads the customer's key from dir, creating dir and the key pair when
 * missing; *ret_created is set to 1 when it made a new key.  -EPERM with
 * *ret_why set for a loose file or directory.  Caller frees *ret with
 * EVP_PKEY_free().
 */
int	checkpoint_key_open(const char *dir, const char *customer,
	    EVP_PKEY **ret, int *ret_created, const char **ret_why)
	    WARN_UNUSED;
/* The key file's base name for customer (see above) into out. */
int	checkpoint_key_name(const char *customer, char *out, size_t len)
	    WARN_UNUSED;
/* Reads an Ed25519 public key (SPKI PEM); caller frees *ret. */
int	checkpoint_pubkey_read(const char *pem, size_t len, EVP_PKEY **ret)
	    WARN_UNUSED;
/* The public key as SPKI PEM; caller frees *ret. */
int	checkpoint_pubkey_pem(EVP_PKEY *, char **ret, size_t *ret_len)
	    WARN_UNUSED;
int	checkpoint_key_fp(EVP_PKEY *, char out[CHECKPOINT_FP_LEN + 1])
	    WARN_UNUSED;

int	checkpoint_sign(EVP_PKEY *, const char *text, size_t len,
	    unsigned char sig[CHECKPOINT_SIG_LEN]) WARN_UNUSED;
/* 0 when sig is a valid signature of text by key; else -EBADMSG. */
int	checkpoint_verify(EVP_PKEY *, const char *text, size_t len,
	    const unsigned char *sig, size_t siglen) WARN_UNUSED;

/*
 * Checks an audit bundle directory without an agent: the signature of
 * checkpoint.txt by pubkey.pem, the hash chain of journal.jsonl (and that
 * chain.txt says the same, line for line), and that the chain's count and
 * head are the checkpoint's size and head.  A bundle with manifest.txt is
 * an incident bundle (redact.h): its manifest must verify too, and only
 * the incident's entries are checked in full.  want_fp, when not NULL, must
 * be the key's fingerprint.  fp and origin customer are filled in as soon
 * as known (also on failure); err says what failed.
 */
struct checkpoint_bundle {
	char	fp[CHECKPOINT_FP_LEN + 1];
	char	customer[CHECKPOINT_CUSTOMER_MAX + 1];
	char	incident[65];	/* an incident bundle's; "" otherwise */
	int64_t	size;
	char	head[HASH_HEX_LEN + 1];
};
int	checkpoint_bundle_verify(const char *dir, const char *want_fp,
	    struct checkpoint_bundle *ret, char *err, size_t errlen);

/*
 * A bundle cut back to one of its earlier checkpoints verifies on its own:
 * only a later checkpoint kept elsewhere (shipped by a feed, or from an
 * earlier bundle) shows it.  After checkpoint_bundle_verify() passed,
 * checks that the bundle reaches known (a checkpoint text as shipped):
 * the same customer, at least its size, and its head is the hash of
 * entry size.  0, or -EBADMSG / -EINVAL with err.
 */
int	checkpoint_bundle_reaches(const char *dir,
	    const struct checkpoint_bundle *b, const char *known, size_t len,
	    char *err, size_t errlen) WARN_UNUSED;
/*
 * Agent side.  checkpoint_init() opens every customer's key (logging its
 * fingerprint for the DPO) and reads the last checkpoint of each; a key
 * that cannot be opened fails the start.  checkpoint_tick() makes a
 * checkpoint for each customer whose last one is checkpoint_every entries
 * or checkpoint_minutes (with new entries) behind; call it from the main
 * loop, outside any transaction.  checkpoint_make() makes one now, for the
 * journal as it is; *ret_id gets its row id.  checkpoint_shutdown() frees
 * the keys.
 */
int	checkpoint_init(struct agent *) WARN_UNUSED;
void	checkpoint_tick(struct agent *);
int	checkpoint_make(struct agent *, const char *customer, int64_t *ret_id)
	    WARN_UNUSED;
/*
 * A register state change (incident opened, updated, notified, closed)
 * was committed: checkpoint the customer's journal now, so the change is
 * signed at once.  Call outside any transaction; a failure is logged and
 * the change stands (the next tick retries).
 */
void	checkpoint_state_change(struct agent *, const char *customer);
/* The customer's key and fingerprint (opened on first use); NULL if none. */
EVP_PKEY *checkpoint_key_of(struct agent *, const char *customer,
	    const char **ret_fp);
void	checkpoint_shutdown(void);

#endif
