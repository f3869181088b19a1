/*
 * it_firewall: host isolation through provider profiles, end to end: the
 * real cordon agent drives the profiles in config/providers against
 * tests/it/fake_vendors.py, a loopback HTTPS server that speaks each
 * vendor's documented contract, with TLS verification on.  Every test
 * asserts what the server received, byte for byte where it matters
 * (escaping), and what the server's state is afterwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"

#define PORT		38927
#define FAKE_PORT	38940
#define FW_KEY		"cordon-client-id"
#define FW_SECRET	"s3cr3t-T0ken-xyz"
/* JSON, XML and URL metacharacters, and no comma (a list separator). */
#define NASTY		"dev\"<x>&y?z=1/2%41 'q'#\\"

static pid_t	fake_pid;

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
static char	fake_dir[IT_PATH_MAX];
static char	ca_pem[IT_PATH_MAX];
static char	targets[4096];
static struct it_conf fwconf;

static const char *
py3(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
	    "python3";
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct { char *p; size_t len; } *b = arg;

	b->p = realloc(b->p, b->len + size * n + 1);
	if (b->p == NULL)
		return 0;
	memcpy(b->p + b->len, p, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

/* A control request to the fake server; its JSON answer, or NULL. */
static json_t *
ctl(const char *path, const char *body)
{
	struct { char *p; size_t len; } b = { NULL, 0 };
	CURL	*c = curl_easy_init();
	char	 url[256];
	json_t	*j = NULL;

	xsnp(url, sizeof(url), "https://127.0.0.1:%d%s", FAKE_PORT,
	    path);
	if (c == NULL)
		return NULL;
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_CAINFO, ca_pem);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (body)
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK && b.p)
		j = json_loads(b.p, JSON_DECODE_ANY, NULL);
	curl_easy_cleanup(c);
	free(b.p);
	return j;
}

static void
ctl_ok(const char *path, const char *body)
{
	json_t	*j = ctl(path, body);

	if (j == NULL)
		fail_msg("fake server control %s failed", path);
	json_decref(j);
}

static int
fake_start(struct it_env *e)
{
	char	kf[IT_PATH_MAX], sf[IT_PATH_MAX], rdy[IT_PATH_MAX];
	char	script[IT_PATH_MAX], port[16];
	int	i;

	xsnp(fake_dir, sizeof(fake_dir), "%s/fake", e->dir);
	xsnp(kf, sizeof(kf), "%s/fw.key", e->dir);
	xsnp(sf, sizeof(sf), "%s/fw.secret", e->dir);
	xsnp(rdy, sizeof(rdy), "%s/fake.ready", fake_dir);
	xsnp(ca_pem, sizeof(ca_pem), "%s/ca.pem", fake_dir);
	xsnp(script, sizeof(script), "%s/../tests/it/fake_vendors.py",
	    e->scripts);
	xsnp(port, sizeof(port), "%d", FAKE_PORT);
	if (mkdir(fake_dir, 0755) != 0 ||
	    it_write_file(kf, FW_KEY "\n", strlen(FW_KEY) + 1, 0600) != 0 ||
	    it_write_file(sf, FW_SECRET "\n", strlen(FW_SECRET) + 1, 0600) != 0)
		return -1;
	if ((fake_pid = fork()) < 0)
		return -1;
	if (fake_pid == 0) {
		const char *argv[] = { py3(), script, "--dir", fake_dir,
		    "--port", port, "--key-file", kf, "--secret-file", sf,
		    NULL };

		if (strchr(argv[0], '/'))
			execv(argv[0], (char *const *)argv);
		else
			execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 300; i++) {
		if (access(rdy, F_OK) == 0)
			return 0;
		if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid) {
			fake_pid = 0;
			(void)fprintf(stderr, "%s: fake_vendors.py exited\n",
			    __func__);
			return -1;
		}
		(void)usleep(100000);
	}
	(void)fprintf(stderr, "%s: fake_vendors.py not ready in 30 s\n",
	    __func__);
	return -1;
}

static void
fake_stop(void)
{
	int	i;

	if (fake_pid <= 0)
		return;
	(void)kill(fake_pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid) {
			fake_pid = 0;
			return;
		}
		(void)usleep(100000);
	}
	(void)kill(fake_pid, SIGKILL);
	(void)waitpid(fake_pid, NULL, 0);
	fake_pid = 0;
}

