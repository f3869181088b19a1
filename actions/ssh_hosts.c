/*
 * ssh_hosts: `cordon hosts show|scan|trust`, the one way a host key gets
 * into a target's pinned known_hosts.
 *
 * show and scan connect (no authentication), print the server's SHA-256
 * fingerprint and whether the pinned file accepts it; they change
 * nothing.  trust is the explicit operator decision the driver never
 * takes by itself:
 *
 *   - a lead only: a pinned key decides which machine receives the new
 *     passwords and keys cordon sends, so trusting one is as weighty as
 *     approving an action (operators may look, with show);
 *   - the fingerprint the lead typed (checked out of band) must equal the
 *     one the server presents now, or nothing is written;
 *   - a host already pinned to another key (CHANGED/OTHER) is refused
 *     unless --replace, which removes only that host's own lines (a line
 *     shared with other hosts or a wildcard is left to a human);
 *   - the new file is written beside the old one, must make libssh answer
 *     SSH_KNOWN_HOSTS_OK on the same connection, and only then is renamed
 *     over it, in the same store transaction as the "host_trusted" journal
 *     entry (who, target, old and new fingerprints).
 * Every refusal is journaled (exit 3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "../agent/agent.h"
#include "../agent/driver.h"
#include "../agent/journal.h"
#include "../agent/log.h"
#include "../agent/pool.h"
#include "ssh_conn.h"

#define KH_MAX		(1024 * 1024)	/* known_hosts bytes */
#define KH_OLD_MAX	16		/* old keys named in the journal */

/* A target reached over SSH (its driver opens ssh_conn sessions). */
static int
ssh_reached(const struct target *t)
{
	const struct driver	*d = driver_find(t->type);

	return d != NULL && d->open == ssh_conn_vopen;
}

/* TARGET [in CUSTOMER]: exactly one SSH-reached target; NULL + *e. */
static struct target *
find_target(struct agent *ag, json_t *req, json_t **e)
{
	const char	*name = json_string_value(json_object_get(req,
	    "target"));
	const char	*cust = json_string_value(json_object_get(req,
	    "customer"));
	struct target	*t, *found = NULL;
	size_t		 i, n = 0;

	*e = NULL;
	if (name == NULL) {
		*e = reply_err(EXIT_USAGE, "no target given");
		return NULL;
	}
	for (i = 0; i < ag->cfg->ncustomers; i++) {
		struct customer *cu = &ag->cfg->customers[i];

		if (cust && strcmp(cust, cu->name) != 0)
			continue;
		if ((t = config_target(cu, name)) != NULL) {
			found = t;
			n++;
		}
	}
	if (n == 0)
		*e = reply_err(EXIT_USAGE, "no target '%s'%s%s", name,
		    cust ? " for customer " : "", cust ? cust : "");
	else if (n > 1)
		*e = reply_err(EXIT_USAGE, "target '%s' exists for several "
		    "customers: name one with --customer", name);
	else if (!ssh_reached(found))
		*e = reply_err(EXIT_USAGE, "target '%s' is of type '%s', not "
		    "reached over SSH", name, found->type);
	return *e ? NULL : found;
}

static const char *
known_word(enum ssh_known_hosts_e k)
{
	switch (k) {
	case SSH_KNOWN_HOSTS_OK: return "ok";
	case SSH_KNOWN_HOSTS_CHANGED: return "changed";
	case SSH_KNOWN_HOSTS_OTHER: return "other";
	case SSH_KNOWN_HOSTS_UNKNOWN: return "unknown";
	case SSH_KNOWN_HOSTS_NOT_FOUND: return "not_found";
	default: return "error";
	}
}

