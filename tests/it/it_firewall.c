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
/* Customer beta's OAuth2 client on the same CrowdStrike host. */
#define BETA_KEY	"beta-client-id"
#define BETA_SECRET	"beta-S3cret-987"
/* JSON, XML and URL metacharacters, and no comma (a list separator). */
#define NASTY		"dev\"<x>&y?z=1/2%41 'q'#\\"

/* A PAN-OS tag or pfSense alias name with XML/JSON/URL metacharacters,
 * as libconfig text and as is. */
#define PAN_NASTY_TAG_CFG	"quar<\\\"t'>&x"
#define PAN_NASTY_TAG		"quar<\"t'>&x"

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
static char	targets[8192];
static char	beta_cust[2048];
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
	char	bkf[IT_PATH_MAX], bsf[IT_PATH_MAX];
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
	xsnp(bkf, sizeof(bkf), "%s/beta.key", e->dir);
	xsnp(bsf, sizeof(bsf), "%s/beta.secret", e->dir);
	if (mkdir(fake_dir, 0755) != 0 ||
	    it_write_file(kf, FW_KEY "\n", strlen(FW_KEY) + 1, 0600) != 0 ||
	    it_write_file(bkf, BETA_KEY "\n", strlen(BETA_KEY) + 1, 0600) !=
	    0 ||
	    it_write_file(bsf, BETA_SECRET "\n", strlen(BETA_SECRET) + 1,
	    0600) != 0 ||
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
	    "fw-hook", "fw-badtls", "fw-pf", "fw-fg", "fw-pan", "fw-pan-x",
	    "fw-mde", "fw-pf-x", "fw-hook-t" };
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
	/* The same, with profile vars set by the target. */
#define TGTV(name, provider, vars) \
	"{ name = \"" name "\"; type = \"firewall\"; provider = \"" \
	provider "\"; base_url = \"https://127.0.0.1:%d\"; " \
	"ca_file = \"%s/ca.pem\"; key_file = \"%s/fw.key\"; " \
	"secret_file = \"%s/fw.secret\"; profile_dir = \"%s\"; " vars " }"
	n = snprintf(targets, sizeof(targets),
	    TGT("fw-opn", "opnsense", "ca.pem") ",\n"
	    TGT("fw-cs", "crowdstrike", "ca.pem") ",\n"
	    TGT("fw-s1", "sentinelone", "ca.pem") ",\n"
	    TGT("fw-hook", "webhook", "ca.pem") ",\n"
	    TGT("fw-badtls", "opnsense", "other-ca.pem") ",\n"
	    TGT("fw-pf", "pfsense", "ca.pem") ",\n"
	    TGT("fw-fg", "fortigate", "ca.pem") ",\n"
	    TGT("fw-pan", "panos", "ca.pem") ",\n"
	    TGTV("fw-pan-x", "panos", "tag = \"" PAN_NASTY_TAG_CFG "\";")
	    ",\n"
	    TGTV("fw-mde", "defender", "tenant = \"tenant-0001\"; "
	    "login_url = \"https://127.0.0.1:%d/login\";") ",\n"
	    TGTV("fw-pf-x", "pfsense", "alias = \"" PAN_NASTY_TAG_CFG "\";")
	    ",\n"
	    TGTV("fw-hook-t", "webhook", "timeout = 1;"),
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov, FAKE_PORT,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    FAKE_PORT, fake_dir, e->dir, e->dir, prov);
#undef TGT
#undef TGTV
	if (n < 0 || (size_t)n >= sizeof(targets))
		return -1;
	fwconf.targets_extra = targets;
	fwconf.protected_extra = "\"fd00::5\", \"10.213.0.250\"";
	/* A second customer with a target of the same name on the same
	 * API host, under its own OAuth2 client. */
	n = snprintf(beta_cust, sizeof(beta_cust),
	    "{ name = \"beta\"; roles = ( { user = \"" IT_OP "\"; "
	    "role = \"operator\"; }, { user = \"" IT_AUD "\"; "
	    "role = \"auditor\"; } ); targets = ( { name = \"fw-cs\"; "
	    "type = \"firewall\"; provider = \"crowdstrike\"; "
	    "base_url = \"https://127.0.0.1:%d\"; ca_file = \"%s/ca.pem\"; "
	    "key_file = \"%s/beta.key\"; secret_file = \"%s/beta.secret\"; "
	    "profile_dir = \"%s\"; } ); }", FAKE_PORT, fake_dir, e->dir,
	    e->dir, prov);
	if (n < 0 || (size_t)n >= sizeof(beta_cust))
		return -1;
	fwconf.customers_extra = beta_cust;
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

/* Arrival times (the fake's clock) of method requests under prefix. */
static size_t
req_times(const char *method, const char *prefix, double *t, size_t max)
{
	json_t	*l = ctl("/_ctl/requests", NULL), *r;
	size_t	 i, n = 0;

	json_array_foreach(l, i, r)
		if (strcmp(json_string_value(json_object_get(r, "method")),
		    method) == 0 && strncmp(json_string_value(json_object_get(r,
		    "path")), prefix, strlen(prefix)) == 0 && n < max)
			t[n++] = json_real_value(json_object_get(r, "time"));
	json_decref(l);
	return n;
}

/*
 * Retry-After is obeyed, not merely some backoff: 3 s against the
 * profiles' 0.5 s backoff, and the fake timestamps each request.
 */
