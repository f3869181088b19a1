/*
 * it_feed: the SIEM feeds through the real agent and a real slapd, against
 * real receivers: Debian's rsyslogd (scripts/rsyslog-start.sh: imudp and
 * imtcp on loopback, structured data parsed by mmpstrucdata, written by
 * omfile) and tests/it/fake_hec.py, a loopback HTTPS server speaking
 * Splunk HEC's documented contract (no Splunk can run here).
 *
 * Each journal entry must arrive exactly once, in order, parsable, with
 * the RFC 5424 fields configured; HEC must lose and duplicate nothing
 * through 503/429/400 answers, a stalled request and a receiver restart;
 * every signed checkpoint is shipped, and a journal truncated at the
 * source no longer verifies against the shipped checkpoints.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "harness.h"
#include "../../agent/checkpoint.h"
#include "../../agent/util.h"

#define PORT		38975		/* slapd */
#define UDP_PORT	38976		/* rsyslogd imudp */
#define TCP_PORT	38977		/* rsyslogd imtcp */
#define HEC_PORT	38978		/* fake_hec.py */
#define SD_ID		"cordon@32473"
/* A second customer whose name needs every SD escape: we"ird]\cust. */
#define WEIRD		"we\"ird]\\cust"
#define WEIRD_CONF	"we\\\"ird]\\\\cust"
#define HEC_TOKEN	"b7c1e7d2-1f0a-4c52-9e3a-7d0c5a2f9e11"
#define HEC_BAD_TOKEN	"00000000-dead-beef-0000-000000000000"
#define HEC_URL		"https://127.0.0.1:38978/services/collector/event"
#define WAIT_S		40.0

static char	rs_dir[IT_PATH_MAX];	/* rsyslogd runs while [0] */
static char	hec_dir[IT_PATH_MAX];
static pid_t	hec_pid;

static void xsnp(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
xsnp(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fail_msg("%s: too long", __func__);
}

static void
rs_stop(struct it_env *e)
{
	char		 sh[IT_PATH_MAX];
	const char	*argv[] = { "sh", sh, rs_dir, NULL };

	if (rs_dir[0] == '\0')
		return;
	xsnp(sh, sizeof(sh), "%s/rsyslog-stop.sh", e->scripts);
	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0)
		(void)fprintf(stderr, "%s: %s%s\n", __func__, e->out, e->err);
	rs_dir[0] = '\0';
}

static void
rs_start(struct it_env *e)
{
	char		 sh[IT_PATH_MAX], dir[IT_PATH_MAX], up[8], tp[8];
	const char	*argv[] = { "sh", sh, dir, up, tp, NULL };

	xsnp(sh, sizeof(sh), "%s/rsyslog-start.sh", e->scripts);
	(void)it_tpath(e, "rsyslog", dir);
	xsnp(up, sizeof(up), "%d", UDP_PORT);
	xsnp(tp, sizeof(tp), "%d", TCP_PORT);
	if (it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S) != 0)
		fail_msg("rsyslog-start.sh: %s%s", e->out, e->err);
	xsnp(rs_dir, sizeof(rs_dir), "%s", dir);
}

static const char *
py3(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
	    "python3";
}

static void
hec_stop(void)
{
	int	i;

	if (hec_pid <= 0)
		return;
	(void)kill(hec_pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(hec_pid, NULL, WNOHANG) == hec_pid) {
			hec_pid = 0;
			return;
		}
		(void)usleep(100000);
	}
	(void)kill(hec_pid, SIGKILL);
	(void)waitpid(hec_pid, NULL, 0);
	hec_pid = 0;
}

/* Starts fake_hec.py in hec_dir (made by hec_setup), state kept. */
static void
hec_start(struct it_env *e)
{
	char	script[IT_PATH_MAX], rdy[IT_PATH_MAX], tok[IT_PATH_MAX];
	char	port[16];
	int	i;

	xsnp(script, sizeof(script), "%s/../tests/it/fake_hec.py",
	    e->scripts);
	xsnp(rdy, sizeof(rdy), "%s/hec.ready", hec_dir);
	xsnp(tok, sizeof(tok), "%s/token", hec_dir);
	xsnp(port, sizeof(port), "%d", HEC_PORT);
	(void)unlink(rdy);
	if ((hec_pid = fork()) < 0)
		fail_msg("fork: %s", strerror(errno));
	if (hec_pid == 0) {
		const char *argv[] = { py3(), script, "--dir", hec_dir,
		    "--port", port, "--token-file", tok, NULL };

		if (strchr(argv[0], '/'))
			execv(argv[0], (char *const *)argv);
		else
			execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 300; i++) {
		if (access(rdy, F_OK) == 0)
			return;
		if (waitpid(hec_pid, NULL, WNOHANG) == hec_pid) {
			hec_pid = 0;
			fail_msg("fake_hec.py exited");
		}
		(void)usleep(100000);
	}
	fail_msg("fake_hec.py not ready in 30 s");
}

