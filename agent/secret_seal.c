/*
 * secret_seal: `cordon secret seal ACTION [LABEL] --to NAME [-o FILE]`,
 * the hand-over of a vault secret encrypted to a recipient named in the
 * customer's config (recipients = { dpo = "/etc/cordon/dpo.pem"; }), as a
 * CMS envelope the recipient opens with `openssl cms -decrypt` (seal.h).
 *
 * The agent decides, as for `secret show`: the caller needs the
 * customer's secret_role, and an unknown recipient is a refusal too; both
 * are journaled (exit 3).  The sealing is journaled ("secret_sealed":
 * label, the secret's fingerprint, the recipient and the SHA-256 of its
 * certificate, never the secret) and committed before the envelope
 * leaves the agent.  Only ciphertext crosses the socket; the agent's
 * plaintext copy is wiped (secret_free).  The client writes the PEM to
 * FILE (mode 0644: it is encrypted) or to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cli.h"
#include "ctl.h"
#include "journal.h"
#include "log.h"
#include "queue.h"
#include "seal.h"
#include "secret_cmd.h"
#include "vault.h"

#define SEAL_REPLY_MAX	(SEAL_OUT_MAX + 4096)

/* The refusal, journaled with the action. */
static json_t *
seal_allowed(struct agent *ag, const struct caller *c, const struct act *a,
    const char *to, const struct recipient **ret)
{
	const struct customer	*cu = a->customer;

	if (config_role(cu, c->uid) < cu->secret_role)
		return refuse(ag, c, a->incident, a->id, "%s has role '%s' for "
		    "customer '%s'; secrets need '%s'", c->actor,
		    role_name(config_role(cu, c->uid)), cu->name,
		    role_name(cu->secret_role));
	if ((*ret = config_recipient(cu, to)) == NULL)
		return refuse(ag, c, a->incident, a->id, "customer '%s' has "
		    "no recipient '%s' (config: recipients)", cu->name, to);
	return NULL;
}

json_t *
h_secret_seal(struct agent *ag, const struct caller *c, json_t *req)
{
	const char		*aid = json_string_value(json_object_get(req,
	    "action"));
	const char		*label = json_string_value(json_object_get(req,
	    "label"));
	const char		*to = json_string_value(json_object_get(req,
	    "to"));
	const struct recipient	*rc = NULL;
	char			 labels[VAULT_LABELS][VAULT_LABEL_MAX + 1];
	char			 fp[24], cfp[SEAL_FP_LEN], err[512];
	char			*pem = NULL;
	size_t			 plen = 0;
	struct secret		*s = NULL;
	struct act		*a = NULL;
	json_t			*e = NULL;
	int64_t			 id;
	int			 r;

	if (aid == NULL || queue_parse_id(aid, &id) != 0)
		return reply_err(EXIT_USAGE, "bad action id '%s'",
		    aid ? aid : "");
	if (to == NULL || *to == '\0')
		return reply_err(EXIT_USAGE, "seal needs --to RECIPIENT");
	if (queue_load(ag->store, ag->cfg, id, &a) != 0)
		return reply_err(EXIT_USAGE, "no action A%lld", (long long)id);
	if (a->customer == NULL) {
		e = reply_err(EXIT_USAGE, "action A%lld belongs to a customer "
		    "no longer configured", (long long)id);
		goto out;
	}
	if ((e = seal_allowed(ag, c, a, to, &rc)) != NULL)
		goto out;
	if (label == NULL && (e = secret_only_label(id, labels, &label)) !=
	    NULL)
		goto out;
	if ((r = vault_get(id, label, &s)) != 0) {
		e = reply_err(r == -EINVAL ? EXIT_USAGE : EXIT_FAILED,
		    "A%lld has no readable secret '%s': %s", (long long)id,
		    label, strerror(-r));
		goto out;
	}
	secret_fp(s, fp);
	if ((r = seal_cms(rc->cert, s->s, s->len, &pem, &plen, cfp, err,
	    sizeof(err))) != 0) {
		e = reply_err(EXIT_FAILED, "cannot seal to '%s': %s", to, err);
		goto out;
	}
	secret_free(s);
	s = NULL;
	/* The record first: no envelope leaves without its entry. */
	if ((r = store_begin(ag->store)) == 0) {
		r = journal_append(ag->store, c->actor, a->incident, id,
		    "secret_sealed", json_pack("{s:s,s:s,s:s,s:s,s:s}",
		    "label", label, "fingerprint", fp, "recipient", to,
		    "cert_sha256", cfp, "format", "cms-aes256gcm-pem"));
		if (r == 0)
			r = store_commit(ag->store);
		else
			store_rollback(ag->store);
	}
	if (r != 0) {
		e = reply_err(EXIT_FAILED, "cannot journal the sealing: %s",
		    store_errmsg(ag->store));
		goto out;
	}
	log_info("A%lld: secret '%s' (%s) sealed to '%s' (certificate "
	    "sha256 %.16s) for %s", (long long)id, label, fp, to, cfp,
	    c->actor);
	e = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s%}", "ok", 1, "label", label,
	    "fingerprint", fp, "recipient", to, "cert_sha256", cfp, "pem",
	    pem, plen);