static void
test_fw_retry_after(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	char		 body[256];
	double		 t[4];
	long long	 at;

	/* Delta seconds (OPNsense profile): the resend comes >= 3 s on. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/firewall/alias_util/add/\",\"status\":429,\"count\":1,"
	    "\"headers\":{\"Retry-After\":\"3\"},\"body\":{}}");
	assert_int_equal(isolate(e, "fw-opn", "10.213.0.7", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_times("POST", "/api/firewall/alias_util/add/",
	    t, 4), 2);
	if (t[1] - t[0] < 3.0)
		fail_msg("resent %.3f s after a Retry-After of 3 s",
		    t[1] - t[0]);

	/* Absolute epoch (CrowdStrike's X-RateLimit-RetryAfter): the resend
	 * comes no earlier than that instant. */
	at = (long long)time(NULL) + 3;
	xsnp(body, sizeof(body), "{\"method\":\"POST\",\"prefix\":"
	    "\"/devices/entities/devices-actions/v2\",\"status\":429,"
	    "\"count\":1,\"headers\":{\"X-RateLimit-RetryAfter\":\"%lld\"}}",
	    at);
	ctl_ok("/_ctl/fail", body);
	assert_int_equal(isolate(e, "fw-cs", "aid0001", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_times("POST", "/devices/entities/devices-actions"
	    "/v2?action_name=contain", t, 4), 2);
	if (t[1] < (double)at || t[1] - t[0] < 1.0)
		fail_msg("resent at %.3f (gap %.3f s), before the epoch %lld",
		    t[1], t[1] - t[0], at);

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

/* The token (by its client) the request for device host carried. */
static void
contain_clients(const char *host, char *buf, size_t len)
{
	json_t	*l = ctl("/_ctl/requests", NULL), *r;
	char	 want[256];
	size_t	 i, o = 0;

	xsnp(want, sizeof(want), "{\"ids\":[\"%s\"]}", host);
	buf[0] = '\0';
	json_array_foreach(l, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "method")),
		    "POST") != 0 || strcmp(json_string_value(json_object_get(r,
		    "body")), want) != 0)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "",
		    json_string_value(json_object_get(r, "token_client")));
		if (o >= len)
			fail_msg("contain_clients: buffer");
	}
	json_decref(l);
}

/*
 * Two customers, a target "fw-cs" each, the same OAuth2 server, different
 * clients: each customer's requests carry its own client's token, never
 * the other's cached one.
 */
static void
test_fw_token_per_customer(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	char		 inc[32], rb[IT_PATH_MAX], who[256];
	size_t		 n = 0;
	int		 y, k, r;

	ctl_ok("/_ctl/client", "{\"id\":\"" BETA_KEY "\",\"secret\":\""
	    BETA_SECRET "\"}");
	assert_int_equal(isolate(e, "fw-cs", "aid-acme", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open",
	    "--customer", "beta", "--title", "beta incident", NULL), 0);
	assert_int_equal(sscanf(e->out, "INC-%4d-%4d", &y, &k), 2);
	xsnp(inc, sizeof(inc), "INC-%04d-%04d", y, k);
	xsnp(rb, sizeof(rb), "%s/isolate-fw-cs.runbook", e->dir);
	r = it_run_accounts(e, IT_OP, rb, inc, "aid-beta", &id, 1, &n);
	if ((r != 0 && r != 1) || n != 1)
		fail_msg("beta run exit %d: %s%s", r, e->out, e->err);
	wait_state(e, id, "succeeded");
	/* A second acme run still reuses acme's own cached token. */
	assert_int_equal(isolate(e, "fw-cs", "aid-acme2", &id, 1), 1);
	wait_state(e, id, "succeeded");
	contain_clients("aid-acme", who, sizeof(who));
	assert_string_equal(who, FW_KEY);
	contain_clients("aid-beta", who, sizeof(who));
	assert_string_equal(who, BETA_KEY);
	contain_clients("aid-acme2", who, sizeof(who));
	assert_string_equal(who, FW_KEY);
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

#define MDE_WS01	"4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"
#define MDE_WS02	"9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"

/* Requests whose path starts with prefix and body holds needle. */
static int
req_count_has(const char *method, const char *prefix, const char *needle)
{
	json_t	*l = ctl("/_ctl/requests", NULL), *r;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(l, i, r)
		if (strcmp(json_string_value(json_object_get(r, "method")),
		    method) == 0 && strncmp(json_string_value(json_object_get(r,
		    "path")), prefix, strlen(prefix)) == 0 &&
		    strstr(json_string_value(json_object_get(r, "body")),
		    needle) != NULL)
			n++;
	json_decref(l);
	return n;
}

/* The value the fake holds at coll.key, as compact JSON text. */
static void
fake_dump(const char *coll, const char *key, char *buf, size_t len)
{
	json_t	*v = fake_get(coll, key);
	char	*d = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	xsnp(buf, len, "%s", d ? d : "null");
	free(d);
	json_decref(v);
}

static void
want_in_msg(struct it_env *e, int64_t id, const char *needle)
{
	char	buf[4096];

	(void)action_msg(e, id, buf, sizeof(buf));
	if (strstr(buf, needle) == NULL)
		fail_msg("want '%s' in A%lld: %s", needle, (long long)id, buf);
}

/* The pfSense alias the fake holds, by name, as compact JSON. */
static void
pf_alias(const char *name, char *buf, size_t len)
{
	json_t	*l, *a;
	size_t	 i;
	char	*d;

	xsnp(buf, len, "(none)");
	l = ctl("/_ctl/get", "{}");
	json_array_foreach(json_object_get(l, "pf_aliases"), i, a) {
		if (strcmp(json_string_value(json_object_get(a, "name")),
		    name) != 0)
			continue;
		d = json_dumps(json_object_get(a, "address"), JSON_COMPACT);
		xsnp(buf, len, "%s", d ? d : "");
		free(d);
	}
	json_decref(l);
}

static void
test_fw_pfsense_isolate_undo(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[3], u1, u2;
	char		 buf[512];
	json_t		*d;

	/* .9 was in the quarantine alias before cordon came. */
	ctl_ok("/_ctl/state", "{\"pf_aliases\":[{\"id\":0,\"name\":"
	    "\"other_alias\",\"type\":\"host\",\"descr\":\"\",\"address\":"
	    "[\"192.0.2.1\"],\"detail\":[\"\"]},{\"id\":1,\"name\":"
	    "\"cordon_quarantine\",\"type\":\"host\",\"descr\":\"\","
	    "\"address\":[\"10.213.0.9\"],\"detail\":[\"\"]}]}");
	assert_int_equal(isolate(e, "fw-pf", "10.213.0.5,10.213.0.9,"
	    "fd00:213::5", ids, 3), 3);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");
	wait_state(e, ids[2], "succeeded");
	pf_alias("cordon_quarantine", buf, sizeof(buf));
	assert_string_equal(buf, "[\"10.213.0.9\",\"10.213.0.5\","
	    "\"fd00:213::5\"]");
	pf_alias("other_alias", buf, sizeof(buf));
	assert_string_equal(buf, "[\"192.0.2.1\"]");
	/* Append by alias id, never a rewrite of the list; then applied. */
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias",
	    "{\"id\":1,\"address\":[\"10.213.0.5\"],\"append\":true}"), 1);
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias",
	    "{\"id\":1,\"address\":[\"fd00:213::5\"],\"append\":true}"), 1);
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias", NULL),
	    2);
	assert_int_equal(req_count("POST", "/api/v2/firewall/apply", NULL), 2);
	assert_true(req_count("GET", "/api/v2/firewall/apply", NULL) >= 2);
	d = ctl("/_ctl/get", "{}");
	assert_true(json_is_false(json_object_get(d, "pf_dirty")));
	json_decref(d);

	/* Undo takes out what cordon added and leaves .9 where it was. */
	u1 = undo(e, ids[0]);
	u2 = undo(e, ids[1]);
	wait_state(e, u1, "succeeded");
	wait_state(e, u2, "succeeded");
	wait_state(e, ids[0], "undone");
	pf_alias("cordon_quarantine", buf, sizeof(buf));
	assert_string_equal(buf, "[\"10.213.0.9\",\"fd00:213::5\"]");
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias",
	    "{\"id\":1,\"address\":[\"10.213.0.5\"],\"remove\":true}"), 1);
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias",
	    "{\"id\":1,\"address\":[\"10.213.0.9\"],\"remove\":true}"), 0);
}

