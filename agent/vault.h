/*
 * vault: where new secrets go (a generated password, a new private key)
 * so that people can be handed them without the journal, the logs or the
 * operator's terminal ever holding them.
 *
 * The vault is a directory owned by the agent's user, mode 0700 (refused
 * if looser); each secret is one file A<action>-<label>, mode 0600,
 * written to a temporary name, fsync'd and renamed, so a crash never
 * leaves half a secret.  Callers record only the fingerprint vault_put
 * returns.  vault_init() must run before any driver calls vault_put(); a
 * driver that needs the vault while none is configured gets -ENOENT.
 */
#ifndef CORDON_VAULT_H
#define CORDON_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"
#include "util.h"

#define VAULT_LABEL_MAX 32
/*
 * The agent's fingerprint key, in the vault directory (0600, 64 hex
 * digits): made once by vault_init, never journaled or logged; it keys
 * every secret_fp.  Losing it only makes old fingerprints unmatchable.
 */
#define VAULT_FP_KEY	"fp.key"
#define VAULT_LABELS	8	/* labels one action may have */

/*
 * dir NULL: no vault (drivers that need one fail their action).  Loads
 * (or creates) the fingerprint key; -EPERM if it is not owner-only,
 * -EINVAL if it is not 64 hex digits.
 */
int	vault_init(const char *dir) WARN_UNUSED;
/* label: [a-z0-9_-]{1,32}.  fp receives secret_fp() of the data. */
int	vault_put(int64_t action, const char *label, const void *data,
	    size_t len, char fp[24]) WARN_UNUSED;
int	vault_get(int64_t action, const char *label, struct secret **ret)
	    WARN_UNUSED;
/*
 * The labels the vault holds for action id (files "A<id>-<label>"), at
 * most VAULT_LABELS; the count, or -errno (-ENOENT: no vault).
 */
int	vault_labels(int64_t id,
	    char labels[VAULT_LABELS][VAULT_LABEL_MAX + 1]) WARN_UNUSED;
/* The vault directory, or NULL. */
const char	*vault_dir(void);

/*
 * len random characters from alphabet (NULL: letters, digits and
 * "-_.,:+=@%"), drawn from getrandom() without modulo bias.
 */
int	secret_random(size_t len, const char *alphabet, struct secret **ret)
	    WARN_UNUSED;
/* How many characters secret_random draws from (alphabet NULL: default). */
size_t	secret_alphabet_len(const char *alphabet);

#endif