out:
	free(pem);
	secret_free(s);
	act_free(a);
	return e;
}

/* The agent's message, control characters escaped for the terminal. */
static void
err_safe(const char *s)
{
	const unsigned char	*p;

	(void)fputs("cordon: ", stderr);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			(void)fprintf(stderr, "\\x%02x", *p);
		else
			(void)fputc(*p, stderr);
	}
	(void)fputc('\n', stderr);
}

static void
seal_usage(void)
{
	cmd_usage(cmd_find("secret"));
}

/* argv: "secret" "seal" ACTION [LABEL] --to NAME [-o FILE] */
int
cmd_secret_seal(int argc, char **argv)
{
	const char	*action = NULL, *label = NULL, *to = NULL;
	const char	*outp = NULL, *pem, *msg;
	json_t		*req, *rep = NULL;
	int		 i, fd = -1, ofd = -1, r;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			outp = argv[++i];
		else if (argv[i][0] == '-' || label != NULL) {
			seal_usage();
			return EXIT_USAGE;
		} else if (action == NULL)
			action = argv[i];
		else
			label = argv[i];
	}
	if (action == NULL || to == NULL) {
		seal_usage();
		return EXIT_USAGE;
	}
	req = json_pack("{s:s,s:s,s:s}", "cmd", "secret_seal", "action",
	    action, "to", to);
	if (label != NULL)
		(void)json_object_set_new(req, "label", json_string(label));
	if ((fd = ctl_connect(cli_socket)) < 0) {
		json_decref(req);
		(void)fprintf(stderr, "cordon: cannot reach the agent at '%s': "
		    "%s\n", cli_socket, strerror(-fd));
		return EXIT_UNREACHABLE;
	}
	r = ctl_send(fd, req);
	json_decref(req);
	if (r != 0 || (r = ctl_recv(fd, SEAL_REPLY_MAX, &rep)) != 0) {
		(void)fprintf(stderr, "cordon: agent at '%s' did not answer: "
		    "%s\n", cli_socket, strerror(-r));
		r = EXIT_UNREACHABLE;
		goto out;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		msg = json_string_value(json_object_get(rep, "error"));
		err_safe(msg ? msg : "-");
		r = (int)json_integer_value(json_object_get(rep, "exit"));
		if (r == 0)
			r = EXIT_FAILED;
		goto out;
	}
	if ((pem = json_string_value(json_object_get(rep, "pem"))) == NULL ||
	    strncmp(pem, "-----BEGIN CMS-----", 19) != 0) {
		(void)fprintf(stderr, "cordon: the agent sent no envelope\n");
		r = EXIT_FAILED;
		goto out;
	}
	if (outp != NULL && (ofd = open(outp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		(void)fprintf(stderr, "cordon: cannot write '%s': %s\n", outp,
		    strerror(errno));
		r = EXIT_FAILED;
		goto out;
	}
	if ((r = fd_write_all(ofd >= 0 ? ofd : STDOUT_FILENO, pem,
	    strlen(pem))) != 0 || (ofd >= 0 && fsync(ofd) != 0)) {
		(void)fprintf(stderr, "cordon: cannot write the envelope: "
		    "%s\n", strerror(r ? -r : errno));
		r = EXIT_FAILED;
		goto out;
	}
	(void)fprintf(stderr, "cordon: %s secret '%s' %s sealed to '%s' "
	    "(certificate sha256 %s); this is journaled\n"
	    "cordon: the recipient opens it with: openssl cms -decrypt -in "
	    "FILE -inform PEM -inkey KEY -recip CERT\n", action,
	    json_string_value(json_object_get(rep, "label")),
	    json_string_value(json_object_get(rep, "fingerprint")),
	    json_string_value(json_object_get(rep, "recipient")),
	    json_string_value(json_object_get(rep, "cert_sha256")));
	r = EXIT_OK;
out:
	if (ofd >= 0 && close(ofd) != 0 && r == EXIT_OK) {
		(void)fprintf(stderr, "cordon: cannot write '%s': %s\n", outp,
		    strerror(errno));
		r = EXIT_FAILED;
	}
	if (fd >= 0)
		(void)close(fd);
	json_decref(rep);
	return r;
}