static json_t *
probe_json(const struct target *t)
{
	struct ssh_hostkey	 hk;
	char			 err[512];
	json_t			*o;

	o = json_pack("{s:s,s:s,s:s,s:I,s:s}", "customer", t->customer->name,
	    "target", t->name, "host", ssh_opt_str(t, "host"), "port",
	    (json_int_t)ssh_opt_int(t, "port", 22), "known_hosts",
	    ssh_opt_str(t, "known_hosts"));
	if (ssh_hostkey_probe(t, &hk, err, sizeof(err)) != 0) {
		(void)json_object_set_new(o, "status",
		    json_string("unreachable"));
		(void)json_object_set_new(o, "error", json_string(err));
		return o;
	}
	(void)json_object_set_new(o, "key_type", json_string(hk.type));
	(void)json_object_set_new(o, "fingerprint", json_string(hk.fp));
	(void)json_object_set_new(o, "status",
	    json_string(known_word(hk.known)));
	(void)json_object_set_new(o, "verdict",
	    json_string(ssh_known_name(hk.known)));
	ssh_hostkey_free(&hk);
	return o;
}

json_t *
h_hosts_show(struct agent *ag, const struct caller *c, json_t *req)
{
	struct target	*t;
	json_t		*e, *rep;

	if ((t = find_target(ag, req, &e)) == NULL)
		return e;
	if ((e = require_role(ag, c, t->customer, ROLE_OPERATOR, NULL)))
		return e;
	rep = reply_ok();
	(void)json_object_set_new(rep, "hosts", json_pack("[o]",
	    probe_json(t)));
	return rep;
}

struct scan {
	const struct target	**t;
	json_t			**out;
};

static void
scan_one(void *ctx, size_t i)
{
	struct scan	*sc = ctx;

	sc->out[i] = probe_json(sc->t[i]);
}

/*
 * Every SSH-reached target the caller may see, probed agent.parallel at a
 * time: the agent answers nobody else meanwhile, so a scan of hundreds of
 * hosts, some of them down, must not wait for each in turn.
 */
json_t *
h_hosts_scan(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*cust = json_string_value(json_object_get(req,
	    "customer"));
	struct scan	 sc;
	json_t		*rep, *list = json_array();
	size_t		 i, k, n = 0, max = 0;

	for (i = 0; i < ag->cfg->ncustomers; i++)
		max += ag->cfg->customers[i].ntargets;
	sc.t = xcalloc(max ? max : 1, sizeof(*sc.t));
	sc.out = xcalloc(max ? max : 1, sizeof(*sc.out));
	for (i = 0; i < ag->cfg->ncustomers; i++) {
		struct customer *cu = &ag->cfg->customers[i];

		if ((cust && strcmp(cust, cu->name) != 0) ||
		    config_role(cu, c->uid) < ROLE_OPERATOR)
			continue;
		for (k = 0; k < cu->ntargets; k++)
			if (ssh_reached(&cu->targets[k]))
				sc.t[n++] = &cu->targets[k];
	}
	pool_run(n, NULL, (int)ag->cfg->parallel, scan_one, &sc);
	for (i = 0; i < n; i++)
		(void)json_array_append_new(list, sc.out[i]);
	free(sc.t);
	free(sc.out);
	rep = reply_ok();
	(void)json_object_set_new(rep, "hosts", list);
	return rep;
}

/*
 * The candidate known_hosts: file minus the lines pinning host (when
 * replace), plus entry.  The old keys' fingerprints go into olds.
 * 0, or -EPERM with why (a shared or wildcard line pins the host).
 */
