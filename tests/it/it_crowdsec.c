/*
 * it_crowdsec: host isolation through config/providers/crowdsec.profile
 * against a real CrowdSec Local API (Debian's crowdsec 1.4, started by
 * scripts/crowdsec-start.sh on https://127.0.0.1:CS_PORT with a test CA;
 * TLS verification on in cordon).  What cordon did is read back
 * independently: through the bouncer API with our own libcurl request, and
 * with cscli against the LAPI's own database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"

#define PORT		38956
#define CS_PORT		38970
#define CS_BATCH	12
#define WRONG_KEY	"not-the-bouncer-key-0123456789ab"
/* JSON metacharacters that would close the alert and add a decision. */
#define HOSTILE_REASON	"evil\"}],\"decisions\":[{\"type\":\"captcha\\ <&>"

static char		cs_dir[IT_PATH_MAX];
static pid_t		cs_child;	/* a LAPI this program restarted */
static char		targets[4096];
static struct it_conf	csconf;

static void xsnp(char *, size_t, const char *, ...)
	__attribute__((format(printf, 3, 4)));

/* snprintf for test paths and messages: truncation is the caller's. */
static void
xsnp(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static int
cs_script(struct it_env *e, const char *name, int with_port)
{
	char		 path[IT_PATH_MAX], port[16];
	const char	*argv[] = { path, cs_dir, with_port ? port : NULL,
	    NULL };

	xsnp(path, sizeof(path), "%s/%s", e->scripts, name);
	xsnp(port, sizeof(port), "%d", CS_PORT);
	if (it_runv(e, IT_ROOT, NULL, argv, 60) == 0)
		return 0;
	(void)fprintf(stderr, "%s exited %d: %s%s\n", name, e->status, e->out,
	    e->err);
	return -1;
}

/* cscli -c CS/config.yaml ARGS... as root; its JSON output or NULL. */
static json_t *
cscli(struct it_env *e, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5, const char *a6, const char *a7)
{
	char		 conf[IT_PATH_MAX];
	const char	*argv[] = { "cscli", "-c", conf, a1, a2, a3, a4, a5, a6,
	    a7, NULL };

	xsnp(conf, sizeof(conf), "%s/config.yaml", cs_dir);
	if (it_runv(e, IT_ROOT, NULL, argv, 30) != 0) {
		(void)fprintf(stderr, "cscli %s %s: exit %d: %s\n", a1, a2,
		    e->status, e->err);
		return NULL;
	}
	return json_loads(e->out, JSON_DECODE_ANY, NULL);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct { char *p; size_t len; } *b = arg;
	char	*np = realloc(b->p, b->len + size * n + 1);

	if (np == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, p, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/*
 * What a bouncer sees for ip: GET /v1/decisions?ip= with the bouncer key,
 * CA verified.  Fails the test unless HTTP 200; returns the body (JSON
 * null when there is no decision).
 */
static json_t *
bouncer_decisions(const char *ip)
{
	struct { char *p; size_t len; } b = { NULL, 0 };
	struct curl_slist	*h = NULL;
	CURL			*c = curl_easy_init();
	char			 url[256], ca[IT_PATH_MAX], kf[IT_PATH_MAX];
	char			 hdr[256], *key = NULL, *q;
	size_t			 klen;
	long			 status = 0;
	json_t			*j;

	assert_non_null(c);
	xsnp(ca, sizeof(ca), "%s/tls/ca.pem", cs_dir);
	xsnp(kf, sizeof(kf), "%s/bouncer.key", cs_dir);
	assert_int_equal(it_read_file(kf, &key, &klen), 0);
	key[strcspn(key, "\r\n")] = '\0';
	xsnp(hdr, sizeof(hdr), "X-Api-Key: %s", key);
	free(key);
	q = curl_easy_escape(c, ip, 0);
	assert_non_null(q);
	xsnp(url, sizeof(url), "https://127.0.0.1:%d/v1/decisions?ip=%s",
	    CS_PORT, q);
	curl_free(q);
	h = curl_slist_append(h, hdr);
	assert_non_null(h);
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	assert_int_equal(status, 200);
	assert_non_null(b.p);
	j = json_loads(b.p, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		fail_msg("bouncer API answered '%s'", b.p);
	free(b.p);
	return j;
}

/*
 * Requests in the LAPI's access log ("POST /v1/alerts HTTP/2.0 401 ...")
 * with this method and path that got this status, whatever the HTTP
 * version.
 */
static int
lapi_log_count(const char *req, int status)
{
	char	path[IT_PATH_MAX], want[16], *t, *line, *nl, *p, *q;
	size_t	len;
	int	n = 0;

	xsnp(path, sizeof(path), "%s/lapi.log", cs_dir);
	xsnp(want, sizeof(want), " %d ", status);
	assert_int_equal(it_read_file(path, &t, &len), 0);
	for (line = t; line && *line; line = nl ? nl + 1 : NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((p = strstr(line, req)) == NULL ||
		    strncmp(p + strlen(req), " HTTP/", 6) != 0 ||
		    (q = strchr(p + strlen(req) + 1, ' ')) == NULL)
			continue;
		if (strncmp(q, want, strlen(want)) == 0)
			n++;
	}
	free(t);
	return n;
}

/*
 * Stops the LAPI and starts it again on the same config and database.
 * CrowdSec signs its JWTs with a key made at start, so every token cordon
 * holds is refused from now on (401 "signature is invalid").
 */
static void
lapi_restart(struct it_env *e)
{
	char		conf[IT_PATH_MAX], log[IT_PATH_MAX], pidf[IT_PATH_MAX];
	char		pid[32], url[128], ca[IT_PATH_MAX];
	pid_t		p;
	CURL		*c;
	long		status = 0;
	int		i, fd, nul;

	assert_int_equal(cs_script(e, "crowdsec-stop.sh", 0), 0);
	if (cs_child > 0) {
		assert_int_equal(waitpid(cs_child, NULL, 0), cs_child);
		cs_child = 0;
	}
	xsnp(conf, sizeof(conf), "%s/config.yaml", cs_dir);
	xsnp(log, sizeof(log), "%s/lapi.log", cs_dir);
	xsnp(pidf, sizeof(pidf), "%s/crowdsec.pid", cs_dir);
	xsnp(ca, sizeof(ca), "%s/tls/ca.pem", cs_dir);
	assert_true((p = fork()) >= 0);
	if (p == 0) {
		if ((fd = open(log, O_WRONLY | O_APPEND)) < 0 ||
		    (nul = open("/dev/null", O_RDONLY)) < 0 ||
		    dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execlp("crowdsec", "crowdsec", "-c", conf, "-no-cs",
		    (char *)NULL);
		_exit(127);
	}
	cs_child = p;
	xsnp(pid, sizeof(pid), "%ld\n", (long)p);
	assert_int_equal(it_write_file(pidf, pid, strlen(pid), 0644), 0);
	/* Up when an unauthenticated request is refused (403). */
	xsnp(url, sizeof(url), "https://127.0.0.1:%d/v1/decisions", CS_PORT);
	for (i = 0; i < 200 && status != 403; i++) {
		struct timespec ts = { 0, 100000000 };

		assert_int_equal(waitpid(p, NULL, WNOHANG), 0);
		assert_non_null(c = curl_easy_init());
		(void)curl_easy_setopt(c, CURLOPT_URL, url);
		(void)curl_easy_setopt(c, CURLOPT_CAINFO, ca);
		(void)curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
		if (curl_easy_perform(c) == CURLE_OK)
			(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE,
			    &status);
		curl_easy_cleanup(c);
		if (status != 403)
			(void)nanosleep(&ts, NULL);
	}
	assert_int_equal(status, 403);
}

/* Decisions in l (an array or null) with this origin and scenario. */
static int
count_dec(const json_t *l, const char *origin, const char *scenario)
{
	const json_t	*d;
	size_t		 i;
	int		 n = 0;

	json_array_foreach(l, i, d)
		if (strcmp(json_string_value(json_object_get(d, "origin")),
		    origin) == 0 && strcmp(json_string_value(json_object_get(d,
		    "scenario")), scenario) == 0 &&
		    strcmp(json_string_value(json_object_get(d, "type")),
		    "ban") == 0)
			n++;
	return n;
}

/* libconfig string body: escape " and \. */
static void
cfg_esc(char *out, size_t len, const char *s)
{
	size_t	o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
}

static int
runbook_write(struct it_env *e, const char *target)
{
	char	path[IT_PATH_MAX], text[2048], reason[256];
	int	n;

	cfg_esc(reason, sizeof(reason), HOSTILE_REASON);
	xsnp(path, sizeof(path), "%s/isolate-%s.runbook", e->dir, target);
	n = snprintf(text, sizeof(text),
	    "name = \"isolate-%s\";\n"
	    "params = (\n"
	    "\t{ name = \"accounts\"; type = \"list\"; required = true; },\n"
	    "\t{ name = \"reason\"; type = \"string\"; required = false;\n"
	    "\t  default = \"%s\"; }\n"
	    ");\n"
	    "steps = (\n"
	    "\t{ name = \"isolate\"; verb = \"firewall.isolate_host\";\n"
	    "\t  target = \"%s\"; foreach = \"${accounts}\";\n"
	    "\t  args = { host = \"${item}\"; reason = \"${reason}\"; };\n"
	    "\t  approval = \"none\"; on_failure = \"continue\"; }\n"
	    ");\n", target, reason, target);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	return it_write_file(path, text, (size_t)n, 0644);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 prov[IT_PATH_MAX], wk[IT_PATH_MAX];
	int		 n;

	if (it_group_setup(state, PORT) != 0)
		return -1;
	e = *state;
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
	xsnp(cs_dir, sizeof(cs_dir), "%s/cs", e->dir);
	if (mkdir(cs_dir, 0711) != 0 ||
	    cs_script(e, "crowdsec-start.sh", 1) != 0)
		return -1;
	xsnp(wk, sizeof(wk), "%s/wrong.key", e->dir);
	if (it_write_file(wk, WRONG_KEY "\n", strlen(WRONG_KEY) + 1,
	    0600) != 0)
		return -1;
	xsnp(prov, sizeof(prov), "%s/../config/providers", e->scripts);
#define TGT(name, bkey) \
	"{ name = \"" name "\"; type = \"firewall\"; provider = \"crowdsec\"; " \
	"base_url = \"https://127.0.0.1:%d\"; ca_file = \"%s/tls/ca.pem\"; " \
	"key_file = \"%s/machine.id\"; secret_file = \"%s/machine.pw\"; " \
	"bouncer_key_file = \"" bkey "\"; profile_dir = \"%s\"; }"
	n = snprintf(targets, sizeof(targets),
	    TGT("cs", "%s/bouncer.key") ",\n"
	    TGT("cs-badkey", "%s"),
	    CS_PORT, cs_dir, cs_dir, cs_dir, cs_dir, prov,
	    CS_PORT, cs_dir, cs_dir, cs_dir, wk, prov);
#undef TGT
	if (n < 0 || (size_t)n >= sizeof(targets))
		return -1;
	csconf.targets_extra = targets;
	csconf.verbose = getenv("CS_VERBOSE") != NULL;
	if (runbook_write(e, "cs") != 0 || runbook_write(e, "cs-badkey") != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	struct it_env	*e = *state;
	int		 r = 0;

	if (e && cs_dir[0] && cs_script(e, "crowdsec-stop.sh", 0) != 0)
		r = -1;
	if (cs_child > 0 && waitpid(cs_child, NULL, 0) != cs_child)
		r = -1;
	curl_global_cleanup();
	if (it_group_teardown(state) != 0)
		r = -1;
	return r;
}

static int
setup(void **state)
{
	return it_test_setup(*state, &csconf);
}

static int
teardown(void **state)
{
	return it_test_teardown(*state);
}

/* Runs the target's runbook over hosts; ids of the queued actions. */
static size_t
isolate(struct it_env *e, const char *target, const char *hosts,
    int64_t *ids, size_t max)
{
	char	inc[32], rb[IT_PATH_MAX];
	size_t	n = 0;
	int	r;

	xsnp(rb, sizeof(rb), "%s/isolate-%s.runbook", e->dir, target);
	assert_int_equal(it_incident_open(e, inc), 0);
	r = it_run_accounts(e, IT_OP, rb, inc, hosts, ids, max, &n);
	if (r != 0 && r != 1)
		fail_msg("run exit %d: %s%s", r, e->out, e->err);
	return n;
}

static int64_t
undo(struct it_env *e, int64_t id)
{
	char		ref[32];
	long long	u, run;

	xsnp(ref, sizeof(ref), "A%lld", (long long)id);
	assert_int_equal(it_cordon(e, IT_OP, "undo", ref, NULL), 0);
	if (sscanf(e->out, "undo of %*s queued as A%lld (run %lld)", &u,
	    &run) != 2)
		fail_msg("cannot read the undo id from '%s'", e->out);
	if (it_out_has(e, "awaiting_approval")) {
		xsnp(ref, sizeof(ref), "A%lld", u);
		assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL),
		    0);
	}
	return u;
}

static const char *
action_msg(struct it_env *e, int64_t id, char *buf, size_t len)
{
	json_t	*a = it_action(e, id);

	buf[0] = '\0';
	if (a) {
		char *d = json_dumps(a, JSON_COMPACT);

		xsnp(buf, len, "%s", d ? d : "");
		free(d);
		json_decref(a);
	}
	return buf;
}

/* The LAPI's own account of a failure: the end of its log. */
static void
lapi_log_tail(void)
{
	char	path[IT_PATH_MAX], *s;
	size_t	len;

	xsnp(path, sizeof(path), "%s/lapi.log", cs_dir);
	if (it_read_file(path, &s, &len) != 0)
		return;
	(void)fprintf(stderr, "lapi.log ends:\n%s\n", len > 3000 ?
	    s + len - 3000 : s);
	free(s);
}

static void
wait_state(struct it_env *e, int64_t id, const char *want)
{
	char	buf[8192];

	if (it_wait_action(e, id, want, 30.0) != 0) {
		lapi_log_tail();
		fail_msg("A%lld not %s: %s", (long long)id, want,
		    action_msg(e, id, buf, sizeof(buf)));
	}
}

/* Neither credential may show up in what cordon records or logs. */
static void
assert_no_secrets(struct it_env *e)
{
	static const char *const files[] = { "machine.pw", "bouncer.key" };
	char	 path[IT_PATH_MAX], *s, *all;
	json_t	*j = it_journal(e);
	size_t	 i, len;

	assert_non_null(j);
	all = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(all);
	for (i = 0; i < 2; i++) {
		xsnp(path, sizeof(path), "%s/%s", cs_dir, files[i]);
		assert_int_equal(it_read_file(path, &s, &len), 0);
		s[strcspn(s, "\r\n")] = '\0';
		assert_true(strlen(s) >= 16);
		if (strstr(all, s) != NULL)
			fail_msg("%s found in the journal", files[i]);
		assert_int_equal(it_file_has(e->log, s), 0);
		free(s);
	}
	if (strstr(all, WRONG_KEY) != NULL)
		fail_msg("the wrong bouncer key found in the journal");
	assert_int_equal(it_file_has(e->log, WRONG_KEY), 0);
	free(all);
}

static void
test_cs_isolate_verify_undo(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2], u0, u1;
	json_t		*d, *a, *l;
	char		 buf[8192];

	/* Somebody banned .5 before cordon came: that ban is not cordon's. */
	l = cscli(e, "decisions", "add", "--ip", "10.214.0.5", "--duration",
	    "2h", "--reason=pre-existing");
	json_decref(l);
	assert_int_equal(e->status, 0);
	d = bouncer_decisions("10.214.0.5");
	assert_int_equal(count_dec(d, "cscli", "pre-existing"), 1);
	json_decref(d);

	assert_int_equal(isolate(e, "cs", "10.214.0.5,fd00:214::5", ids, 2),
	    2);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");

	/* A bouncer now sees cordon's ban, next to the older one. */
	d = bouncer_decisions("10.214.0.5");
	assert_int_equal(json_array_size(d), 2);
	assert_int_equal(count_dec(d, "cordon", "cordon/isolate"), 1);
	assert_int_equal(count_dec(d, "cscli", "pre-existing"), 1);
	json_decref(d);
	d = bouncer_decisions("fd00:214::5");
	assert_int_equal(json_array_size(d), 1);
	assert_int_equal(count_dec(d, "cordon", "cordon/isolate"), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(d, 0), "value")), "fd00:214::5");
	json_decref(d);
	/* And so does the LAPI's own database, read by cscli. */
	/* -a: without it cscli lists only its own and crowdsec's origins. */
	l = cscli(e, "decisions", "list", "-a", "-o", "json", "--ip",
	    "fd00:214::5");
	assert_int_equal(json_array_size(l), 1);
	d = json_array_get(json_object_get(json_array_get(l, 0), "decisions"),
	    0);
	assert_string_equal(json_string_value(json_object_get(d, "origin")),
	    "cordon");
	assert_string_equal(json_string_value(json_object_get(d, "type")),
	    "ban");
	json_decref(l);

	/* Verify read the ban back; the decision's id was captured. */
	a = it_action(e, ids[0]);
	assert_non_null(a);
	(void)action_msg(e, ids[0], buf, sizeof(buf));
	if (strstr(buf, "\"isolated\":true") == NULL ||
	    strstr(buf, "\"decision_id\":\"") == NULL)
		fail_msg("no read-back or captured id in %s", buf);
	json_decref(a);

	/* Undo deletes cordon's decision only; the older ban stays. */
	u0 = undo(e, ids[0]);
	u1 = undo(e, ids[1]);
	wait_state(e, u0, "succeeded");
	wait_state(e, u1, "succeeded");
	wait_state(e, ids[0], "undone");
	wait_state(e, ids[1], "undone");
	d = bouncer_decisions("10.214.0.5");
	assert_int_equal(json_array_size(d), 1);
	assert_int_equal(count_dec(d, "cscli", "pre-existing"), 1);
	json_decref(d);
	/* No decision: HTTP 200 with the body null. */
	d = bouncer_decisions("fd00:214::5");
	assert_true(json_is_null(d));
	json_decref(d);
	assert_no_secrets(e);
}

static void
test_cs_already_banned_by_cordon(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id, id2, u;
	json_t		*d;

	assert_int_equal(isolate(e, "cs", "10.214.0.6", &id, 1), 1);
	wait_state(e, id, "succeeded");
	/* A second isolation finds cordon's ban and adds none. */
	assert_int_equal(isolate(e, "cs", "10.214.0.6", &id2, 1), 1);
	wait_state(e, id2, "succeeded");
	d = bouncer_decisions("10.214.0.6");
	assert_int_equal(json_array_size(d), 1);
	json_decref(d);
	u = undo(e, id);
	wait_state(e, u, "succeeded");
	d = bouncer_decisions("10.214.0.6");
	assert_true(json_is_null(d));
	json_decref(d);
}

static void
test_cs_hostile_values(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2];
	json_t		*l, *al, *d;
	char		 buf[8192];

	/* Not an address: refused before anything reaches the LAPI. */
	assert_int_equal(isolate(e, "cs", "10.214.0.7\"}]&ip=1.2.3.4,"
	    "10.214.0.8", ids, 2), 2);
	wait_state(e, ids[0], "failed");
	wait_state(e, ids[1], "succeeded");
	(void)action_msg(e, ids[0], buf, sizeof(buf));
	if (strstr(buf, "not an IPv4 or IPv6 address") == NULL)
		fail_msg("no reason in %s", buf);
	d = bouncer_decisions("1.2.3.4");
	assert_true(json_is_null(d));
	json_decref(d);
	d = bouncer_decisions("10.214.0.7");
	assert_true(json_is_null(d));
	json_decref(d);

	/* The reason lands in the alert's message as one JSON string: no
	 * extra decision, no captcha, the text intact. */
	d = bouncer_decisions("10.214.0.8");
	assert_int_equal(json_array_size(d), 1);
	assert_int_equal(count_dec(d, "cordon", "cordon/isolate"), 1);
	json_decref(d);
	l = cscli(e, "alerts", "list", "-a", "-o", "json", "--ip",
	    "10.214.0.8");
	assert_int_equal(json_array_size(l), 1);
	al = json_array_get(l, 0);
	assert_string_equal(json_string_value(json_object_get(al, "message")),
	    HOSTILE_REASON);
	assert_int_equal(json_array_size(json_object_get(al, "decisions")), 1);
	json_decref(l);
}