/* One runbook per target: hosts (a list) and an optional reason. */
static int
runbook_write(struct it_env *e, const char *target)
{
	char	path[IT_PATH_MAX], text[1024];
	int	n;

	xsnp(path, sizeof(path), "%s/isolate-%s.runbook", e->dir,
	    target);
	n = snprintf(text, sizeof(text),
	    "name = \"isolate-%s\";\n"
	    "params = (\n"
	    "\t{ name = \"accounts\"; type = \"list\"; required = true; },\n"
	    "\t{ name = \"reason\"; type = \"string\"; required = false;\n"
	    "\t  default = \"phishing <b>&\\\"c2\\\"\"; }\n"
	    ");\n"
	    "steps = (\n"
	    "\t{ name = \"isolate\"; verb = \"firewall.isolate_host\";\n"
	    "\t  target = \"%s\"; foreach = \"${accounts}\";\n"
	    "\t  args = { host = \"${item}\"; reason = \"${reason}\"; };\n"
	    "\t  approval = \"none\"; on_failure = \"continue\"; }\n"
	    ");\n", target, target);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	return it_write_file(path, text, (size_t)n, 0644);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	static const char *const tg[] = { "fw-opn", "fw-cs", "fw-s1",
	    "fw-hook", "fw-badtls" };
	char		 prov[IT_PATH_MAX];
	size_t		 i;
	int		 n;

	if (it_group_setup(state, PORT) != 0)
		return -1;
	e = *state;
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
	if (fake_start(e) != 0)
		return -1;
	xsnp(prov, sizeof(prov), "%s/../config/providers",
	    e->scripts);
#define TGT(name, provider, ca) \
	"{ name = \"" name "\"; type = \"firewall\"; provider = \"" \
	provider "\"; base_url = \"https://127.0.0.1:%d\"; " \
	"ca_file = \"%s/" ca "\"; key_file = \"%s/fw.key\"; " \
	"secret_file = \"%s/fw.secret\"; profile_dir = \"%s\"; }"
	n = snprintf(targets, sizeof(targets),
	    TGT("fw-opn", "opnsense", "ca.pem") ",\n"
	    TGT("fw-cs", "crowdstrike", "ca.pem") ",\n"
	    TGT("fw-s1", "sentinelone", "ca.pem") ",\n"
	    TGT("fw-hook", "webhook", "ca.pem") ",\n"
	    TGT("fw-badtls", "opnsense", "other-ca.pem"),
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov);
#undef TGT
	if (n < 0 || (size_t)n >= sizeof(targets))
		return -1;
	fwconf.targets_extra = targets;
	fwconf.verbose = getenv("FW_VERBOSE") != NULL;
	for (i = 0; i < sizeof(tg) / sizeof(tg[0]); i++)
		if (runbook_write(e, tg[i]) != 0)
			return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	fake_stop();
	curl_global_cleanup();
	return it_group_teardown(state);
}

static int
setup(void **state)
{
	json_t	*j = ctl("/_ctl/reset", "{}");

	if (j == NULL)
		return -1;
	json_decref(j);
	return it_test_setup(*state, &fwconf);
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

	xsnp(rb, sizeof(rb), "%s/isolate-%s.runbook", e->dir,
	    target);
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

/* Requests the server got with method and a path starting with prefix. */
static int
req_count(const char *method, const char *prefix, const char *body)
{
	json_t	*l = ctl("/_ctl/requests", NULL), *r;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(l, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "method")),
		    method) != 0 || strncmp(json_string_value(json_object_get(r,
		    "path")), prefix, strlen(prefix)) != 0)
			continue;
		if (body && strcmp(json_string_value(json_object_get(r,
		    "body")), body) != 0)
			continue;
		n++;
	}
	json_decref(l);
	return n;
}

static void
dump_requests(void)
{
	json_t	*l = ctl("/_ctl/requests", NULL);
	char	*d = l ? json_dumps(l, JSON_INDENT(1)) : NULL;

	(void)fprintf(stderr, "server saw: %s\n", d ? d : "(nothing)");
	free(d);
	json_decref(l);
}

