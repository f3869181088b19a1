/*
 * server: `cordon agent`.  Owns the config, the store and the control
 * socket; serves one request per connection; runs the executor between
 * requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "checkpoint.h"
#include "ctl.h"
#include "journal.h"
#include "log.h"
#include "vault.h"

static volatile sig_atomic_t	quit, reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = 1;
}

json_t *
reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
vreply_err(int code, const char *fmt, va_list ap)
{
	char	msg[1024];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	return json_pack("{s:b,s:s,s:i}", "ok", 0, "error", msg, "exit",
	    code);
}

json_t *
reply_err(int code, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*r;

	va_start(ap, fmt);
	r = vreply_err(code, fmt, ap);
	va_end(ap);
	return r;
}

json_t *
refuse(struct agent *ag, const struct caller *c, const char *incident,
    int64_t action, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*r;
	int	 rc;

	va_start(ap, fmt);
	r = vreply_err(EXIT_REFUSED, fmt, ap);
	va_end(ap);
	if ((rc = store_begin(ag->store)) == 0) {
		rc = journal_append(ag->store, c->actor, incident, action,
		    "refused", json_pack("{s:O,s:s?}", "reason",
		    json_object_get(r, "error"), "request", c->cmd));
		if (rc == 0)
			rc = store_commit(ag->store);
		else
			store_rollback(ag->store);
	}
	if (rc != 0)
		log_warnx("refuse: cannot journal refusal: %s",
		    store_errmsg(ag->store));
	return r;
}

json_t *
require_role_for(struct agent *ag, const struct caller *c,
    const struct customer *cu, enum role need, const char *incident,
    int64_t action)
{
	enum role	have = config_role(cu, c->uid);

	if (have >= need)
		return NULL;
	return refuse(ag, c, incident, action, "%s has role '%s' for customer "
	    "'%s'; '%s' needs '%s'", c->actor, role_name(have), cu->name,
	    c->cmd ? c->cmd : "this", role_name(need));
}

json_t *
require_role(struct agent *ag, const struct caller *c,
    const struct customer *cu, enum role need, const char *incident)
{
	return require_role_for(ag, c, cu, need, incident, 0);
}

json_t *
require_role_named(struct agent *ag, const struct caller *c, const char *name,
    enum role need)
{
	struct customer	*cu;

	if (name == NULL)
		return NULL;
	if ((cu = config_customer(ag->cfg, name)) == NULL)
		return reply_err(EXIT_USAGE, "no customer '%s'", name);
	return require_role(ag, c, cu, need, NULL);
}

static const struct handler {
	const char	*cmd;
	json_t		*(*fn)(struct agent *, const struct caller *,
			    json_t *);
} handlers[] = {
	{ "incident_open",	h_incident_open },
	{ "incident_list",	h_incident_list },
	{ "incident_update",	h_incident_update },
	{ "incident_show",	h_incident_show },
	{ "incident_close",	h_incident_close },
	{ "incident_due",	h_incident_due },
	{ "incident_report",	h_incident_report },
	{ "register_export",	h_register_export },
	{ "plan",		h_plan },
	{ "run",		h_run },
	{ "undo",		h_undo },
	{ "queue",		h_queue },
	{ "show",		h_show },
	{ "run_status",		h_run_status },
	{ "approve",		h_approve },
	{ "reject",		h_reject },
	{ "journal_show",	h_journal_show },
	{ "journal_export",	h_journal_export },
	{ "secret_show",		h_secret_show },
	{ "secret_seal",		h_secret_seal },
	{ "hosts_show",		h_hosts_show },
	{ "hosts_scan",		h_hosts_scan },
	{ "hosts_trust",	h_hosts_trust },
	{ "retry",		h_retry },
	{ "keys_show",		h_keys_show },
};

/*
 * Clients are read without blocking, so a caller that connects and says
 * nothing cannot stall the agent; each uid may hold only a few pending
 * connections, and a request must arrive whole within CLIENT_IDLE_S.
 */
