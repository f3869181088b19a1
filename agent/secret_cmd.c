/*
 * secret_cmd: `cordon secret show ACTION [LABEL]`, the hand-over of a
 * secret a driver put into the vault (a rotated password, a new private
 * key).
 *
 * The agent decides: the caller needs the customer's secret_role (a lead
 * unless the config says otherwise); a refusal is journaled (exit 3).
 * Each viewing is journaled ("secret_viewed": label and fingerprint, never
 * the secret) and committed before a byte of the secret leaves the agent.
 * The secret then travels as raw bytes after the JSON header (it never
 * enters a jansson string, which could not be wiped), and the client
 * writes it to stdout only.  Both sides wipe their copies.
 */
#include <errno.h>
#include <poll.h>
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
#include "secret_cmd.h"
#include "vault.h"

#define SECRET_HDR_MAX	(64 * 1024)

json_t *
secret_only_label(int64_t id, char labels[VAULT_LABELS][VAULT_LABEL_MAX + 1],
    const char **ret)
{
	int	n;

	if ((n = vault_labels(id, labels)) < 0)
		return reply_err(EXIT_FAILED, "cannot read the vault: %s",
		    n == -ENOENT ? "no secrets_dir configured" :
		    strerror(-n));
	if (n == 0)
		return reply_err(EXIT_FAILED, "A%lld has no secret",
		    (long long)id);
	if (n > 1)
		return reply_err(EXIT_USAGE, "A%lld has %d secrets (%s, %s%s): "
		    "name one", (long long)id, n, labels[0], labels[1],
		    n > 2 ? ", ..." : "");
	*ret = labels[0];
	return NULL;
}

json_t *
h_secret_show(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*aid = json_string_value(json_object_get(req,
	    "action"));
	const char	*label = json_string_value(json_object_get(req,
	    "label"));
	char		 labels[VAULT_LABELS][VAULT_LABEL_MAX + 1], fp[24];
	struct secret	*s = NULL;
	struct act	*a = NULL;
	json_t		*e = NULL, *hdr;
	int64_t		 id;
	int		 r;

	if (aid == NULL || queue_parse_id(aid, &id) != 0)
		return reply_err(EXIT_USAGE, "bad action id '%s'",
		    aid ? aid : "");
	if (queue_load(ag->store, ag->cfg, id, &a) != 0)
		return reply_err(EXIT_USAGE, "no action A%lld", (long long)id);
	if (a->customer == NULL) {
		e = reply_err(EXIT_USAGE, "action A%lld belongs to a customer "
		    "no longer configured", (long long)id);
		goto out;
	}
	/* Journaled with the action, so an auditor sees who tried what. */
	if (config_role(a->customer, c->uid) < a->customer->secret_role) {
		e = refuse(ag, c, a->incident, id, "%s has role '%s' for "
		    "customer '%s'; secrets need '%s'", c->actor,
		    role_name(config_role(a->customer, c->uid)),
		    a->customer->name, role_name(a->customer->secret_role));
		goto out;
	}
	if (label == NULL &&
	    (e = secret_only_label(id, labels, &label)) != NULL)
		goto out;
	if ((r = vault_get(id, label, &s)) != 0) {
		e = reply_err(r == -EINVAL ? EXIT_USAGE : EXIT_FAILED,
		    "A%lld has no readable secret '%s': %s", (long long)id,
		    label, strerror(-r));
		goto out;
	}
	secret_fp(s, fp);
	/* The record first: no viewing without its journal entry. */
	if ((r = store_begin(ag->store)) == 0) {
		r = journal_append(ag->store, c->actor, a->incident, id,
		    "secret_viewed", json_pack("{s:s,s:s}", "label", label,
		    "fingerprint", fp));
		if (r == 0)
			r = store_commit(ag->store);
		else
			store_rollback(ag->store);
	}
	if (r != 0) {
		e = reply_err(EXIT_FAILED, "cannot journal the viewing: %s",
		    store_errmsg(ag->store));
		goto out;
	}
	log_info("A%lld: secret '%s' (%s) shown to %s", (long long)id, label,
	    fp, c->actor);
	hdr = json_pack("{s:b,s:b,s:s,s:s,s:I}", "ok", 1, "stream", 1,
	    "label", label, "fingerprint", fp, "length", (json_int_t)s->len);
	if (ctl_send(c->fd, hdr) != 0 ||
	    ctl_write_all(c->fd, s->s, s->len) != 0)
		log_warnx("A%lld: secret '%s': client went away", (long long)id,
		    label);
	json_decref(hdr);
out:
	secret_free(s);
	act_free(a);
	return e;
}