static void
wait_state(struct it_env *e, int64_t id, const char *want)
{
	char	buf[4096];

	if (it_wait_action(e, id, want, 30.0) != 0) {
		dump_requests();
		fail_msg("A%lld not %s: %s", (long long)id, want,
		    action_msg(e, id, buf, sizeof(buf)));
	}
}

/* The fake's state of alias, device or agent collections. */
static json_t *
fake_get(const char *coll, const char *key)
{
	json_t	*s = ctl("/_ctl/get", "{}"), *v;

	v = json_incref(json_object_get(json_object_get(s, coll), key));
	json_decref(s);
	return v;
}

static void
test_fw_opnsense_isolate_undo(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[4], u1, u2;
	json_t		*al;
	char		 want[128];

	/* .9 was quarantined by somebody else before cordon came. */
	ctl_ok("/_ctl/state", "{\"aliases\":{\"cordon_quarantine\":"
	    "[\"10.213.0.9\"]}}");
	assert_int_equal(isolate(e, "fw-opn", "10.213.0.5,10.213.0.9,"
	    "fd00:213::5", ids, 4), 3);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");
	wait_state(e, ids[2], "succeeded");
	al = fake_get("aliases", "cordon_quarantine");
	assert_int_equal(json_array_size(al), 3);
	json_decref(al);
	/* One add each for the new ones, none for .9; basic auth. */
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/"
	    "cordon_quarantine", "{\"address\":\"10.213.0.5\"}"), 1);
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/"
	    "cordon_quarantine", "{\"address\":\"fd00:213::5\"}"), 1);
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/",
	    "{\"address\":\"10.213.0.9\"}"), 0);
	assert_true(req_count("GET", "/api/firewall/alias_util/list/"
	    "cordon_quarantine", NULL) >= 3);

	/* Undo removes what cordon added, and leaves .9 alone. */
	u1 = undo(e, ids[0]);
	u2 = undo(e, ids[1]);
	wait_state(e, u1, "succeeded");
	wait_state(e, u2, "succeeded");
	wait_state(e, ids[0], "undone");
	al = fake_get("aliases", "cordon_quarantine");
	assert_int_equal(json_array_size(al), 2);
	xsnp(want, sizeof(want), "%s",
	    json_string_value(json_array_get(al, 0)));
	assert_string_equal(want, "10.213.0.9");
	json_decref(al);
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/delete/",
	    "{\"address\":\"10.213.0.5\"}"), 1);
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/delete/",
	    "{\"address\":\"10.213.0.9\"}"), 0);
}

static void
test_fw_opnsense_failed_body(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	char		 buf[4096];
	json_t		*al;

	ctl_ok("/_ctl/opnsense_failed", "{\"on\":true}");
	assert_int_equal(isolate(e, "fw-opn", "10.213.0.6", &id, 1), 1);
	wait_state(e, id, "failed");
	(void)action_msg(e, id, buf, sizeof(buf));
	if (strstr(buf, "status == \\\"done\\\"") == NULL)
		fail_msg("no reason in '%s'", buf);
	al = fake_get("aliases", "cordon_quarantine");
	assert_int_equal(json_array_size(al), 0);
	json_decref(al);
	/* An IP profile refuses what is not an address before any write. */
	assert_int_equal(isolate(e, "fw-opn", "10.0.0.1/8", &id, 1), 1);
	wait_state(e, id, "failed");
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/",
	    "{\"address\":\"10.0.0.1/8\"}"), 0);
}

