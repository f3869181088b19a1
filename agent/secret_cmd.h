/*
 * secret_cmd: what `secret show` and `secret seal` share in the agent.
 */
#ifndef CORDON_SECRET_CMD_H
#define CORDON_SECRET_CMD_H

#include <stdint.h>

#include <jansson.h>

#include "vault.h"

/*
 * The one label action id has in the vault, for requests that name none:
 * *ret points into labels.  NULL, or the error reply.
 */
json_t	*secret_only_label(int64_t id,
	    char labels[VAULT_LABELS][VAULT_LABEL_MAX + 1], const char **ret);

#endif