#define MAX_CLIENTS	64
#define MAX_PER_UID	8
#define CLIENT_IDLE_S	10
#define CLIENT_SEND_S	30
#define FEED_POLL_MS	20	/* while a feed batch is in flight */

struct client {
	int		fd;
	uid_t		uid;
	double		since;
	struct buf	in;
};

static struct client	clients[MAX_CLIENTS];
static size_t		nclients;

static void
client_drop(size_t i)
{
	(void)close(clients[i].fd);
	buf_free(&clients[i].in);
	clients[i] = clients[--nclients];
}

static void
client_accept(int lfd)
{
	struct client	*c;
	uid_t		 uid;
	size_t		 i, same = 0;
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		return;
	if (ctl_peer_uid(fd, &uid) != 0) {
		(void)close(fd);
		return;
	}
	for (i = 0; i < nclients; i++)
		same += clients[i].uid == uid;
	if (nclients == MAX_CLIENTS || same >= MAX_PER_UID) {
		log_warnx("control: refusing a connection from uid %u: too "
		    "many pending", (unsigned)uid);
		(void)close(fd);
		return;
	}
	c = &clients[nclients++];
	c->fd = fd;
	c->uid = uid;
	c->since = now_mono();
	buf_init(&c->in, CTL_REQUEST_MAX);
}

static void
serve(struct agent *ag, int fd, uid_t uid, const char *line)
{
	struct caller	 c;
	struct passwd	*pw;
	struct timeval	 tv = { CLIENT_SEND_S, 0 };
	json_error_t	 je;
	json_t		*req = NULL, *rep = NULL;
	const char	*cmd;
	size_t		 i;
	int		 fl;

	/* Answers are written blocking, but never for ever. */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return;
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.uid = uid;
	pw = getpwuid(c.uid);
	(void)snprintf(c.actor, sizeof(c.actor), "%s(%u)",
	    pw ? pw->pw_name : "uid", (unsigned)c.uid);
	if ((req = json_loads(line, 0, &je)) == NULL || !json_is_object(req)) {
		rep = reply_err(EXIT_USAGE, "bad request: not a JSON object");
		goto out;
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	for (i = 0; cmd && i < ARRAY_SIZE(handlers); i++)
		if (strcmp(handlers[i].cmd, cmd) == 0)
			break;
	if (cmd == NULL || i == ARRAY_SIZE(handlers)) {
		rep = reply_err(EXIT_USAGE, "unknown request '%s'",
		    cmd ? cmd : "");
		goto out;
	}
	c.cmd = cmd;
	log_debug("%s: %s", c.actor, cmd);
	rep = handlers[i].fn(ag, &c, req);
out:
	/* A handler that streamed has already answered: rep is NULL. */
	if (rep && ctl_send(fd, rep) != 0)
		log_debug("serve: client went away");
	json_decref(rep);
	json_decref(req);
}

/* Reads what a client sent; serves it once a whole line is in. */
static void
client_read(struct agent *ag, size_t i)
{
	struct client	*c = &clients[i];
	char		 chunk[65536], *nl;
	ssize_t		 n;

	for (;;) {
		n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || buf_add(&c->in, chunk, (size_t)n) != 0) {
			client_drop(i);
			return;
		}
		if ((nl = memchr(c->in.p, '\n', c->in.len)) != NULL) {
			*nl = '\0';
			serve(ag, c->fd, c->uid, c->in.p);
			client_drop(i);
			return;
		}
	}
}

static void
do_reload(struct agent *ag)
{
	struct config	*n;
	char		 err[CONFIG_ERR_MAX];

	if (config_load(ag->config_path, &n, err, sizeof(err)) != 0) {
		log_warnx("reload refused, keeping the previous config: %s",
		    err);
		return;
	}
	config_free(ag->cfg);
	ag->cfg = n;
	log_info("config reloaded from '%s'", ag->config_path);
}

static void
usage_agent(void)
{
	(void)fprintf(stderr, "usage: cordon agent -c FILE [-d] [-v]\n");
}

