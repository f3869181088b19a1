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

#include "agent.h"
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
		    "refused", json_pack("{s:O}", "reason",
		    json_object_get(r, "error")));
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
require_role(struct agent *ag, const struct caller *c,
    const struct customer *cu, enum role need, const char *incident)
{
	enum role	have = config_role(cu, c->uid);

	if (have >= need)
		return NULL;
	return refuse(ag, c, incident, 0, "%s has role '%s' for customer "
	    "'%s'; this needs '%s'", c->actor, role_name(have), cu->name,
	    role_name(need));
}

static const struct handler {
	const char	*cmd;
	json_t		*(*fn)(struct agent *, const struct caller *,
			    json_t *);
} handlers[] = {
	{ "incident_open",	h_incident_open },
	{ "incident_list",	h_incident_list },
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
};

static void
serve(struct agent *ag, int fd)
{
	struct caller	 c;
	struct passwd	*pw;
	json_t		*req = NULL, *rep = NULL;
	const char	*cmd;
	size_t		 i;
	int		 r;

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	if (ctl_peer_uid(fd, &c.uid) != 0)
		return;
	pw = getpwuid(c.uid);
	(void)snprintf(c.actor, sizeof(c.actor), "%s(%u)",
	    pw ? pw->pw_name : "uid", (unsigned)c.uid);
	if ((r = ctl_recv(fd, CTL_REQUEST_MAX, &req)) != 0) {
		rep = reply_err(EXIT_USAGE, "bad request: %s", strerror(-r));
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
	log_debug("%s: %s", c.actor, cmd);
	rep = handlers[i].fn(ag, &c, req);
out:
	/* A handler that streamed has already answered: rep is NULL. */
	if (rep && ctl_send(fd, rep) != 0)
		log_debug("serve: client went away");
	json_decref(rep);
	json_decref(req);
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
	int		 ch, detach = 0, verbose = 0, fd, r;

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
	if ((r = exec_reconcile(&ag)) != 0)
		log_warnx("reconcile: %s", strerror(-r));
	log_info("listening on '%s', store '%s'", ag.cfg->socket_path,
	    ag.cfg->store_path);
	ag.work_pending = 1;
	while (!quit) {
		struct pollfd pfd = { .fd = ag.lfd, .events = POLLIN };

		if (reload) {
			reload = 0;
			do_reload(&ag);
		}
		r = poll(&pfd, 1, ag.work_pending ? 0 : 500);
		if (r < 0 && errno != EINTR)
			fatal("poll");
		if (r > 0 && (pfd.revents & POLLIN)) {
			if ((fd = accept4(ag.lfd, NULL, NULL,
			    SOCK_CLOEXEC)) >= 0) {
				serve(&ag, fd);
				(void)close(fd);
			}
		}
		if (r == 0 && !ag.work_pending)
			ag.work_pending = 1;	/* approvals may expire */
		if (ag.work_pending)
			ag.work_pending = exec_round(&ag) > 0;
	}
	log_info("stopping");
	(void)unlink(ag.cfg->socket_path);
	r = EXIT_OK;
out:
	if (ag.lfd > 0)
		(void)close(ag.lfd);
	store_close(ag.store);
	config_free(ag.cfg);
	free(ag.config_path);
	return r;
}