static void
test_fw_pfsense_failures(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;
	char		 buf[512];

	/* Applies piling up: 503 twice, then the apply goes through. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/v2/firewall/apply\",\"status\":503,\"count\":2,"
	    "\"body\":{\"code\":503,\"status\":\"service unavailable\","
	    "\"response_id\":\"DISPATCHER_TOO_MANY_QUEUED_PROCESSES\","
	    "\"message\":\"\",\"data\":[]}}");
	assert_int_equal(isolate(e, "fw-pf", "10.213.0.6", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/api/v2/firewall/apply", NULL), 3);

	/* A malformed answer to the name -> id lookup: no write follows. */
	ctl_ok("/_ctl/fail", "{\"method\":\"GET\",\"prefix\":"
	    "\"/api/v2/firewall/aliases\",\"status\":200,\"count\":1,"
	    "\"raw\":\"{\\\"data\\\":[{\\\"id\\\":1,\"}");
	assert_int_equal(isolate(e, "fw-pf", "10.213.0.7", &id, 1), 1);
	wait_state(e, id, "failed");
	want_in_msg(e, id, "cannot read the state");
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias",
	    "{\"id\":1,\"address\":[\"10.213.0.7\"],\"append\":true}"), 0);

	/* An alias name with metacharacters: URL-escaped in the lookup (the
	 * fake refuses any other form), JSON-escaped in the condition. */
	ctl_ok("/_ctl/state", "{\"pf_aliases\":[{\"id\":7,\"name\":"
	    "\"quar<\\\"t'>&x\",\"type\":\"host\",\"descr\":\"\","
	    "\"address\":[],\"detail\":[]}]}");
	assert_int_equal(isolate(e, "fw-pf-x", "10.213.0.10", &id, 1), 1);
	wait_state(e, id, "succeeded");
	pf_alias(PAN_NASTY_TAG, buf, sizeof(buf));
	assert_string_equal(buf, "[\"10.213.0.10\"]");
	assert_true(req_count("GET", "/api/v2/firewall/aliases?name=quar%3c%22"
	    "t%27%3e%26x", NULL) >= 3);
	assert_int_equal(req_count("PATCH", "/api/v2/firewall/alias",
	    "{\"id\":7,\"address\":[\"10.213.0.10\"],\"append\":true}"), 1);

	/* The quarantine alias does not exist: refused before any write. */
	ctl_ok("/_ctl/state", "{\"pf_aliases\":[]}");
	assert_int_equal(isolate(e, "fw-pf", "10.213.0.8", &id, 1), 1);
	wait_state(e, id, "failed");
	assert_int_equal(req_count("PATCH", "/", NULL), 2);
	pf_alias("cordon_quarantine", buf, sizeof(buf));
	assert_string_equal(buf, "(none)");
}

