/*
 * config: the agent's libconfig file, parsed into plain structs.
 *
 * config_load() either returns a complete, validated config or an error
 * "file:line: message" in err; it never returns half a config, so a
 * reload that fails leaves the agent on the previous one.  Targets keep
 * their settings as a JSON object so each driver validates its own keys
 * (driver->target_check) without the core knowing them.
 */
#ifndef CORDON_CONFIG_H
#define CORDON_CONFIG_H

#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "deadline.h"

#define CONFIG_ERR_MAX 512

enum role {
	ROLE_NONE = 0,
	ROLE_AUDITOR = 1,	/* reads queue, actions, journal */
	ROLE_OPERATOR = 2,	/* + opens incidents, plans, runs, undoes */
	ROLE_LEAD = 3,		/* + approves and rejects */
};

enum feed_format {
	FEED_JSONL = 0,		/* the journal export lines */
	FEED_CEF,		/* one ArcSight CEF line per entry */
};

struct role_map {
	char		*user;		/* OS user name, or NULL */
	char		*group;		/* OS group name, or NULL */
	enum role	 role;
};

struct target {
	char		*name;
	char		*type;		/* driver name: "ldap" */
	int		 line;
	json_t		*opts;		/* every other setting, as given */
	struct customer	*customer;
};

/* A named set of targets: a runbook step aimed at it fans out. */
struct target_group {
	char		 *name;
	struct target	**members;
	size_t		  nmembers;
	int		  line;
};

/* Who a secret may be sealed to (cordon secret seal --to NAME). */
struct recipient {
	char		*name;
	char		*cert;		/* PEM certificate, checked at load */
	int		 line;
};

struct customer {
	char		 *name;
	struct target_group *tgroups;
	size_t		  ntgroups;
	struct target	 *targets;
	size_t		  ntargets;
	struct role_map	 *roles;
	size_t		  nroles;
	char		**protected;	/* account names or DNs never touched */
	size_t		  nprotected;
	/* groups (DNs) whose members, nested ones too, are never touched */
	char		**protected_groups;
	size_t		  nprotected_groups;
	int64_t		  two_leads_above; /* run size needing two leads; 0 off */
	enum role	  secret_role;	/* least role that sees vault secrets */
	struct recipient *recipients;
	size_t		  nrecipients;
	struct deadlines  deadlines;	/* rule sets beyond GDPR Art. 33 */
};

struct config {
	char		*path;
	char		*socket_path;
	char		*store_path;
	char		*secrets_dir;
	int64_t		 approval_ttl;	/* seconds; 0 = approvals never expire */
	int64_t		 batch;		/* actions per executor round */
	int64_t		 parallel;	/* targets worked on at once */
	int64_t		 max_actions;	/* cap on one run's size */
	char		*keys_dir;	/* checkpoint keys; <store dir>/keys */
	int64_t		 checkpoint_every;	/* entries between checkpoints */
	int64_t		 checkpoint_minutes;	/* minutes between them */
	char		*feed_file;	/* journal feed, appended; NULL off */
	enum feed_format feed_format;
	json_t		*feeds;		/* agent.feeds: objects, checked; or NULL */
	struct customer	*customers;
	size_t		 ncustomers;
};

int	config_load(const char *path, struct config **ret, char *err,
	    size_t errlen);
void	config_free(struct config *);
struct customer	*config_customer(const struct config *, const char *);
struct target	*config_target(const struct customer *, const char *);
/*
 * A target, or the members of a target group, by name: *ret is a new
 * array (caller frees it, not the targets).  -ENOENT if neither.
 */
int		 config_targets(const struct customer *, const char *,
		    struct target ***ret, size_t *ret_n);
/* The customer's recipient by name, or NULL. */
const struct recipient *config_recipient(const struct customer *,
		    const char *);
/* Highest role uid holds for the customer (by user name or group). */
enum role	 config_role(const struct customer *, uid_t);
const char	*role_name(enum role);

#endif