static void
err_safe(const char *s)
{
	const unsigned char	*p;

	(void)fputs("cordon: ", stderr);
	for (p = (const unsigned char *)(s ? s : "-"); *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			(void)fprintf(stderr, "\\x%02x", *p);
		else
			(void)fputc(*p, stderr);
	}
	(void)fputc('\n', stderr);
}

/* Reads exactly len bytes, each read bounded by CTL_TIMEOUT_MS. */
static int
read_exact(int fd, char *p, size_t len)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;
	int		r;

	while (len > 0) {
		if ((r = poll(&pfd, 1, CTL_TIMEOUT_MS)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return r == 0 ? -ETIMEDOUT : -errno;
		}
		if ((n = read(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
cmd_secret(int argc, char **argv)
{
	json_t		*req, *rep = NULL;
	json_int_t	 len;
	char		*buf = NULL;
	int		 fd = -1, r;

	if (argc >= 2 && strcmp(argv[1], "seal") == 0)
		return cmd_secret_seal(argc, argv);	/* secret_seal.c */
	if (argc < 3 || argc > 4 || strcmp(argv[1], "show") != 0 ||
	    argv[2][0] == '-' || (argc == 4 && argv[3][0] == '-')) {
		cmd_usage(cmd_find("secret"));
		return EXIT_USAGE;
	}
	req = json_pack("{s:s,s:s}", "cmd", "secret_show", "action", argv[2]);
	if (argc == 4)
		(void)json_object_set_new(req, "label", json_string(argv[3]));
	if ((fd = ctl_connect(cli_socket)) < 0) {
		json_decref(req);
		(void)fprintf(stderr, "cordon: cannot reach the agent at '%s': "
		    "%s\n", cli_socket, strerror(-fd));
		return EXIT_UNREACHABLE;
	}
	r = ctl_send(fd, req);
	json_decref(req);
	if (r != 0 || (r = ctl_recv(fd, SECRET_HDR_MAX, &rep)) != 0) {
		(void)fprintf(stderr, "cordon: agent at '%s' did not answer: "
		    "%s\n", cli_socket, strerror(-r));
		r = EXIT_UNREACHABLE;
		goto out;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		err_safe(json_string_value(json_object_get(rep, "error")));
		r = (int)json_integer_value(json_object_get(rep, "exit"));
		if (r == 0)
			r = EXIT_FAILED;
		goto out;
	}
	len = json_integer_value(json_object_get(rep, "length"));
	if (len < 0 || len > SECRET_MAX) {
		(void)fprintf(stderr, "cordon: bad secret length\n");
		r = EXIT_FAILED;
		goto out;
	}
	buf = xmalloc((size_t)len + 1);
	if ((r = read_exact(fd, buf, (size_t)len)) != 0) {
		(void)fprintf(stderr, "cordon: secret cut short: %s\n",
		    strerror(-r));
		r = EXIT_UNREACHABLE;
		goto out;
	}
	/* write(2), not stdio: no unwiped copy in a stdio buffer. */
	if (fd_write_all(STDOUT_FILENO, buf, (size_t)len) != 0 ||
	    ((len == 0 || buf[len - 1] != '\n') &&
	    fd_write_all(STDOUT_FILENO, "\n", 1) != 0)) {
		(void)fprintf(stderr, "cordon: cannot write the secret: %s\n",
		    strerror(errno));
		r = EXIT_FAILED;
		goto out;
	}
	(void)fprintf(stderr, "cordon: %s secret '%s' %s; this viewing is "
	    "journaled\n", argv[2], json_string_value(json_object_get(rep,
	    "label")), json_string_value(json_object_get(rep,
	    "fingerprint")));
	r = EXIT_OK;
out:
	if (buf) {
		explicit_bzero(buf, (size_t)len + 1);
		free(buf);
	}
	if (fd >= 0)
		(void)close(fd);
	json_decref(rep);
	return r;
}
