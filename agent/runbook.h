/*
 * runbook: a libconfig file of typed parameters and steps, and its
 * expansion into actions.
 *
 *   params = ( { name = "accounts"; type = "list"; required = true; } );
 *   steps = ( { name = "lock"; verb = "ldap.disable_account";
 *               target = "corp-ldap"; foreach = "${accounts}";
 *               args = { account = "${item}"; };
 *               approval = "required"; on_failure = "stop"; } );
 *
 * Parameter values reach drivers as JSON strings, never pasted into a
 * protocol: each driver escapes for the place a value lands (an LDAP
 * filter, a shell word, a URL).  Every error is "file:line: message".
 * A foreach that resolves to nothing is an error, never "all".
 */
#ifndef CORDON_RUNBOOK_H
#define CORDON_RUNBOOK_H

#include <stddef.h>

#include <jansson.h>

#include "act.h"
#include "config.h"
#include "hash.h"

#define RUNBOOK_MAX_BYTES	(1024 * 1024)
#define RUNBOOK_VALUE_MAX	1024	/* one parameter value, in bytes */

enum rb_type { RB_STRING, RB_LIST, RB_INT, RB_BOOL };

struct rb_param {
	char		*name;
	enum rb_type	 type;
	int		 required;
	int		 line;
	char		*def;
};

struct rb_step {
	char		*name;
	char		*verb;		/* "ldap.disable_account" */
	char		*target;
	char		*foreach;	/* "${accounts}" or NULL */
	json_t		*args;		/* {"account": "${item}"} */
	int		 approval_required;
	int		 stop_on_fail;
	int		 line;
};

struct runbook {
	char		*file;
	char		*name;
	char		*description;
	struct rb_param	*params;
	size_t		 nparams;
	struct rb_step	*steps;
	size_t		 nsteps;
	char		 sha[HASH_HEX_LEN + 1];	/* of the text */
};

int	runbook_parse(const char *file, const char *text, struct runbook **ret,
	    char *err, size_t errlen);
void	runbook_free(struct runbook *);

/*
 * Expands steps for a customer with given values ({"accounts": "a,b"} or
 * {"accounts": ["a","b"]}) into acts (owned by the caller, freed with
 * act_free), at most max of them.  Fills verb, target, customer, params,
 * step, approval_required; the queue fills the rest.
 */
int	runbook_expand(const struct runbook *, const struct customer *,
	    json_t *given, size_t max, struct act ***ret, size_t *ret_n,
	    char *err, size_t errlen);

#endif