static void
test_fw_retry_after(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	char		 body[256];
	double		 t0;

	/* Delta seconds (OPNsense profile): two 429s, then through. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/firewall/alias_util/add/\",\"status\":429,\"count\":2,"
	    "\"headers\":{\"Retry-After\":\"1\"},\"body\":{}}");
	t0 = (double)time(NULL);
	assert_int_equal(isolate(e, "fw-opn", "10.213.0.7", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/",
	    NULL), 3);
	assert_true((double)time(NULL) - t0 >= 2.0 - 1.0);

	/* Absolute epoch (CrowdStrike's X-RateLimit-RetryAfter). */
	xsnp(body, sizeof(body), "{\"method\":\"POST\",\"prefix\":"
	    "\"/devices/entities/devices-actions/v2\",\"status\":429,"
	    "\"count\":1,\"headers\":{\"X-RateLimit-RetryAfter\":\"%lld\"}}",
	    (long long)time(NULL) + 1);
	ctl_ok("/_ctl/fail", body);
	assert_int_equal(isolate(e, "fw-cs", "aid0001", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/devices/entities/devices-actions"
	    "/v2?action_name=contain", NULL), 2);

	/* A Retry-After beyond max_wait fails at once instead of hanging. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/firewall/alias_util/add/\",\"status\":429,\"count\":5,"
	    "\"headers\":{\"Retry-After\":\"3600\"}}");
	assert_int_equal(isolate(e, "fw-opn", "10.213.0.8", &id, 1), 1);
	wait_state(e, id, "failed");
}

static void
test_fw_crowdstrike_escaping_undo(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id, u;
	json_t		*d, *want;
	char		*wb, body[256];

	assert_int_equal(isolate(e, "fw-cs", NASTY, &id, 1), 1);
	wait_state(e, id, "succeeded");
	d = fake_get("devices", NASTY);
	assert_string_equal(json_string_value(json_object_get(d, "status")),
	    "contained");
	json_decref(d);
	/* The id is JSON-escaped in the body and URL-escaped in the query. */
	want = json_pack("{s:[s]}", "ids", NASTY);
	wb = json_dumps(want, JSON_COMPACT);
	xsnp(body, sizeof(body), "%s", wb);
	free(wb);
	json_decref(want);
	if (req_count("POST", "/devices/entities/devices-actions/v2?"
	    "action_name=contain", body) != 1) {
		dump_requests();
		fail_msg("no contain request with body %s", body);
	}
	assert_true(req_count("GET", "/devices/entities/devices/v2?ids=dev%22"
	    "%3cx%3e%26y%3fz%3d1%2f2%2541%20%27q%27%23%5c", NULL) >= 2);
	assert_int_equal(req_count("POST", "/oauth2/token", NULL), 1);

	u = undo(e, id);
	wait_state(e, u, "succeeded");
	wait_state(e, id, "undone");
	d = fake_get("devices", NASTY);
	assert_string_equal(json_string_value(json_object_get(d, "status")),
	    "normal");
	json_decref(d);
	assert_int_equal(req_count("POST", "/devices/entities/devices-actions/"
	    "v2?action_name=lift_containment", body), 1);
}

static void
test_fw_oauth_refresh(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;

	assert_int_equal(isolate(e, "fw-cs", "aid-a", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/oauth2/token", NULL), 1);
	/* The cached token still serves the next run... */
	assert_int_equal(isolate(e, "fw-cs", "aid-b", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/oauth2/token", NULL), 1);
	/* ...until the server expires it: one 401, one refresh, success. */
	ctl_ok("/_ctl/expire_tokens", "{}");
	assert_int_equal(isolate(e, "fw-cs", "aid-c", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/oauth2/token", NULL), 2);
}

static void
test_fw_sentinelone(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2];
	json_t		*a, *want;
	char		*wb, buf[4096];

	assert_int_equal(isolate(e, "fw-s1", NASTY ",missing-42", ids, 2), 2);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "failed");
	a = fake_get("agents", NASTY);
	assert_string_equal(json_string_value(json_object_get(a,
	    "networkStatus")), "disconnected");
	json_decref(a);
	want = json_pack("{s:{s:[s]}}", "filter", "ids", NASTY);
	wb = json_dumps(want, JSON_COMPACT);
	json_decref(want);
	assert_int_equal(req_count("POST", "/web/api/v2.1/agents/actions/"
	    "disconnect", wb), 1);
	free(wb);
	/* affected == 0: nothing was disconnected, which is a failure. */
	(void)action_msg(e, ids[1], buf, sizeof(buf));
	if (strstr(buf, "affected > 0") == NULL)
		fail_msg("no reason in '%s'", buf);
}

static void
test_fw_webhook(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	json_t		*l, *r, *b;
	size_t		 i;
	int		 seen = 0;

	assert_int_equal(isolate(e, "fw-hook", NASTY, &id, 1), 1);
	wait_state(e, id, "succeeded");
	l = ctl("/_ctl/requests", NULL);
	json_array_foreach(l, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "path")),
		    "/cordon/isolation") != 0)
			continue;
		seen++;
		assert_string_equal(json_string_value(json_object_get(r,
		    "authorization")), "Bearer " FW_SECRET);
		b = json_loads(json_string_value(json_object_get(r, "body")), 0,
		    NULL);
		assert_non_null(b);
		assert_string_equal(json_string_value(json_object_get(b,
		    "host")), NASTY);
		assert_string_equal(json_string_value(json_object_get(b,
		    "reason")), "phishing <b>&\"c2\"");
		assert_string_equal(json_string_value(json_object_get(b,
		    "action")), "isolate");
		json_decref(b);
	}
	json_decref(l);
	assert_int_equal(seen, 1);
}