static void
test_cs_wrong_bouncer_key(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	json_t		*d, *l;
	char		 buf[8192];

	assert_int_equal(isolate(e, "cs-badkey", "10.214.0.9", &id, 1), 1);
	wait_state(e, id, "failed");
	/* The read-back that verify relies on is refused, and says so;
	 * nothing is written when the result could not be proven. */
	(void)action_msg(e, id, buf, sizeof(buf));
	if (strstr(buf, "cannot read the state") == NULL ||
	    strstr(buf, "HTTP 403") == NULL)
		fail_msg("no clear reason in %s", buf);
	d = bouncer_decisions("10.214.0.9");
	assert_true(json_is_null(d));
	json_decref(d);
	l = cscli(e, "alerts", "list", "-a", "-o", "json", "--ip",
	    "10.214.0.9");
	assert_true(json_is_null(l) || json_array_size(l) == 0);
	json_decref(l);
	assert_no_secrets(e);
}

/* One run, many addresses: parallel requests on one connection pool. */
static void
test_cs_batch(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[CS_BATCH], u[CS_BATCH];
	char		 hosts[CS_BATCH * 16], ip[16];
	json_t		*d;
	size_t		 i, o = 0;

	for (i = 0; i < CS_BATCH; i++)
		o += (size_t)snprintf(hosts + o, sizeof(hosts) - o,
		    "%s10.214.1.%zu", i ? "," : "", i + 1);
	assert_int_equal(isolate(e, "cs", hosts, ids, CS_BATCH), CS_BATCH);
	for (i = 0; i < CS_BATCH; i++)
		wait_state(e, ids[i], "succeeded");
	for (i = 0; i < CS_BATCH; i++) {
		xsnp(ip, sizeof(ip), "10.214.1.%zu", i + 1);
		d = bouncer_decisions(ip);
		assert_int_equal(count_dec(d, "cordon", "cordon/isolate"), 1);
		json_decref(d);
	}
	for (i = 0; i < CS_BATCH; i++)
		u[i] = undo(e, ids[i]);
	for (i = 0; i < CS_BATCH; i++)
		wait_state(e, u[i], "succeeded");
	for (i = 0; i < CS_BATCH; i++) {
		xsnp(ip, sizeof(ip), "10.214.1.%zu", i + 1);
		d = bouncer_decisions(ip);
		assert_true(json_is_null(d));
		json_decref(d);
	}
}

