/*
 * fw_profile: a provider profile -- how one vendor's HTTP API isolates a
 * host -- read from a libconfig file, so adding a vendor is adding a file.
 *
 *   name = "opnsense";
 *   host = "ip";                      # "ip" | "id": what `host` must be
 *   auth = { type = "basic"; };       # basic|header|bearer|login|
 *                                     # oauth2_client_credentials|none
 *                                     # oauth2: token_url, scope
 *   # login: POST body (${key|json}, ${secret|json}) to token_url, the
 *   # token at the path "token" is sent as a Bearer token (JWT logins).
 *   alt_auth = { type = "header"; name = "X-Api-Key";
 *                setting = "api_key_file"; };  # a second credential
 *   vars = { alias = "cordon_quarantine"; };  # defaults, target overrides
 *   max_parallel = 1;                 # cap on the target's max_parallel,
 *                                     # for APIs that fail concurrent writes
 *   retry = { statuses = [429, 503]; max_attempts = 4; backoff = 1.0;
 *             max_wait = 30.0; header = "Retry-After";
 *             form = "delta"; };      # delta | epoch | auto
 *   state = ( STEP... );              # read-only: is the host isolated?
 *   isolated = "$.rows[*].ip == \"${host|json}\"";
 *   isolate = ( STEP... );
 *   release = ( STEP... );
 *
 * A STEP is one request:
 *   { method = "POST"; url = "${base_url|raw}/api/x/${alias|url}";
 *     headers = [ "Content-Type: application/json" ];
 *     body = "{\"address\":\"${host|json}\"}";
 *     # or: form = { type = "user-id"; cmd = "<x>${host|xml}</x>"; };
 *     #     each field expanded, then form-encoded (not with body)
 *     status = [ 200 ];               # accepted statuses (default 2xx)
 *     success = [ "$.status == \"done\"" ];   # all must hold
 *     capture = { action_id = "$.resources[0].id"; };
 *     auth = "alt";                   # profile (default) | alt | none
 *     idempotent = true;              # sending it twice does no harm
 *     poll = { STEP fields; interval = 1.0; deadline = 60.0;
 *              done = [ COND... ]; fail = [ COND... ]; }; }
 *
 * Resending: a GET, or a step marked idempotent, is retried after a
 * timeout or a broken connection and on every retry status.  Any other
 * write is resent only when the server said it did nothing: no
 * connection at all, 429, or 503 with a Retry-After.  After a timeout, a
 * reset or another retry status it fails as "outcome unknown" instead
 * (a second POST could ban twice, or create a second object the undo
 * does not know), and the next check reads what really happened.
 *
 * Every placeholder names its escaping: ${name|json|xml|url|form|raw};
 * raw is refused for the runbook's values (host, reason) and the
 * credentials (key, secret).  Besides the vars, templates see host,
 * reason, incident, action, now (RFC 3339 UTC) and base_url; an undo's
 * release steps also see what the isolation captured.  Unknown keys,
 * a missing field, a bad condition or placeholder are refused as
 * "file:line: message" at load, so a broken profile never reaches a run.
 *
 * Ownership: fw_profile_load() hands over a profile freed with
 * fw_profile_free() (NULL accepted); everything inside belongs to it.
 * Limits: FW_PROFILE_MAX_BYTES per file, FW_MAX_STEPS steps per list,
 * FW_MAX_CONDS conditions, FW_MAX_HEADERS headers, FW_MAX_CAPTURES captures.
 */
#ifndef CORDON_FW_PROFILE_H
#define CORDON_FW_PROFILE_H

#include <stddef.h>

#include <jansson.h>

#define FW_PROFILE_MAX_BYTES	(256 * 1024)
#define FW_MAX_STEPS		8
#define FW_MAX_CONDS		8
#define FW_MAX_HEADERS		16
#define FW_MAX_CAPTURES		8
#define FW_MAX_STATUS		16

enum fw_auth {
	FW_AUTH_NONE,
	FW_AUTH_BASIC,		/* key_file : secret_file */
	FW_AUTH_HEADER,		/* NAME: PREFIX secret_file */
	FW_AUTH_BEARER,		/* Authorization: Bearer secret_file */
	FW_AUTH_OAUTH2,		/* client credentials: key_file, secret_file */
	FW_AUTH_LOGIN,		/* key_file, secret_file -> Bearer token */
};

/* Which credential a step presents. */
enum fw_step_auth { FW_SAUTH_PROFILE, FW_SAUTH_ALT, FW_SAUTH_NONE };

enum fw_host { FW_HOST_IP, FW_HOST_ID };
enum fw_ra_form { FW_RA_DELTA, FW_RA_EPOCH, FW_RA_AUTO };

struct fw_step {
	int		 line;
	char		*method;
	char		*url;
	char		*headers[FW_MAX_HEADERS];
	size_t		 nheaders;
	char		*body;			/* NULL: no body */
	char		*form_name[FW_MAX_HEADERS];	/* form body fields */
	char		*form_val[FW_MAX_HEADERS];	/* their templates */
	size_t		 nform;
	long		 status[FW_MAX_STATUS];
	size_t		 nstatus;		/* 0: any 2xx */
	char		*success[FW_MAX_CONDS];	/* poll: done */
	size_t		 nsuccess;
	char		*fail[FW_MAX_CONDS];	/* any holds: failure */
	size_t		 nfail;
	char		*cap_name[FW_MAX_CAPTURES];
	char		*cap_path[FW_MAX_CAPTURES];
	size_t		 ncap;
	enum fw_step_auth auth;
	int		 idempotent;		/* GET, or marked: may resend */
	struct fw_step	*poll;			/* NULL: synchronous */
	double		 interval, deadline;	/* poll only, seconds */
};

struct fw_steps {
	struct fw_step	*v[FW_MAX_STEPS];
	size_t		 n;
};

struct fw_profile {
	char		*file;
	char		*name;
	enum fw_host	 host;
	enum fw_auth	 auth;
	char		*auth_header;		/* header: its name */
	char		*auth_prefix;		/* header: "ApiToken " */
	char		*token_url;		/* oauth2, login: template */
	char		*login_body;		/* login: template */
	char		*token_path;		/* login: "$.token" */
	enum fw_auth	 alt_auth;		/* NONE, HEADER or BEARER */
	char		*alt_header, *alt_prefix;
	char		*alt_setting;		/* target setting: its file */
	char		*token_scope;		/* oauth2: scope or NULL */
	json_t		*vars;			/* {"alias": "..."}: strings */
	long		 retry_status[FW_MAX_STATUS];
	size_t		 nretry_status;
	int		 max_attempts;
	double		 backoff, max_wait;
	int		 max_parallel;		/* 0: the target decides */
	char		*retry_header;
	enum fw_ra_form	 retry_form;
	struct fw_steps	 state;
	char		*isolated;		/* condition on state's answer */
	struct fw_steps	 isolate;
	struct fw_steps	 release;
};

/*
 * Loads dir/name.profile.  name must be [a-z0-9_-]+.  0, or -errno with
 * err holding "file:line: message".
 */
int	fw_profile_load(const char *dir, const char *name,
	    struct fw_profile **ret, char *err, size_t errlen);
void	fw_profile_free(struct fw_profile *);

#endif