/* A fresh receiver dir (token files 0600) and the receiver on it. */
static void
hec_setup(struct it_env *e)
{
	char	p[IT_PATH_MAX];

	(void)it_tpath(e, "hec", hec_dir);
	assert_int_equal(mkdir(hec_dir, 0700), 0);
	xsnp(p, sizeof(p), "%s/token", hec_dir);
	assert_int_equal(it_write_file(p, HEC_TOKEN "\n",
	    strlen(HEC_TOKEN) + 1, 0600), 0);
	xsnp(p, sizeof(p), "%s/bad-token", hec_dir);
	assert_int_equal(it_write_file(p, HEC_BAD_TOKEN "\n",
	    strlen(HEC_BAD_TOKEN) + 1, 0600), 0);
	hec_start(e);
}

static int
group_setup(void **state)
{
	return it_group_setup(state, PORT);
}

/* The agent is started by each test, with its feeds. */
static int
setup(void **state)
{
	struct it_env	*e = *state;

	if (it_ldap_reset(e) != 0 || it_test_dir(e) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	struct it_env	*e = *state;
	int		 r = 0;

	if (e->agent > 0)
		r = it_test_teardown(e);
	rs_stop(e);
	hec_stop();
	return r;
}

/*
 * Writes the standard config with agent_extra in the agent group and a
 * second customer named WEIRD, then starts the agent.
 */
static void
start_agent(struct it_env *e, const char *agent_extra)
{
	char	*conf, *at, *end, *nc;
	size_t	 len;

	assert_int_equal(it_config_write(e, e->conf, NULL), 0);
	assert_int_equal(it_read_file(e->conf, &conf, &len), 0);
	assert_non_null(at = strstr(conf, "agent: {\n"));
	at += strlen("agent: {\n");
	assert_true(len > 6);
	end = conf + len - strlen("\t}\n);\n");
	assert_string_equal(end, "\t}\n);\n");
	assert_true(asprintf(&nc, "%.*s%s%.*s\t},\n\t{\n\t\tname = \""
	    WEIRD_CONF "\";\n\t\troles = ( { user = \"" IT_AUD "\"; "
	    "role = \"auditor\"; } );\n\t}\n);\n", (int)(at - conf), conf,
	    agent_extra, (int)(end - at), at) > 0);
	assert_int_equal(it_write_file(e->conf, nc, strlen(nc), 0600), 0);
	free(nc);
	free(conf);
	assert_int_equal(it_agent_start(e, 0), 0);
}

static void
lock(struct it_env *e, const char *inc, const char *uid)
{
	int64_t	id = 0;
	size_t	n;
	char	ref[32];

	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, uid, &id, 1,
	    &n), 0);
	assert_int_equal(n, 1);
	(void)snprintf(ref, sizeof(ref), "A%lld", (long long)id);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
}

static void
update(struct it_env *e, const char *id, const char *set)
{
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", set, NULL), 0);
}

/* The whole journal; its seqs are 1..N. */
static json_t *
journal(struct it_env *e)
{
	json_t	*jr = it_journal(e);
	size_t	 i;

	assert_non_null(jr);
	assert_true(json_array_size(jr) > 0);
	for (i = 0; i < json_array_size(jr); i++)
		assert_int_equal(json_integer_value(json_object_get(
		    json_array_get(jr, i), "seq")), (json_int_t)i + 1);
	return jr;
}

/* Each line of path as JSON: a new array (empty if no file). */
static json_t *
read_jsonl(const char *path)
{
	json_t	*a = json_array(), *o;
	char	*text, *line, *nl;
	size_t	 len;

	if (access(path, F_OK) != 0)
		return a;
	assert_int_equal(it_read_file(path, &text, &len), 0);
	for (line = text; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if ((o = json_loads(line, 0, NULL)) == NULL)
			fail_msg("%s: not JSON: %s", path, line);
		(void)json_array_append_new(a, o);
	}
	/* A partly written last line is for the next read. */
	free(text);
	return a;
}

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	if (s == NULL)
		fail_msg("no string '%s'", k);
	return s;
}

/* A shipped checkpoint's signature checks against the customer's key. */
static void
check_sig(struct it_env *e, const json_t *cp)
{
	EVP_PKEY	*k = NULL;
	unsigned char	 sig[CHECKPOINT_SIG_LEN + 3];
	char		 path[IT_PATH_MAX], name[128], *pem;
	const char	*b64 = jstr(cp, "sig"), *text = jstr(cp, "text");
	size_t		 len;
	char		 fp[CHECKPOINT_FP_LEN + 1];

	assert_int_equal(checkpoint_key_name(jstr(cp, "customer"), name,
	    sizeof(name)), 0);
	xsnp(path, sizeof(path), "%s/keys/%s.pub", e->tdir, name);
	assert_int_equal(it_read_file(path, &pem, &len), 0);
	assert_int_equal(checkpoint_pubkey_read(pem, len, &k), 0);
	free(pem);
	assert_int_equal(strlen(b64), 88);
	assert_int_equal(EVP_DecodeBlock(sig, (const unsigned char *)b64, 88),
	    CHECKPOINT_SIG_LEN + 2);
	assert_int_equal(checkpoint_verify(k, text, strlen(text), sig,
	    CHECKPOINT_SIG_LEN), 0);
	assert_int_equal(checkpoint_key_fp(k, fp), 0);
	assert_string_equal(jstr(cp, "key_fp"), fp);
	EVP_PKEY_free(k);
}