static void
test_fw_fortigate(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2], u1, u2;
	char		 buf[512];

	ctl_ok("/_ctl/state", "{\"banned\":{\"10.213.0.9\":{\"created\":1,"
	    "\"expires\":0}}}");
	/* One 429 with Retry-After, one 500 on the read: both retried. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/v2/monitor/user/banned/add_users\",\"status\":429,"
	    "\"count\":1,\"headers\":{\"Retry-After\":\"1\"},\"body\":{}}");
	ctl_ok("/_ctl/fail", "{\"method\":\"GET\",\"prefix\":"
	    "\"/api/v2/monitor/user/banned/select\",\"status\":500,"
	    "\"count\":1,\"body\":{\"status\":\"error\",\"http_status\":500}}");
	assert_int_equal(isolate(e, "fw-fg", "10.213.0.5,10.213.0.9", ids, 2),
	    2);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");
	fake_dump("banned", "10.213.0.5", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"expires\":0"));
	assert_int_equal(req_count("POST", "/api/v2/monitor/user/banned/"
	    "add_users?vdom=root", "{\"ip_addresses\":[\"10.213.0.5\"],"
	    "\"expiry\":0}"), 2);
	assert_int_equal(req_count("POST", "/api/v2/monitor/user/banned/"
	    "add_users", "{\"ip_addresses\":[\"10.213.0.9\"],\"expiry\":0}"),
	    0);
	u1 = undo(e, ids[0]);
	u2 = undo(e, ids[1]);
	wait_state(e, u1, "succeeded");
	wait_state(e, u2, "succeeded");
	fake_dump("banned", "10.213.0.5", buf, sizeof(buf));
	assert_string_equal(buf, "null");
	fake_dump("banned", "10.213.0.9", buf, sizeof(buf));
	assert_string_not_equal(buf, "null");
	assert_int_equal(req_count("POST", "/api/v2/monitor/user/banned/"
	    "clear_users?vdom=root", "{\"ip_addresses\":[\"10.213.0.5\"]}"),
	    1);
	assert_int_equal(req_count("POST", "/api/v2/monitor/user/banned/"
	    "clear_users", NULL), 1);

	/* HTTP 200 whose body says "error" is a failure. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/v2/monitor/user/banned/add_users\",\"status\":200,"
	    "\"count\":1,\"body\":{\"status\":\"error\",\"http_status\":200}}");
	assert_int_equal(isolate(e, "fw-fg", "10.213.0.6", ids, 1), 1);
	wait_state(e, ids[0], "failed");
	want_in_msg(e, ids[0], "status == \\\"success\\\"");

	/* A truncated answer to the read: the state is unreadable. */
	ctl_ok("/_ctl/fail", "{\"method\":\"GET\",\"prefix\":"
	    "\"/api/v2/monitor/user/banned/select\",\"status\":200,"
	    "\"count\":1,\"raw\":\"{\\\"results\\\":[\"}");
	assert_int_equal(isolate(e, "fw-fg", "10.213.0.7", ids, 1), 1);
	wait_state(e, ids[0], "failed");
	want_in_msg(e, ids[0], "cannot read the state");
	assert_int_equal(req_count("POST", "/api/v2/monitor/user/banned/"
	    "add_users", "{\"ip_addresses\":[\"10.213.0.7\"],\"expiry\":0}"),
	    0);
}