static void
test_fw_tls_verification_fails(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	char		 buf[4096];

	assert_int_equal(isolate(e, "fw-badtls", "10.213.0.5", &id, 1), 1);
	wait_state(e, id, "failed");
	(void)action_msg(e, id, buf, sizeof(buf));
	if (strstr(buf, "certificate") == NULL &&
	    strstr(buf, "SSL") == NULL)
		fail_msg("no TLS reason in '%s'", buf);
	/* Nothing reached the application. */
	assert_int_equal(req_count("GET", "/", NULL), 0);
	assert_int_equal(req_count("POST", "/", NULL), 0);
}

static void
test_fw_bad_profile_refused(void **state)
{
	struct it_env	*e = *state;
	char		 dir[IT_PATH_MAX], prof[IT_PATH_MAX], conf[8192];
	char		 cpath[IT_PATH_MAX];
	static const char bad[] =
	    "name = \"bad\";\n"
	    "host = \"ip\";\n"
	    "auth = { type = \"none\"; };\n"
	    "isolate = ( { method = \"POST\"; url = \"${base_url|raw}/x\";\n"
	    "    colour = \"blue\"; } );\n"
	    "release = ( { method = \"POST\"; url = \"${base_url|raw}/y\"; } );\n";
	struct it_conf	 c = fwconf;
	const char	*argv[] = { e->bin, "agent", "-c", cpath, NULL };
	int		 n;

	assert_int_equal(it_agent_stop(e), 0);
	xsnp(dir, sizeof(dir), "%s/providers", e->tdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	xsnp(prof, sizeof(prof), "%s/bad.profile", dir);
	assert_int_equal(it_write_file(prof, bad, strlen(bad), 0644), 0);
	n = snprintf(conf, sizeof(conf), "%s,\n{ name = \"fw-bad\"; "
	    "type = \"firewall\"; provider = \"bad\"; base_url = "
	    "\"https://127.0.0.1:1\"; profile_dir = \"%s\"; }", targets, dir);
	assert_true(n > 0 && (size_t)n < sizeof(conf));
	c.targets_extra = conf;
	xsnp(cpath, sizeof(cpath), "%s/bad.conf", e->tdir);
	assert_int_equal(it_config_write(e, cpath, &c), 0);
	assert_int_not_equal(it_runv(e, NULL, NULL, argv, 10), 0);
	if (strstr(e->err, "bad.profile:5: unknown key 'colour'") == NULL)
		fail_msg("want bad.profile:5 in '%s'", e->err);

	/* A runbook value may not be pasted raw into a request. */
	{
		static const char raw[] =
		    "name = \"bad\";\nhost = \"ip\";\n"
		    "auth = { type = \"none\"; };\n"
		    "isolate = ( { method = \"POST\";\n"
		    "    url = \"${base_url|raw}/x/${host|raw}\"; } );\n"
		    "release = ( { method = \"POST\"; "
		    "url = \"${base_url|raw}/y\"; } );\n";

		assert_int_equal(it_write_file(prof, raw, strlen(raw), 0644),
		    0);
		assert_int_not_equal(it_runv(e, NULL, NULL, argv, 10), 0);
		if (strstr(e->err, "bad.profile:5: '${host|raw}'") == NULL)
			fail_msg("want bad.profile:5 raw in '%s'", e->err);
	}
	/* it_test_teardown expects an agent: start the good one again. */
	assert_int_equal(it_agent_start(e, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fw_opnsense_isolate_undo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_opnsense_failed_body,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_retry_after,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_fw_crowdstrike_escaping_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_oauth_refresh,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_sentinelone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_webhook,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_tls_verification_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_bad_profile_refused,
		    setup, teardown),
	};

	if (getenv("FW_ONLY"))
		cmocka_set_test_filter(getenv("FW_ONLY"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