/*
 * A fed record says what `journal show` says of entry n (0-based) of jr,
 * and chains to the entry before it.
 */
static void
same_entry(const json_t *o, const json_t *jr, size_t n)
{
	static const char *const keys[] = { "seq", "ts", "actor", "incident",
	    "event", "payload", "hash" };
	const json_t	*ent = json_array_get(jr, n);
	size_t		 i;

	assert_string_equal(jstr(o, "prev_hash"), n == 0 ?
	    "0000000000000000000000000000000000000000000000000000000000000000" :
	    jstr(json_array_get(jr, n - 1), "hash"));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (!json_equal(json_object_get(o, keys[i]),
		    json_object_get(ent, keys[i]))) {
			char *a = json_dumps(o, JSON_SORT_KEYS);
			char *b = json_dumps(ent, JSON_SORT_KEYS);

			fail_msg("'%s' differs: fed %s, journal %s", keys[i],
			    a, b);
		}
}

/*
 * What rsyslogd wrote for one transport: every entry of jr exactly once
 * and in order, with the configured header fields and the structured data
 * parsed back to the values sent; checkpoints of both customers, signed.
 */
static void
check_syslog(struct it_env *e, const char *file, const json_t *jr,
    int want_all)
{
	json_t		*lines, *l, *sd, *p = NULL, *msg, *ent;
	const char	*msgid, *ev;
	char		 num[32], path[IT_PATH_MAX];
	size_t		 i, n = 0, cp_acme = 0, cp_weird = 0;

	xsnp(path, sizeof(path), "%s/%s", rs_dir, file);
	lines = read_jsonl(path);
	json_array_foreach(lines, i, l) {
		assert_string_equal(jstr(l, "facility"), "20");	/* local4 */
		assert_string_equal(jstr(l, "hostname"), "cordon-it");
		assert_string_equal(jstr(l, "app"), "cordon-feed");
		assert_true(strtol(jstr(l, "procid"), NULL, 10) > 0);
		msgid = jstr(l, "msgid");
		if ((sd = json_loads(jstr(l, "sd"), 0, NULL)) == NULL ||
		    (p = json_object_get(sd, SD_ID)) == NULL)
			fail_msg("%s: no structured data %s: %s", file, SD_ID,
			    jstr(l, "sd"));
		if ((msg = json_loads(jstr(l, "msg"), 0, NULL)) == NULL)
			fail_msg("%s: MSG not JSON: %s", file, jstr(l, "msg"));
		if (strcmp(msgid, "checkpoint") == 0) {
			assert_string_equal(jstr(l, "severity"), "6");
			assert_string_equal(jstr(msg, "type"), "checkpoint");
			assert_string_equal(jstr(p, "customer"),
			    jstr(msg, "customer"));
			xsnp(num, sizeof(num), "%lld", (long long)
			    json_integer_value(json_object_get(msg, "size")));
			assert_string_equal(jstr(p, "size"), num);
			assert_string_equal(jstr(p, "head"), jstr(msg, "head"));
			check_sig(e, msg);
			if (strcmp(jstr(msg, "customer"), WEIRD) == 0)
				cp_weird++;
			else if (strcmp(jstr(msg, "customer"), "acme") == 0)
				cp_acme++;
			else
				fail_msg("checkpoint of '%s'",
				    jstr(msg, "customer"));
		} else {
			ent = json_array_get(jr, n);
			if (ent == NULL)
				fail_msg("%s: entry %zu not in the journal",
				    file, n + 1);
			/* Exactly once, in order: the n-th is seq n. */
			assert_int_equal(json_integer_value(json_object_get(
			    msg, "seq")), (json_int_t)n + 1);
			same_entry(msg, jr, n);
			ev = jstr(ent, "event");
			assert_string_equal(msgid, ev);
			assert_string_equal(jstr(l, "severity"),
			    strcmp(ev, "refused") == 0 ? "4" : "6");
			xsnp(num, sizeof(num), "%zu", n + 1);
			assert_string_equal(jstr(p, "seq"), num);
			assert_string_equal(jstr(p, "event"), ev);
			assert_string_equal(jstr(p, "actor"),
			    jstr(ent, "actor"));
			assert_string_equal(jstr(p, "hash"), jstr(ent, "hash"));
			n++;
		}
		json_decref(msg);
		json_decref(sd);
	}
	json_decref(lines);
	if (want_all && n != json_array_size(jr))
		fail_msg("%s: %zu entries, the journal has %zu", file, n,
		    json_array_size(jr));
	assert_true(cp_acme >= 1);
	assert_true(cp_weird >= 1);
}