static void
test_fw_panos(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2], u;
	char		 buf[512];

	ctl_ok("/_ctl/state", "{\"dag\":{\"10.213.0.9\":"
	    "[\"cordon-quarantine\"],\"10.213.0.5\":[\"other-tag\"]}}");
	assert_int_equal(isolate(e, "fw-pan", "10.213.0.5,10.213.0.9", ids, 2),
	    2);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");
	fake_dump("dag", "10.213.0.5", buf, sizeof(buf));
	assert_string_equal(buf, "[\"other-tag\",\"cordon-quarantine\"]");
	/* The uid-message, XML inside a form field, exactly so encoded. */
	assert_int_equal(req_count("POST", "/api/", "type=user-id&vsys=vsys1&"
	    "cmd=%3cuid-message%3e%3cversion%3e2.0%3c%2fversion%3e%3ctype%3e"
	    "update%3c%2ftype%3e%3cpayload%3e%3cregister%3e%3centry%20ip%3d"
	    "%2210.213.0.5%22%3e%3ctag%3e%3cmember%20timeout%3d%220%22%3e"
	    "cordon-quarantine%3c%2fmember%3e%3c%2ftag%3e%3c%2fentry%3e%3c%2f"
	    "register%3e%3c%2fpayload%3e%3c%2fuid-message%3e"), 1);
	assert_int_equal(req_count_has("POST", "/api/", "type=user-id"), 1);
	u = undo(e, ids[0]);
	wait_state(e, u, "succeeded");
	fake_dump("dag", "10.213.0.5", buf, sizeof(buf));
	assert_string_equal(buf, "[\"other-tag\"]");
	fake_dump("dag", "10.213.0.9", buf, sizeof(buf));
	assert_string_equal(buf, "[\"cordon-quarantine\"]");

	/* A tag with XML metacharacters: escaped, then form-encoded. */
	assert_int_equal(isolate(e, "fw-pan-x", "10.213.0.6", ids, 1), 1);
	wait_state(e, ids[0], "succeeded");
	fake_dump("dag", "10.213.0.6", buf, sizeof(buf));
	assert_string_equal(buf, "[\"" "quar<\\\"t'>&x" "\"]");
	assert_int_equal(req_count("POST", "/api/", "type=user-id&vsys=vsys1&"
	    "cmd=%3cuid-message%3e%3cversion%3e2.0%3c%2fversion%3e%3ctype%3e"
	    "update%3c%2ftype%3e%3cpayload%3e%3cregister%3e%3centry%20ip%3d"
	    "%2210.213.0.6%22%3e%3ctag%3e%3cmember%20timeout%3d%220%22%3e"
	    "quar%26lt%3b%26quot%3bt%26apos%3b%26gt%3b%26amp%3bx"
	    "%3c%2fmember%3e%3c%2ftag%3e%3c%2fentry%3e%3c%2f"
	    "register%3e%3c%2fpayload%3e%3c%2fuid-message%3e"), 1);

	/* "already exists, ignore" (somebody registered it meanwhile) is
	 * success, and the read-back proves it. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":\"/api/\","
	    "\"body_has\":\"type=user-id\",\"status\":200,\"count\":1,"
	    "\"state\":{\"dag\":{\"10.213.0.7\":[\"cordon-quarantine\"]}},"
	    "\"raw\":\"<response status=\\\"error\\\"><msg><line>"
	    "<uid-response><version>2.0</version><payload><register>"
	    "<entry ip=\\\"10.213.0.7\\\" message=\\\"tag cordon-quarantine "
	    "already exists, ignore\\\"/></register></payload></uid-response>"
	    "</line></msg></response>\"}");
	ctl_ok("/_ctl/state", "{\"dag\":{\"10.213.0.7\":[]}}");
	assert_int_equal(isolate(e, "fw-pan", "10.213.0.7", ids, 1), 1);
	wait_state(e, ids[0], "succeeded");

	/* An XML error in an HTTP 200, and a malformed answer: failures. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":\"/api/\","
	    "\"body_has\":\"type=user-id\",\"status\":200,\"count\":1,"
	    "\"raw\":\"<response status=\\\"error\\\" code=\\\"17\\\"><msg>"
	    "<line>invalid</line></msg></response>\"}");
	assert_int_equal(isolate(e, "fw-pan", "10.213.0.8", ids, 1), 1);
	wait_state(e, ids[0], "failed");
	want_in_msg(e, ids[0], "condition not met");
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":\"/api/\","
	    "\"body_has\":\"type=op\",\"status\":200,\"count\":1,"
	    "\"raw\":\"<respo\"}");
	assert_int_equal(isolate(e, "fw-pan", "10.213.0.8", ids, 1), 1);
	wait_state(e, ids[0], "failed");
	want_in_msg(e, ids[0], "cannot read the state");
}

static void
test_fw_defender(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[5], u;
	json_t		*m, *a;
	char		*d, body[512];

	/* A device whose id is hostile, one pre-isolated, one that fails. */
	m = json_pack("{s:[{s:s,s:s,s:s},{s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:s}]}",
	    "machines", "id", NASTY, "computerDnsName", "nasty.corp.example",
	    "lastIpAddress", "10.213.1.66",
	    "id", "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", "computerDnsName",
	    "already.corp.example", "lastIpAddress", "10.213.1.3", "isolated", 1,
	    "id", "dead0000dead0000dead0000dead0000dead0000", "computerDnsName",
	    "broken.corp.example", "lastIpAddress", "10.213.1.4", "outcome",
	    "Failed");
	d = json_dumps(m, JSON_COMPACT);
	ctl_ok("/_ctl/state", d);
	free(d);
	json_decref(m);
	/* By DNS name, by IP, by (hostile) id, pre-isolated, failing. */
	assert_int_equal(isolate(e, "fw-mde", "ws-01.corp.example,10.213.1.2,"
	    NASTY ",already.corp.example,broken.corp.example", ids, 5), 5);
	wait_state(e, ids[0], "succeeded");
	wait_state(e, ids[1], "succeeded");
	wait_state(e, ids[2], "succeeded");
	wait_state(e, ids[3], "succeeded");
	want_in_msg(e, ids[3], "no change");
	wait_state(e, ids[4], "failed");
	want_in_msg(e, ids[4], "$.status == \\\"Failed\\\"");
	/* One token for the whole batch, with the documented scope. */
	assert_int_equal(req_count("POST", "/login/tenant-0001/oauth2/v2.0/"
	    "token", NULL), 1);
	assert_int_equal(req_count_has("POST", "/login/", "&scope=https%3a%2f"
	    "%2fapi.securitycenter.microsoft.com%2f.default"), 1);
	/* Lookup before the write; the write names the machine id. */
	assert_int_equal(req_count("POST", "/api/machines/" MDE_WS01
	    "/isolate", NULL), 1);
	assert_int_equal(req_count("POST", "/api/machines/" MDE_WS02
	    "/isolate", NULL), 1);
	assert_int_equal(req_count("POST", "/api/machines/c0ffee", NULL), 0);
	/* The hostile id: OData-quoted then URL-escaped in the filter, URL-
	 * escaped in the path (the fake refuses any other form). */
	assert_true(req_count("GET", "/api/machines?$filter=id%20eq%20%27dev"
	    "%22%3cx%3e%26y%3fz%3d1%2f2%2541%20%27%27q%27%27%23%5c%27%20or%20"
	    "computerDnsName", NULL) >= 2);
	assert_int_equal(req_count("POST", "/api/machines/dev%22%3cx%3e%26y"
	    "%3fz%3d1%2f2%2541%20%27q%27%23%5c/isolate", NULL), 1);
	/* The comment is the runbook's reason, JSON-escaped. */
	a = json_pack("{s:s,s:s}", "Comment", "phishing <b>&\"c2\"",
	    "IsolationType", "Full");
	d = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	xsnp(body, sizeof(body), "%s", d);
	free(d);
	json_decref(a);
	assert_int_equal(req_count("POST", "/api/machines/" MDE_WS01
	    "/isolate", body), 1);
	/* Polled until Succeeded. */
	assert_true(req_count("GET", "/api/machineactions/", NULL) >= 6);

	u = undo(e, ids[0]);
	wait_state(e, u, "succeeded");
	wait_state(e, ids[0], "undone");
	assert_int_equal(req_count("POST", "/api/machines/" MDE_WS01
	    "/unisolate", NULL), 1);
	/* The pre-isolated device: no-change, so nothing to undo. */
	assert_int_equal(req_count("POST", "/api/machines/c0ffee00c0ffee00"
	    "c0ffee00c0ffee00c0ffee00/unisolate", NULL), 0);

	/* No such device: nothing written. */
	assert_int_equal(isolate(e, "fw-mde", "ghost.corp.example", ids, 1),
	    1);
	wait_state(e, ids[0], "failed");
	want_in_msg(e, ids[0], "$.value[0].id");
}