static void
test_cs_login_refresh(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2], id;
	int		 logins, refused;
	json_t		*d;

	logins = lapi_log_count("POST /v1/watchers/login", 200);
	assert_int_equal(isolate(e, "cs", "10.214.2.1,10.214.2.2", ids, 2), 2);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");
	/* One login serves the batch. */
	assert_int_equal(lapi_log_count("POST /v1/watchers/login", 200),
	    logins + 1);

	/* The token cordon cached dies with the LAPI's signing key: one 401,
	 * one fresh login, and the isolation goes through. */
	lapi_restart(e);
	refused = lapi_log_count("POST /v1/alerts", 401);
	assert_int_equal(isolate(e, "cs", "10.214.2.3", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(lapi_log_count("POST /v1/alerts", 401), refused + 1);
	assert_int_equal(lapi_log_count("POST /v1/watchers/login", 200),
	    logins + 2);
	d = bouncer_decisions("10.214.2.3");
	assert_int_equal(count_dec(d, "cordon", "cordon/isolate"), 1);
	json_decref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cs_isolate_verify_undo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_cs_already_banned_by_cordon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cs_hostile_values,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cs_wrong_bouncer_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cs_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cs_login_refresh, setup,
		    teardown),
	};

	if (getenv("CS_ONLY"))
		cmocka_set_test_filter(getenv("CS_ONLY"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