/* Polls until file (in rs_dir) holds want entries. */
static void
wait_syslog(const char *file, const char *last_hash)
{
	char	path[IT_PATH_MAX], want[80];

	xsnp(path, sizeof(path), "%s/%s", rs_dir, file);
	xsnp(want, sizeof(want), "\\\"hash\\\":\\\"%s\\\"", last_hash);
	if (it_wait_file_has(path, want, WAIT_S) != 0)
		fail_msg("%s: entry with hash %s not received", file,
		    last_hash);
}

#define SYSLOG_FEEDS(extra) \
	"\tfeeds = (\n" \
	"\t\t{ type = \"syslog\"; transport = \"tcp\"; host = \"127.0.0.1\";" \
	" port = 38977; facility = \"local4\"; severity = \"info\";" \
	" hostname = \"cordon-it\"; app_name = \"cordon-feed\";" \
	" retry_max = 1; },\n" \
	"\t\t{ type = \"syslog\"; transport = \"udp\"; host = \"127.0.0.1\";" \
	" port = 38976; facility = \"local4\"; severity = \"info\";" \
	" hostname = \"cordon-it\"; app_name = \"cordon-feed\";" \
	" retry_max = 1; }" extra "\n" \
	"\t);\n"

static void
test_feed_syslog_rsyslog_tcp_udp(void **state)
{
	struct it_env	*e = *state;
	json_t		*jr;
	char		 id[32], h[80];

	rs_start(e);
	start_agent(e, SYSLOG_FEEDS(""));
	assert_int_equal(it_incident_open(e, id), 0);
	lock(e, id, "alice");
	/* A refusal: severity warning. */
	assert_int_equal(it_cordon(e, IT_NOBODY, "incident", "update", id,
	    "--set", "risk=high", NULL), 3);
	jr = journal(e);
	xsnp(h, sizeof(h), "%s", jstr(json_array_get(jr,
	    json_array_size(jr) - 1), "hash"));
	wait_syslog("tcp.jsonl", h);
	wait_syslog("udp.jsonl", h);
	check_syslog(e, "tcp.jsonl", jr, 1);
	check_syslog(e, "udp.jsonl", jr, 1);
	json_decref(jr);

	/*
	 * rsyslogd stops and comes back: what the TCP feed could not send
	 * meanwhile arrives, once.  (UDP has no way to know: a datagram
	 * to a closed port is gone, so the UDP file is not checked again.)
	 */
	rs_stop(e);
	update(e, id, "risk=none");
	update(e, id, "cause=phishing");
	(void)usleep(1500 * 1000);	/* the feed fails at least once */
	rs_start(e);
	/* The agent restarts: nothing is sent twice. */
	assert_int_equal(it_agent_stop(e), 0);
	assert_int_equal(it_agent_start(e, 0), 0);
	update(e, id, "risk=high");
	jr = journal(e);
	xsnp(h, sizeof(h), "%s", jstr(json_array_get(jr,
	    json_array_size(jr) - 1), "hash"));
	wait_syslog("tcp.jsonl", h);
	(void)usleep(1000 * 1000);	/* anything sent twice would show */
	check_syslog(e, "tcp.jsonl", jr, 1);
	json_decref(jr);
	assert_int_equal(it_file_has(e->log, "cannot connect"), 1);
}

/*
 * UDP lines of path: every entry of jr once and in order; the entry
 * with seq big (and only it) cut down, with enough to fetch it later.
 */
static void
check_cut(const char *file, const json_t *jr, json_int_t big)
{
	json_t		*lines, *l, *msg;
	const json_t	*ent;
	char		 path[IT_PATH_MAX];
	size_t		 i, n = 0, cut = 0;

	xsnp(path, sizeof(path), "%s/%s", rs_dir, file);
	lines = read_jsonl(path);
	json_array_foreach(lines, i, l) {
		if (strcmp(jstr(l, "msgid"), "checkpoint") == 0)
			continue;
		if ((msg = json_loads(jstr(l, "msg"), 0, NULL)) == NULL)
			fail_msg("%s: MSG not JSON: %s", file, jstr(l, "msg"));
		if ((ent = json_array_get(jr, n)) == NULL)
			fail_msg("%s: entry %zu not in the journal", file,
			    n + 1);
		assert_int_equal(json_integer_value(json_object_get(msg,
		    "seq")), (json_int_t)n + 1);
		if (json_is_true(json_object_get(msg, "oversize"))) {
			cut++;
			assert_int_equal(n + 1, big);
			assert_string_equal(jstr(msg, "hash"),
			    jstr(ent, "hash"));
			assert_string_equal(jstr(msg, "event"),
			    jstr(ent, "event"));
			assert_string_equal(jstr(msg, "incident"),
			    jstr(ent, "incident"));
			assert_null(json_object_get(msg, "payload"));
			assert_true(json_integer_value(json_object_get(msg,
			    "original_size")) > 65000);
		} else {
			assert_true(n + 1 != (size_t)big);
			same_entry(msg, jr, n);
		}
		json_decref(msg);
		n++;
	}
	json_decref(lines);
	assert_int_equal(cut, 1);
	assert_int_equal(n, json_array_size(jr));
}