static void
test_fw_defender_errors(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;

	/* The token expires server-side: one 401, one refresh, success. */
	assert_int_equal(isolate(e, "fw-mde", "ws-01.corp.example", &id, 1),
	    1);
	wait_state(e, id, "succeeded");
	ctl_ok("/_ctl/expire_tokens", "{}");
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/machines/\",\"status\":429,\"count\":1,\"headers\":"
	    "{\"Retry-After\":\"1\"},\"body\":{\"error\":{\"code\":"
	    "\"TooManyRequests\",\"message\":\"Rate limit\"}}}");
	assert_int_equal(isolate(e, "fw-mde", "ws-02.corp.example", &id, 1),
	    1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/login/", NULL), 2);
	assert_int_equal(req_count("POST", "/api/machines/" MDE_WS02
	    "/isolate", NULL), 2);

	/* An isolation already pending: 400 ActiveRequestAlreadyExists. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/machines/\",\"status\":400,\"count\":1,\"body\":"
	    "{\"error\":{\"code\":\"ActiveRequestAlreadyExists\",\"message\":"
	    "\"Action is already in progress\"}}}");
	ctl_ok("/_ctl/state", "{\"machines\":[{\"id\":\"ab00\","
	    "\"computerDnsName\":\"ws-03.corp.example\",\"lastIpAddress\":"
	    "\"10.213.1.5\"}]}");
	assert_int_equal(isolate(e, "fw-mde", "ws-03.corp.example", &id, 1),
	    1);
	wait_state(e, id, "failed");
	want_in_msg(e, id, "HTTP 400");
	/* A 201 whose body is not JSON: no action id, a failure. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/machines/\",\"status\":201,\"count\":1,\"raw\":"
	    "\"<html>gateway</html>\"}");
	assert_int_equal(isolate(e, "fw-mde", "ws-03.corp.example", &id, 1),
	    1);
	wait_state(e, id, "failed");
	want_in_msg(e, id, "condition not met");
	/* A 5xx storm outlasts the attempts: failed, not hung.  (503 with
	 * Retry-After: the server did nothing, so even a write is resent.) */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/machines/\",\"status\":503,\"count\":9,\"headers\":"
	    "{\"Retry-After\":\"0\"},\"body\":{}}");
	assert_int_equal(isolate(e, "fw-mde", "ws-03.corp.example", &id, 1),
	    1);
	wait_state(e, id, "failed");
	want_in_msg(e, id, "after all attempts");
}

/*
 * A write is not resent when the server may have acted: after a timeout
 * (the request arrived and was handled, the answer came too late) or a
 * 500 on a POST.  Resending could isolate twice or create a second
 * object the undo does not know; the act fails saying so.
 */
static void
test_fw_write_not_resent(void **state)
{
	struct it_env	*e = *state;
	int64_t		 id;

	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/cordon/isolation\",\"count\":1,\"delay\":2.5,"
	    "\"then_ok\":true}");
	assert_int_equal(isolate(e, "fw-hook-t", "h-timeout", &id, 1), 1);
	wait_state(e, id, "failed");
	want_in_msg(e, id, "outcome unknown, check will decide");
	/* Past the fake's delay and any backoff: still one request. */
	(void)usleep(3000000);
	assert_int_equal(req_count("POST", "/cordon/isolation", NULL), 1);

	/* 500 is a Defender retry status, but not for its isolate POST. */
	ctl_ok("/_ctl/fail", "{\"method\":\"POST\",\"prefix\":"
	    "\"/api/machines/\",\"status\":500,\"count\":1,\"body\":"
	    "{\"error\":{\"code\":\"InternalServerError\"}}}");
	assert_int_equal(isolate(e, "fw-mde", "ws-02.corp.example", &id, 1),
	    1);
	wait_state(e, id, "failed");
	want_in_msg(e, id, "HTTP 500; not resent (a write): outcome unknown, "
	    "check will decide");
	assert_int_equal(req_count("POST", "/api/machines/" MDE_WS02
	    "/isolate", NULL), 1);
	/* Reads are still retried on the same status. */
	ctl_ok("/_ctl/fail", "{\"method\":\"GET\",\"prefix\":"
	    "\"/api/machines\",\"status\":500,\"count\":1,\"body\":{}}");
	assert_int_equal(isolate(e, "fw-mde", "ws-01.corp.example", &id, 1),
	    1);
	wait_state(e, id, "succeeded");
}