int
agent_main(int argc, char **argv)
{
	struct agent	 ag;
	struct sigaction sa;
	const char	*cfgpath = NULL;
	char		 err[CONFIG_ERR_MAX];
	int		 ch, detach = 0, verbose = 0, r;

	memset(&ag, 0, sizeof(ag));
	optind = 1;
	while ((ch = getopt(argc, argv, "c:dvh")) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'd': detach = 1; break;
		case 'v': verbose++; break;
		case 'h': usage_agent(); return EXIT_OK;
		default: usage_agent(); return EXIT_USAGE;
		}
	}
	if (cfgpath == NULL || optind != argc) {
		usage_agent();
		return EXIT_USAGE;
	}
	log_init("cordon agent", verbose);
	/* Credentials live in this process: keep them out of core dumps. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(077);
	if (config_load(cfgpath, &ag.cfg, err, sizeof(err)) != 0) {
		(void)fprintf(stderr, "cordon agent: %s\n", err);
		return EXIT_USAGE;
	}
	ag.config_path = xstrdup(cfgpath);
	if ((r = vault_init(ag.cfg->secrets_dir)) != 0) {
		log_warnx("secrets_dir '%s': %s", ag.cfg->secrets_dir,
		    r == -EPERM ? "must be a directory of ours, mode 0700" :
		    strerror(-r));
		r = EXIT_USAGE;
		goto out;
	}
	if (store_open(ag.cfg->store_path, &ag.store, err, sizeof(err)) != 0) {
		log_warnx("cannot open store: %s", err);
		r = EXIT_USAGE;
		goto out;
	}
	/* Logs each customer's key fingerprint, for the DPO. */
	if (checkpoint_init(&ag) != 0) {
		log_warnx("cannot open the checkpoint keys in '%s'",
		    ag.cfg->keys_dir);
		r = EXIT_USAGE;
		goto out;
	}
	if ((ag.lfd = ctl_listen(ag.cfg->socket_path)) < 0) {
		errno = -ag.lfd;
		log_warn("cannot listen on '%s'", ag.cfg->socket_path);
		r = EXIT_USAGE;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	if (detach) {
		if (daemon(0, 0) != 0)
			fatal("daemon");
		log_to_syslog();
	}
	/* Before any thread: feeds and drivers open curl handles in theirs. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((r = exec_reconcile(&ag)) != 0)
		log_warnx("reconcile: %s", strerror(-r));
	log_info("listening on '%s', store '%s'", ag.cfg->socket_path,
	    ag.cfg->store_path);
	ag.work_pending = 1;
	while (!quit) {
		struct pollfd	pfd[MAX_CLIENTS + 1];
		size_t		i, n;
		double		now;

		if (reload) {
			reload = 0;
			do_reload(&ag);
		}
		pfd[0].fd = ag.lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nclients; i++) {
			pfd[i + 1].fd = clients[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		n = nclients;
		r = poll(pfd, n + 1, ag.work_pending ? 0 : feed_busy() ?
		    FEED_POLL_MS : 500);
		if (r < 0 && errno != EINTR)
			fatal("poll");
		/* Back to front: client_drop moves the last into the hole. */
		for (i = n; r > 0 && i > 0; i--)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				client_read(&ag, i - 1);
		if (r > 0 && (pfd[0].revents & POLLIN))
			client_accept(ag.lfd);
		now = now_mono();
		for (i = nclients; i > 0; i--)
			if (now - clients[i - 1].since > CLIENT_IDLE_S)
				client_drop(i - 1);
		if (r == 0 && !ag.work_pending)
			ag.work_pending = 1;	/* approvals may expire */
		if (ag.work_pending)
			ag.work_pending = exec_round(&ag) > 0;
		checkpoint_tick(&ag);
		feed_tick(&ag);
	}
	while (nclients > 0)
		client_drop(nclients - 1);
	log_info("stopping");
	(void)unlink(ag.cfg->socket_path);
	r = EXIT_OK;
out:
	if (ag.lfd > 0)
		(void)close(ag.lfd);
	checkpoint_shutdown();
	feed_shutdown();
	store_close(ag.store);
	config_free(ag.cfg);
	free(ag.config_path);
	return r;
}