/*
 * An entry too big for one UDP datagram (JSON escapes of non-ASCII text
 * triple it) goes cut down, and the entries after it are not held up;
 * over TCP (1 MiB messages) it goes whole.
 */
static void
test_feed_oversize_entry_cut_not_stalled(void **state)
{
	static const char *const fields[] = { "description", "cause",
	    "vector", "discovery", "systems", "consequences",
	    "risk_rationale" };
	struct it_env	*e = *state;
	const char	*args[7 * 2 + 4];
	char		*vals[7], h[80];
	json_t		*jr;
	json_int_t	 big;
	size_t		 i, j, na = 0;
	char		 id[32];

	rs_start(e);
	start_agent(e, SYSLOG_FEEDS(""));
	assert_int_equal(it_incident_open(e, id), 0);
	args[na++] = "incident";
	args[na++] = "update";
	args[na++] = id;
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		/* 2048 x U+00E9: 4096 bytes, 12288 once escaped as \u00e9. */
		size_t	len = strlen(fields[i]) + 1 + 4096;

		assert_non_null(vals[i] = malloc(len + 1));
		j = (size_t)snprintf(vals[i], len + 1, "%s=", fields[i]);
		while (j < len) {
			vals[i][j++] = '\xc3';
			vals[i][j++] = '\xa9';
		}
		vals[i][j] = '\0';
		args[na++] = "--set";
		args[na++] = vals[i];
	}
	args[na] = NULL;
	assert_int_equal(it_cordonv(e, IT_OP, NULL, args, 30), 0);
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		free(vals[i]);
	jr = journal(e);
	big = (json_int_t)json_array_size(jr);
	json_decref(jr);
	update(e, id, "risk=high");
	jr = journal(e);
	xsnp(h, sizeof(h), "%s", jstr(json_array_get(jr,
	    json_array_size(jr) - 1), "hash"));
	wait_syslog("udp.jsonl", h);
	wait_syslog("tcp.jsonl", h);
	check_cut("udp.jsonl", jr, big);
	check_syslog(e, "tcp.jsonl", jr, 1);
	json_decref(jr);
	/* The main thread logs it when it settles the batch, which may
	 * be after rsyslog has written the entry. */
	assert_int_equal(it_wait_file_has(e->log, "sent cut down", 10), 0);
}

/* The events fake_hec indexed (a new array). */
static json_t *
hec_events(void)
{
	char	path[IT_PATH_MAX];

	xsnp(path, sizeof(path), "%s/events.jsonl", hec_dir);
	return read_jsonl(path);
}

/* Journal entries among the indexed events. */
static size_t
hec_entries(void)
{
	json_t	*evs = hec_events(), *ev;
	size_t	 i, n = 0;

	json_array_foreach(evs, i, ev)
		if (strcmp(jstr(ev, "sourcetype"), "cordon:journal") == 0)
			n++;
	json_decref(evs);
	return n;
}

/* Polls until fake_hec indexed want entries; more is a duplicate. */
static void
wait_hec(size_t want)
{
	double	end = (double)time(NULL) + WAIT_S;
	size_t	n = 0;

	while ((double)time(NULL) < end) {
		if ((n = hec_entries()) >= want)
			break;
		(void)usleep(200 * 1000);
	}
	if (n != want)
		fail_msg("HEC indexed %zu entries, want %zu", n, want);
}

/*
 * Every entry of jr indexed exactly once and in order, in HEC's envelope;
 * the checkpoints (signed) are returned in the order indexed.  Events of
 * any source but "cordon" fail the test.
 */
static json_t *
check_hec(struct it_env *e, const json_t *jr)
{
	json_t		*evs = hec_events(), *ev, *o, *cps = json_array();
	size_t		 i, n = 0;
	time_t		 t;

	json_array_foreach(evs, i, ev) {
		assert_string_equal(jstr(ev, "source"), "cordon");
		assert_string_equal(jstr(ev, "host"), "cordon-it-hec");
		assert_string_equal(jstr(ev, "index"), "cordon");
		o = json_object_get(ev, "event");
		if (strcmp(jstr(ev, "sourcetype"), "cordon:checkpoint") == 0) {
			check_sig(e, o);
			assert_int_equal(parse_time(jstr(o, "at"), &t), 0);
			assert_int_equal(json_integer_value(json_object_get(ev,
			    "time")), (json_int_t)t);
			(void)json_array_append(cps, o);
			continue;
		}
		assert_string_equal(jstr(ev, "sourcetype"), "cordon:journal");
		if (json_array_get(jr, n) == NULL)
			fail_msg("HEC: entry %zu not in the journal", n + 1);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")),
		    (json_int_t)n + 1);
		same_entry(o, jr, n);
		assert_int_equal(parse_time(jstr(o, "ts"), &t), 0);
		assert_int_equal(json_integer_value(json_object_get(ev,
		    "time")), (json_int_t)t);
		n++;
	}
	json_decref(evs);
	assert_int_equal(n, json_array_size(jr));
	return cps;
}