static int
kh_rewrite(const char *file, size_t len, const char *host,
    const char *entry, int replace, struct buf *out, json_t *olds,
    const char **why)
{
	const char	*p = file, *end = file + len, *e;
	char		*line, fp[128];
	size_t		 n;
	int		 r = 0;

	while (p < end && r == 0) {
		struct ssh_knownhosts_entry *ke = NULL;

		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		n = (size_t)(e - p);
		line = xmalloc(n + 1);
		memcpy(line, p, n);
		line[n] = '\0';
		/* A match names one of host's keys (plain, hashed, pattern). */
		if (line[0] != '#' && line[0] != '@' &&
		    ssh_known_hosts_parse_line(host, line, &ke) == SSH_OK) {
			if (ke->publickey && json_array_size(olds) <
			    KH_OLD_MAX && ssh_key_fp(ke->publickey, fp,
			    sizeof(fp)) == 0)
				(void)json_array_append_new(olds,
				    json_string(fp));
			if (replace && strcspn(line, ",*?! \t") < strcspn(line,
			    " \t")) {
				*why = "a line that also names other hosts "
				    "(or a pattern) pins this host: edit that "
				    "known_hosts by hand";
				r = -EPERM;
			}
			ssh_knownhosts_entry_free(ke);
			if (replace) {
				free(line);
				p = e + 1;
				continue;
			}
		}
		if (buf_add(out, p, n) != 0 || buf_addc(out, '\n') != 0) {
			*why = "known_hosts too large";
			r = -E2BIG;
		}
		free(line);
		p = e + 1;
	}
	if (r == 0 && buf_adds(out, entry) != 0) {
		*why = "known_hosts too large";
		r = -E2BIG;
	}
	if (r == 0 && (out->len == 0 || out->p[out->len - 1] != '\n') &&
	    buf_addc(out, '\n') != 0)
		r = -E2BIG;
	return r;
}

/*
 * Writes the candidate beside the pinned file and asks libssh, on the
 * live connection, whether it now accepts the key.  0 with the candidate
 * left at *cand (the caller renames or unlinks it).
 */
static int
kh_candidate(struct ssh_hostkey *hk, const char *kh, const struct buf *b,
    unsigned int mode, char *cand, size_t candlen, const char **why)
{
	int	n, r;

	n = snprintf(cand, candlen, "%s.cordon-new", kh);
	if (n < 0 || (size_t)n >= candlen) {
		*why = "known_hosts path too long";
		return -ENAMETOOLONG;
	}
	if ((r = write_file_atomic(cand, b->p, b->len, mode)) != 0) {
		*why = "cannot write beside known_hosts";
		return r;
	}
	if (ssh_options_set(hk->s, SSH_OPTIONS_KNOWNHOSTS, cand) != 0 ||
	    ssh_session_is_known_server(hk->s) != SSH_KNOWN_HOSTS_OK) {
		(void)unlink(cand);
		*why = "the rewritten known_hosts still does not accept the "
		    "key (another line pins this host): edit it by hand";
		return -EPERM;
	}
	return 0;
}