/*
 * A reason longer than the 512 bytes cordon sends, in a multi-byte
 * script: cut on a character boundary, so the step still carries it.
 */
static void
test_fw_long_utf8_reason(void **state)
{
	struct it_env	*e = *state;
	char		 reason[1024], set[1100], want[600], inc[32];
	char		 rb[IT_PATH_MAX];
	json_t		*o, *l, *r, *b;
	int64_t		 id;
	size_t		 i, k;
	int		 seen = 0;

	/* "x" then 300 x U+00E9: byte 512 falls inside a character. */
	reason[0] = 'x';
	for (i = 0, k = 1; i < 300; i++) {
		reason[k++] = (char)0xc3;
		reason[k++] = (char)0xa9;
	}
	reason[k] = '\0';
	/* What arrives: x and the 255 whole characters that fit. */
	memcpy(want, reason, 511);
	want[511] = '\0';
	xsnp(set, sizeof(set), "reason=%s", reason);
	xsnp(rb, sizeof(rb), "%s/isolate-fw-hook.runbook", e->dir);
	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "run", rb, "--incident", inc,
	    "--set", "accounts=h-utf8", "--set", set, "--json", NULL), 0);
	assert_non_null(o = it_out_json(e));
	id = json_integer_value(json_array_get(json_object_get(o, "actions"),
	    0));
	json_decref(o);
	wait_state(e, id, "succeeded");
	l = ctl("/_ctl/requests", NULL);
	json_array_foreach(l, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "path")),
		    "/cordon/isolation") != 0)
			continue;
		seen++;
		assert_non_null(b = json_loads(json_string_value(
		    json_object_get(r, "body")), 0, NULL));
		assert_string_equal(json_string_value(json_object_get(b,
		    "reason")), want);
		json_decref(b);
	}
	json_decref(l);
	assert_int_equal(seen, 1);
}

/* A credential file of two lines would inject a header: refused. */
static void
test_fw_multiline_secret_refused(void **state)
{
	struct it_env	*e = *state;
	char		 conf[2048], cpath[IT_PATH_MAX], pdir[IT_PATH_MAX];
	char		 sf[IT_PATH_MAX], want[IT_PATH_MAX + 64];
	const char	*argv[] = { e->bin, "check-config", cpath, NULL };
	static const char ml[] = "tok3n\r\nX-Injected: 1\n";
	struct it_conf	 c = fwconf;
	int		 k;

	xsnp(pdir, sizeof(pdir), "%s/../config/providers", e->scripts);
	xsnp(cpath, sizeof(cpath), "%s/ml.conf", e->tdir);
	xsnp(sf, sizeof(sf), "%s/ml.secret", e->tdir);
	assert_int_equal(it_write_file(sf, ml, strlen(ml), 0600), 0);
	k = snprintf(conf, sizeof(conf), "{ name = \"p\"; type = "
	    "\"firewall\"; provider = \"webhook\"; base_url = "
	    "\"https://127.0.0.1:%d\"; secret_file = \"%s\"; "
	    "profile_dir = \"%s\"; }", FAKE_PORT, sf, pdir);
	assert_true(k > 0 && (size_t)k < sizeof(conf));
	c.targets_extra = conf;
	assert_int_equal(it_config_write(e, cpath, &c), 0);
	assert_int_not_equal(it_runv(e, NULL, NULL, argv, 10), 0);
	xsnp(want, sizeof(want), "secret_file '%s': holds a line break", sf);
	if (strstr(e->err, want) == NULL)
		fail_msg("want '%s' in '%s'", want, e->err);
	/* Nor does the secret reach the message. */
	assert_null(strstr(e->err, "tok3n"));
}

/*
 * A protected address is protected however it is spelt, and an "ip"
 * profile sends and reads back the one canonical form.
 */
static void
test_fw_protected_ipv6_spelling(void **state)
{
	struct it_env	*e = *state;
	static const char *const spell[] = { "FD00::5", "fd00:0::5",
	    "fd00:0000:0000:0000:0000:0000:0000:0005", "fd00::0.0.0.5" };
	char		 inc[32], rb[IT_PATH_MAX];
	int64_t		 id;
	size_t		 i, n;
	json_t		*al;

	/* The run is refused when planned: nothing is queued or sent. */
	xsnp(rb, sizeof(rb), "%s/isolate-fw-opn.runbook", e->dir);
	for (i = 0; i < sizeof(spell) / sizeof(spell[0]); i++) {
		assert_int_equal(it_incident_open(e, inc), 0);
		n = 0;
		assert_int_equal(it_run_accounts(e, IT_OP, rb, inc, spell[i],
		    &id, 1, &n), 3);
		assert_int_equal(n, 0);
		if (strstr(e->err, "'fd00::5' is a protected host") == NULL)
			fail_msg("%s: want a refusal in '%s'", spell[i],
			    e->err);
	}
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/",
	    NULL), 0);
	/* Upper case and zeros in, the canonical text out, and the
	 * read-back (the alias list) recognises it. */
	assert_int_equal(isolate(e, "fw-opn", "FD00:0213:0::6", &id, 1), 1);
	wait_state(e, id, "succeeded");
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/"
	    "cordon_quarantine", "{\"address\":\"fd00:213::6\"}"), 1);
	al = fake_get("aliases", "cordon_quarantine");
	assert_int_equal(json_array_size(al), 1);
	json_decref(al);
	/* Already isolated under another spelling: no change, no write. */
	assert_int_equal(isolate(e, "fw-opn", "fd00:213:0:0::6", &id, 1), 1);
	wait_state(e, id, "succeeded");
	want_in_msg(e, id, "no change");
	assert_int_equal(req_count("POST", "/api/firewall/alias_util/add/",
	    NULL), 1);
}