static void
hec_faults(const char *json)
{
	char	path[IT_PATH_MAX];

	xsnp(path, sizeof(path), "%s/fail.json", hec_dir);
	assert_int_equal(it_write_file(path, json, strlen(json), 0600), 0);
}

/* The HEC feed's agent settings, plus extra feeds. */
static void
hec_conf(char *buf, size_t len, const char *agent_extra, const char *feeds)
{
	xsnp(buf, len, "%s\tfeeds = (\n"
	    "\t\t{ type = \"hec\"; url = \"" HEC_URL "\";"
	    " token_file = \"%s/token\"; ca_file = \"%s/ca.pem\"; batch = 2;"
	    " timeout = 2; retry_max = 1; index = \"cordon\";"
	    " host = \"cordon-it-hec\"; }%s\n"
	    "\t);\n", agent_extra, hec_dir, hec_dir, feeds);
}

static void
test_feed_hec_faults_exactly_once(void **state)
{
	struct it_env	*e = *state;
	json_t		*jr, *cps;
	char		 conf[2048], bad[1024], id[32], log[IT_PATH_MAX];

	hec_setup(e);
	/* A second feed with a wrong token: refused, never indexed. */
	xsnp(bad, sizeof(bad), ",\n\t\t{ type = \"hec\";"
	    " url = \"https://localhost:%d/services/collector/event\";"
	    " token_file = \"%s/bad-token\"; ca_file = \"%s/ca.pem\";"
	    " source = \"wrong\"; retry_max = 1; }", HEC_PORT, hec_dir,
	    hec_dir);
	hec_conf(conf, sizeof(conf), "", bad);
	start_agent(e, conf);
	assert_int_equal(it_incident_open(e, id), 0);
	lock(e, id, "alice");
	jr = journal(e);
	wait_hec(json_array_size(jr));
	cps = check_hec(e, jr);
	/* The first checkpoint of each customer is made at start. */
	assert_true(json_array_size(cps) >= 2);
	json_decref(cps);
	json_decref(jr);

	/* Busy, a bad request, a stall past the timeout, throttled, 500. */
	hec_faults("[{\"status\": 503, \"count\": 2},"
	    " {\"status\": 400, \"count\": 1},"
	    " {\"status\": \"stall\", \"seconds\": 4, \"count\": 1},"
	    " {\"status\": 429, \"count\": 1},"
	    " {\"status\": 500, \"count\": 1}]");
	update(e, id, "risk=high");
	update(e, id, "cause=phishing");
	update(e, id, "vector=mail");
	jr = journal(e);
	wait_hec(json_array_size(jr));
	json_decref(check_hec(e, jr));
	json_decref(jr);
	xsnp(log, sizeof(log), "%s/requests.log", hec_dir);
	assert_int_equal(it_file_has(log, "503 0\n"), 1);
	assert_int_equal(it_file_has(log, "400 0\n"), 1);
	assert_int_equal(it_file_has(log, "stall 0\n"), 1);
	assert_int_equal(it_file_has(log, "429 0\n"), 1);
	assert_int_equal(it_file_has(log, "500 0\n"), 1);
	assert_int_equal(it_file_has(log, "403 0\n"), 1);

	/* The collector goes away and comes back. */
	hec_stop();
	update(e, id, "risk=none");
	update(e, id, "cause=unknown");
	(void)usleep(2500 * 1000);
	assert_int_equal(it_agent_alive(e), 1);
	hec_start(e);
	/* And the agent restarts: nothing sent twice. */
	assert_int_equal(it_agent_stop(e), 0);
	assert_int_equal(it_agent_start(e, 0), 0);
	update(e, id, "vector=web");
	jr = journal(e);
	wait_hec(json_array_size(jr));
	(void)usleep(1000 * 1000);	/* a duplicate would show now */
	json_decref(check_hec(e, jr));
	json_decref(jr);

	/* The collector's answers are logged, the tokens never. */
	assert_int_equal(it_file_has(e->log, "Server is busy"), 1);
	assert_int_equal(it_file_has(e->log, "Invalid data format"), 1);
	assert_int_equal(it_file_has(e->log, "Invalid token"), 1);
	assert_int_equal(it_file_has(e->log, HEC_TOKEN), 0);
	assert_int_equal(it_file_has(e->log, HEC_BAD_TOKEN), 0);
}