json_t *
h_hosts_trust(struct agent *ag, const struct caller *c, json_t *req)
{
	const char		*want = json_string_value(json_object_get(req,
	    "fingerprint"));
	int			 replace = json_is_true(json_object_get(req,
	    "replace"));
	struct ssh_hostkey	 hk;
	struct target		*t;
	struct stat		 st;
	struct buf		 b;
	const char		*kh, *why = NULL;
	char			 err[512], cand[4096], *entry = NULL, *host;
	char			*file = NULL;
	size_t			 flen = 0;
	json_t			*e, *olds = json_array();
	int			 r, known;

	memset(&hk, 0, sizeof(hk));
	buf_init(&b, KH_MAX);
	cand[0] = '\0';
	if ((t = find_target(ag, req, &e)) == NULL)
		goto out;
	if ((e = require_role(ag, c, t->customer, ROLE_LEAD, NULL)))
		goto out;
	if (want == NULL || strncmp(want, "SHA256:", 7) != 0 ||
	    strlen(want) < 8 || strlen(want) > 100) {
		e = reply_err(EXIT_USAGE, "--fingerprint must be the server's "
		    "SHA256:... fingerprint, checked out of band");
		goto out;
	}
	kh = ssh_opt_str(t, "known_hosts");
	if ((r = ssh_hostkey_probe(t, &hk, err, sizeof(err))) != 0) {
		e = reply_err(EXIT_FAILED, "target '%s': %s", t->name, err);
		goto out;
	}
	known = hk.known;
	if (strcmp(hk.fp, want) != 0) {
		e = refuse(ag, c, NULL, 0, "target '%s': the server presents "
		    "%s, not %s; nothing written", t->name, hk.fp, want);
		goto out;
	}
	if (known == SSH_KNOWN_HOSTS_OK) {
		e = reply_ok();
		(void)json_object_set_new(e, "note", json_string("already "
		    "pinned; nothing written"));
		(void)json_object_set_new(e, "fingerprint",
		    json_string(hk.fp));
		goto out;
	}
	if (known != SSH_KNOWN_HOSTS_UNKNOWN &&
	    known != SSH_KNOWN_HOSTS_CHANGED &&
	    known != SSH_KNOWN_HOSTS_OTHER) {
		e = reply_err(EXIT_FAILED, "target '%s': %s", t->name,
		    ssh_known_name(hk.known));
		goto out;
	}
	if (!replace && known != SSH_KNOWN_HOSTS_UNKNOWN) {
		e = refuse(ag, c, NULL, 0, "target '%s': %s; the server "
		    "presents %s; nothing written (to replace the pinned key "
		    "of this host, add --replace)", t->name,
		    ssh_known_name(hk.known), hk.fp);
		goto out;
	}
	if (lstat(kh, &st) != 0 || !S_ISREG(st.st_mode) ||
	    read_file(kh, KH_MAX, &file, &flen) != 0) {
		e = reply_err(EXIT_FAILED, "known_hosts '%s': cannot read", kh);
		goto out;
	}
	if (ssh_session_export_known_hosts_entry(hk.s, &entry) != SSH_OK ||
	    (host = strchr(entry, ' ')) == NULL) {
		e = reply_err(EXIT_FAILED, "cannot format the known_hosts "
		    "entry");
		goto out;
	}
	*host = '\0';
	host = xstrdup(entry);
	entry[strlen(host)] = ' ';
	r = kh_rewrite(file, flen, host, entry, replace, &b, olds, &why);
	free(host);
	if (r == 0)
		r = kh_candidate(&hk, kh, &b, st.st_mode & 0755, cand,
		    sizeof(cand), &why);
	if (r != 0) {
		cand[0] = '\0';
		e = refuse(ag, c, NULL, 0, "target '%s': %s; nothing written",
		    t->name, why);
		goto out;
	}
	/* The record and the file change together. */
	if ((r = store_begin(ag->store)) == 0) {
		r = journal_append(ag->store, c->actor, NULL, 0,
		    "host_trusted", json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,"
		    "s:O,s:b}", "customer", t->customer->name, "target",
		    t->name, "host", ssh_opt_str(t, "host"), "port",
		    (json_int_t)ssh_opt_int(t, "port", 22), "known_hosts", kh,
		    "key_type", hk.type, "fingerprint", hk.fp,
		    "old_fingerprints", olds, "replaced", replace &&
		    json_array_size(olds) > 0));
		if (r == 0 && rename(cand, kh) != 0)
			r = -errno;
		if (r == 0) {
			cand[0] = '\0';
			if ((r = store_commit(ag->store)) != 0 &&
			    write_file_atomic(kh, file, flen,
			    st.st_mode & 0755) != 0)
				log_warnx("hosts trust: journal commit failed "
				    "and '%s' could not be put back", kh);
		}
		if (r != 0)
			store_rollback(ag->store);
	}
	if (r != 0) {
		e = reply_err(EXIT_FAILED, "target '%s': cannot record the "
		    "change: %s; nothing written", t->name, strerror(-r));
		goto out;
	}
	log_info("%s pinned %s for target '%s' (%s)", c->actor, hk.fp,
	    t->name, kh);
	e = reply_ok();
	(void)json_object_set_new(e, "fingerprint", json_string(hk.fp));
	(void)json_object_set_new(e, "old_fingerprints", json_incref(olds));
	(void)json_object_set_new(e, "known_hosts", json_string(kh));
out:
	if (cand[0])
		(void)unlink(cand);
	ssh_string_free_char(entry);
	ssh_hostkey_free(&hk);
	buf_free(&b);
	free(file);
	json_decref(olds);
	return e;
}