/* IP profiles refuse a host with metacharacters before any request. */
static void
test_fw_ip_profiles_refuse_hostile(void **state)
{
	struct it_env	*e = *state;
	static const char *const tg[] = { "fw-pf", "fw-fg", "fw-pan" };
	int64_t		 id;
	size_t		 i;
	json_t		*l;

	for (i = 0; i < sizeof(tg) / sizeof(tg[0]); i++) {
		assert_int_equal(isolate(e, tg[i], "10.0.0.1\"/><x&y", &id, 1),
		    1);
		wait_state(e, id, "failed");
		want_in_msg(e, id, "not an IPv4 or IPv6 address");
	}
	l = ctl("/_ctl/requests", NULL);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

/* Each shipped profile loads cleanly through `cordon check-config`. */
static void
test_fw_profiles_check_config(void **state)
{
	struct it_env	*e = *state;
	static const char *const prov[] = { "pfsense", "fortigate", "panos",
	    "defender", "opnsense", "crowdstrike", "sentinelone", "webhook" };
	char		 conf[2048], cpath[IT_PATH_MAX], pdir[IT_PATH_MAX];
	char		 bad[IT_PATH_MAX], text[64 * 1024];
	const char	*argv[] = { e->bin, "check-config", cpath, NULL };
	struct it_conf	 c = fwconf;
	FILE		*f;
	size_t		 i, n, lines;
	int		 k;

	xsnp(pdir, sizeof(pdir), "%s/../config/providers", e->scripts);
	xsnp(cpath, sizeof(cpath), "%s/one.conf", e->tdir);
	for (i = 0; i < sizeof(prov) / sizeof(prov[0]); i++) {
		k = snprintf(conf, sizeof(conf), "{ name = \"p\"; type = "
		    "\"firewall\"; provider = \"%s\"; base_url = "
		    "\"https://127.0.0.1:%d\"; key_file = \"%s/fw.key\"; "
		    "secret_file = \"%s/fw.secret\"; profile_dir = \"%s\"; }",
		    prov[i], FAKE_PORT, e->dir, e->dir, pdir);
		assert_true(k > 0 && (size_t)k < sizeof(conf));
		c.targets_extra = conf;
		assert_int_equal(it_config_write(e, cpath, &c), 0);
		if (it_runv(e, NULL, NULL, argv, 10) != 0)
			fail_msg("%s: %s%s", prov[i], e->out, e->err);
	}
	/* A copy of the pfSense profile with an unknown key: file:line. */
	xsnp(bad, sizeof(bad), "%s/pfsense.profile", pdir);
	assert_non_null(f = fopen(bad, "r"));
	n = fread(text, 1, sizeof(text) - 64, f);
	(void)fclose(f);
	text[n] = '\0';
	for (i = 0, lines = 0; i < n; i++)
		lines += text[i] == '\n';
	(void)strcat(text, "colour = \"blue\";\n");
	xsnp(pdir, sizeof(pdir), "%s/prov", e->tdir);
	assert_int_equal(mkdir(pdir, 0755), 0);
	xsnp(bad, sizeof(bad), "%s/pfsense.profile", pdir);
	assert_int_equal(it_write_file(bad, text, strlen(text), 0644), 0);
	k = snprintf(conf, sizeof(conf), "{ name = \"p\"; type = "
	    "\"firewall\"; provider = \"pfsense\"; base_url = "
	    "\"https://127.0.0.1:%d\"; secret_file = \"%s/fw.secret\"; "
	    "profile_dir = \"%s\"; }", FAKE_PORT, e->dir, pdir);
	assert_true(k > 0 && (size_t)k < sizeof(conf));
	c.targets_extra = conf;
	assert_int_equal(it_config_write(e, cpath, &c), 0);
	assert_int_not_equal(it_runv(e, NULL, NULL, argv, 10), 0);
	xsnp(cpath, sizeof(cpath), "pfsense.profile:%zu: unknown key "
	    "'colour' in profile", lines + 1);
	if (strstr(e->err, cpath) == NULL)
		fail_msg("want '%s' in '%s'", cpath, e->err);
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
		cmocka_unit_test_setup_teardown(test_fw_token_per_customer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_sentinelone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_webhook,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_tls_verification_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_bad_profile_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_pfsense_isolate_undo,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_pfsense_failures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_fortigate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_panos,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_defender,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_defender_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_fw_ip_profiles_refuse_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_fw_protected_ipv6_spelling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_write_not_resent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_long_utf8_reason,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_fw_multiline_secret_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_profiles_check_config,
		    setup, teardown),
	};

	if (getenv("FW_ONLY"))
		cmocka_set_test_filter(getenv("FW_ONLY"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