/* dir/checkpoints/ replaced by cps (shipped checkpoint objects). */
static void
history_from(const char *dir, const json_t *cps, size_t n)
{
	char		 p[IT_PATH_MAX];
	unsigned char	 sig[CHECKPOINT_SIG_LEN + 3];
	const json_t	*cp;
	const char	*text;
	size_t		 i;

	xsnp(p, sizeof(p), "%s/checkpoints", dir);
	assert_int_equal(it_rm_rf(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	for (i = 0; i < n; i++) {
		cp = json_array_get(cps, i);
		text = jstr(cp, "text");
		xsnp(p, sizeof(p), "%s/checkpoints/%08zu.txt", dir, i + 1);
		assert_int_equal(it_write_file(p, text, strlen(text), 0644), 0);
		assert_int_equal(EVP_DecodeBlock(sig, (const unsigned char *)
		    jstr(cp, "sig"), 88), CHECKPOINT_SIG_LEN + 2);
		xsnp(p, sizeof(p), "%s/checkpoints/%08zu.sig", dir, i + 1);
		assert_int_equal(it_write_file(p, sig, CHECKPOINT_SIG_LEN,
		    0644), 0);
	}
}

/* The shipped checkpoints of acme, in the order shipped (new array). */
static json_t *
acme_shipped(struct it_env *e, const json_t *jr)
{
	json_t	*cps = check_hec(e, jr), *out = json_array(), *cp;
	size_t	 i;

	json_array_foreach(cps, i, cp)
		if (strcmp(jstr(cp, "customer"), "acme") == 0)
			(void)json_array_append(out, cp);
	json_decref(cps);
	return out;
}

/* Every checkpoint of customer HEC indexed, unchecked (new array). */
static json_t *
shipped_checkpoints(const char *customer)
{
	json_t	*evs = hec_events(), *out = json_array(), *ev, *o;
	size_t	 i;

	json_array_foreach(evs, i, ev) {
		o = json_object_get(ev, "event");
		if (strcmp(jstr(ev, "sourcetype"), "cordon:checkpoint") == 0 &&
		    strcmp(jstr(o, "customer"), customer) == 0)
			(void)json_array_append(out, o);
	}
	json_decref(evs);
	return out;
}

static int
verify_script(struct it_env *e, const char *dir)
{
	char		 sh[IT_PATH_MAX];
	const char	*argv[] = { "sh", sh, dir, NULL };

	xsnp(sh, sizeof(sh), "%s/verify-bundle.sh", e->scripts);
	return it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S);
}

static void
test_feed_checkpoints_shipped_show_truncation(void **state)
{
	struct it_env	*e = *state;
	json_t		*jr, *cps;
	char		 conf[2048], id[32], out[IT_PATH_MAX], b[IT_PATH_MAX];
	char		 p[IT_PATH_MAX], sql[512], *text;
	const char	*sqlv[] = { "sqlite3", e->store, sql, NULL };
	size_t		 len, n, k, i;
	double		 end;

	hec_setup(e);
	hec_conf(conf, sizeof(conf), "\tcheckpoint_every = 2;\n", "");
	start_agent(e, conf);
	assert_int_equal(it_incident_open(e, id), 0);
	update(e, id, "risk=high");
	update(e, id, "cause=phishing");
	update(e, id, "vector=mail");
	update(e, id, "risk=none");
	(void)it_tpath(e, "out", out);
	assert_int_equal(mkdir(out, 0777), 0);
	assert_int_equal(chmod(out, 01777), 0);

	/* Intact: the bundle verifies against what was shipped. */
	xsnp(b, sizeof(b), "%s/b1", out);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, "--customer", "acme", NULL), 0);
	xsnp(p, sizeof(p), "%s/checkpoint.txt", b);
	assert_int_equal(it_read_file(p, &text, &len), 0);
	/* Its fresh checkpoint is shipped too. */
	end = (double)time(NULL) + WAIT_S;
	for (;;) {
		jr = journal(e);
		wait_hec(json_array_size(jr));
		cps = acme_shipped(e, jr);
		json_decref(jr);
		for (i = 0; i < json_array_size(cps); i++)
			if (strcmp(jstr(json_array_get(cps, i), "text"),
			    text) == 0)
				break;
		if (i < json_array_size(cps))
			break;
		json_decref(cps);
		if ((double)time(NULL) > end)
			fail_msg("the bundle's checkpoint was not shipped");
		(void)usleep(300 * 1000);
	}
	free(text);
	/* Every entry-count checkpoint_every=2 asked for, and more. */
	assert_true(i >= 2);
	history_from(b, cps, i + 1);
	json_decref(cps);
	if (it_cordon(e, IT_ROOT, "journal", "verify", b, NULL) != 0)
		fail_msg("intact bundle, shipped history: %s%s", e->out,
		    e->err);
	if (verify_script(e, b) != 0)
		fail_msg("verify-bundle.sh, intact: %s%s", e->out, e->err);

	/*
	 * Someone with root on the host drops the newest entries (and the
	 * checkpoints that name them), as if they never happened.
	 */
	jr = journal(e);
	n = json_array_size(jr);
	json_decref(jr);
	k = n - 3;
	assert_int_equal(it_agent_stop(e), 0);
	xsnp(sql, sizeof(sql), "DROP TRIGGER journal_no_delete; "
	    "DROP TRIGGER checkpoints_no_delete; "
	    "DELETE FROM journal WHERE seq > %zu; "
	    "DELETE FROM checkpoints WHERE size > %zu;", k, k);
	if (it_runv(e, IT_ROOT, NULL, sqlv, IT_CMD_TIMEOUT_S) != 0)
		fail_msg("sqlite3: %s", e->err);
	assert_int_equal(it_agent_start(e, 0), 0);
	/* The feed notices it had more than the journal now holds. */
	assert_int_equal(it_wait_file_has(e->log, "was it truncated?", 10.0),
	    0);
	assert_int_equal(it_file_has(e->log, "were they truncated?"), 1);

	/* On its own, the truncated bundle is consistent... */
	xsnp(b, sizeof(b), "%s/b2", out);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, "--customer", "acme", NULL), 0);
	if (it_cordon(e, IT_ROOT, "journal", "verify", b, NULL) != 0)
		fail_msg("truncated bundle alone: %s%s", e->out, e->err);
	/* ...but not with the checkpoints shipped before the truncation. */
	jr = journal(e);
	assert_int_equal(json_array_size(jr), k);
	json_decref(jr);
	cps = shipped_checkpoints("acme");
	assert_true(json_integer_value(json_object_get(json_array_get(cps,
	    json_array_size(cps) - 1), "size")) > (json_int_t)k);
	/* The newest shipped checkpoint, as an auditor keeps it, shows it. */
	text = (char *)jstr(json_array_get(cps, json_array_size(cps) - 1),
	    "text");
	xsnp(p, sizeof(p), "%s/known.txt", out);
	assert_int_equal(it_write_file(p, text, strlen(text), 0644), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "journal", "verify", b,
	    "--known-checkpoint", p, NULL), 1);
	assert_true(it_err_has(e, "cut back to an earlier checkpoint"));
	history_from(b, cps, json_array_size(cps));
	json_decref(cps);
	assert_int_not_equal(it_cordon(e, IT_ROOT, "journal", "verify", b,
	    NULL), 0);
	assert_true(it_err_has(e, "more entries than the journal") ||
	    it_out_has(e, "more entries than the journal"));
	assert_int_equal(verify_script(e, b), 1);
	assert_true(it_err_has(e, "verify-bundle: FAILED"));
}

