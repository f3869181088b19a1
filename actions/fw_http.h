/*
 * fw_http: runs a provider profile's steps over HTTPS with libcurl.
 *
 * One struct fw_http per open target: a curl multi handle (bounded
 * parallel transfers, connections kept alive and reused across a batch),
 * the target's credentials and, for OAuth2, the cached access token.  A
 * struct fw_job is one act's walk through a list of steps: each step is
 * requested (retried on the profile's statuses, honouring Retry-After as
 * delta seconds, an absolute epoch or an HTTP date, within max_wait),
 * judged (status set, then fail/success conditions on the answer as
 * JSON, or as raw text for non-JSON answers), its captures added
 * to the job's variables, and -- if it has a poll -- polled at its
 * interval until done, failed or past its deadline.  A 401 under OAuth2
 * drops the token and retries once with a fresh one; auth type login
 * fetches and refreshes its token the same way.  A step with
 * auth = "alt" presents the profile's second credential instead.  A
 * step's body is a JSON (or any) template, or form fields sent
 * x-www-form-urlencoded.
 *
 * TLS: peers are always verified (CA from ca_file, else the system's),
 * only https is spoken and redirects are not followed.  Secrets go into
 * request headers, and into the body of a token or login request only;
 * they are wiped when freed and never appear in a job's message.  Library
 * code: nothing here logs.
 *
 * Ownership: fw_http_new() takes key and secret (either may be NULL) and
 * frees them with the handle; the profile must outlive it.  fw_job_new()
 * takes vars.  Limits: FW_RESP_MAX bytes per response body, max_parallel
 * transfers at once (1..FW_PARALLEL_MAX).
 */
#ifndef CORDON_FW_HTTP_H
#define CORDON_FW_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "../agent/secret.h"
#include "fw_profile.h"

#define FW_RESP_MAX	(1024 * 1024)
#define FW_PARALLEL_MAX	64
#define FW_MSG_MAX	256

struct fw_http;

struct fw_job {
	/* In: the steps and the variables (host, reason, base_url, vars). */
	const struct fw_steps	*steps;
	json_t			*vars;		/* owned; captures land here */

	/* Out, once fw_http_run() returns. */
	int			 ok;		/* every step succeeded */
	char			 msg[FW_MSG_MAX];
	long			 status;	/* of the last response */
	json_t			*body;		/* last response as JSON or NULL */
	char			*text;		/* last response as text or NULL */
	int			 requests;	/* sent, retries included */

	/* Private to fw_http. */
	size_t			 si;
	int			 polling, attempt, refreshed, done, inflight;
	double			 next_at, poll_deadline;
	void			*easy;
	void			*hdrs;
	char			*req_body;
	char			*resp;
	size_t			 resp_len;
	int			 resp_over;
	char			 errbuf[256];
};

/* cache_key names the target whose OAuth2 token may be reused. */
struct fw_http	*fw_http_new(const struct fw_profile *, const char *cache_key,
		    const char *ca_file, int max_parallel, long timeout_s,
		    struct secret *key, struct secret *secret);
void		 fw_http_free(struct fw_http *);
/* The profile's alt_auth credential (taken; NULL accepted). */
void		 fw_http_set_alt(struct fw_http *, struct secret *alt);

struct fw_job	*fw_job_new(const struct fw_steps *, json_t *vars);
void		 fw_job_free(struct fw_job *);

/*
 * Runs every job to its end.  Per-job results go into each job; the
 * return value is 0, or -errno when nothing could be attempted.
 */
int		 fw_http_run(struct fw_http *, struct fw_job **, size_t n);

#endif