/*
 * A collector that takes a batch and never answers holds up only its
 * feed: the agent keeps answering requests meanwhile (it would wait out
 * the whole stall if the feed sent from its main loop), and the entries
 * made during the stall still arrive, once each.
 */
static void
test_feed_stall_never_blocks_requests(void **state)
{
	struct it_env	*e = *state;
	json_t		*jr;
	char		 conf[2048], id[32], log[IT_PATH_MAX];
	double		 t0, dt;

	hec_setup(e);
	xsnp(conf, sizeof(conf), "\tfeeds = (\n"
	    "\t\t{ type = \"hec\"; url = \"" HEC_URL "\";"
	    " token_file = \"%s/token\"; ca_file = \"%s/ca.pem\"; batch = 2;"
	    " timeout = 10; retry_max = 1; index = \"cordon\";"
	    " host = \"cordon-it-hec\"; }\n"
	    "\t);\n", hec_dir, hec_dir);
	start_agent(e, conf);
	assert_int_equal(it_incident_open(e, id), 0);
	jr = journal(e);
	wait_hec(json_array_size(jr));
	json_decref(jr);

	hec_faults("[{\"status\": \"stall\", \"seconds\": 8, \"count\": 1}]");
	update(e, id, "risk=high");
	xsnp(log, sizeof(log), "%s/requests.log", hec_dir);
	assert_int_equal(it_wait_file_has(log, "stall 0\n", 10.0), 0);
	t0 = now_mono();
	update(e, id, "cause=phishing");
	update(e, id, "vector=mail");
	dt = now_mono() - t0;
	(void)fprintf(stderr, "updates during the stall: %.2f s\n", dt);
	if (dt > 3.0)
		fail_msg("two updates took %.1f s while a collector stalled",
		    dt);
	jr = journal(e);
	wait_hec(json_array_size(jr));
	(void)usleep(1000 * 1000);	/* a duplicate would show now */
	json_decref(check_hec(e, jr));
	json_decref(jr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_feed_syslog_rsyslog_tcp_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_oversize_entry_cut_not_stalled, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_hec_faults_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_stall_never_blocks_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_checkpoints_shipped_show_truncation, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    it_group_teardown);
}
