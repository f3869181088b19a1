/*
 * it_nft: firewall.isolate_host with provider "nft", proven with real
 * packets.  scripts/netns-gw-start.sh builds a client, a gateway and a
 * host namespace joined by veths (10.213.x, fd00:213::), a veth from the
 * root namespace into the gateway (the agent's own path) and a real sshd
 * in the gateway; cordon logs in there as cordon-t-nft, which may run
 * only /usr/sbin/nft through sudo.  Every claim is checked with ping, nc
 * and a byte stream between the namespaces, never with cordon's own code.
 * Group teardown runs netns-gw-stop.sh (also after a failed start) and
 * removes the user and its sudoers file.
 */
#include <errno.h>
#include <pwd.h>
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

#include "fixture.h"
#include "harness.h"

#define PORT		38933
#define PFX		"cdnf"
#define NS_C		PFX "c"
#define NS_G		PFX "g"
#define GW_ADDR		"10.213.131.1"
#define ROOT4		"10.213.131.2"
#define ROOT6		"fd00:213:131::2"
#define HOST4		"10.213.121.2"
#define HOST6		"fd00:213:121::2"
#define SPARE4		"10.213.121.9"	/* nobody: a second isolation */
#define NFT_USER	"cordon-t-nft"
#define NFT_SUDOERS	"/etc/sudoers.d/cordon-t-nft"
#define TEXT_MAX	8192

static char		net_dir[IT_PATH_MAX];
static char		targets[TEXT_MAX];
static char		runbook[IT_PATH_MAX];		/* target gw */
static char		runbook_bare[IT_PATH_MAX];	/* gw-bare */
static struct it_conf	nconf;
static int		net_tried, user_made;
static pid_t		streams[2];

static int
net_script(struct it_env *e, const char *name)
{
	char		 path[IT_PATH_MAX];
	const char	*argv[] = { path, net_dir, PFX, NULL };

	it_pfmt(path, sizeof(path), "%s/%s", e->scripts, name);
	return it_run_ok(e, argv);
}

/* 1 when the client reaches addr: ping, and TCP to the host's :8080. */
static int
client_ping(struct it_env *e, const char *addr)
{
	const char	*argv[] = { "ip", "netns", "exec", NS_C, "ping", "-c1",
	    "-W1", "-q", addr, NULL };

	return it_runv(e, IT_ROOT, NULL, argv, 10) == 0;
}

static int
client_tcp(struct it_env *e, const char *addr)
{
	const char	*argv[] = { "ip", "netns", "exec", NS_C, "nc", "-z",
	    "-w1", addr, "8080", NULL };

	return it_runv(e, IT_ROOT, NULL, argv, 10) == 0;
}

/* The agent's own path: the gateway's sshd answers from the root ns. */
static int
agent_path(struct it_env *e)
{
	const char	*argv[] = { "nc", "-z", "-w2", GW_ADDR, "22", NULL };

	return it_runv(e, IT_ROOT, NULL, argv, 10) == 0;
}

static long
file_size(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Bytes the host's nc received on the stream (4 or 6). */
static long
stream_bytes(int v)
{
	char	p[IT_PATH_MAX];

	it_pfmt(p, sizeof(p), "%s/stream%d.bytes", net_dir, v);
	return file_size(p);
}

/* Polls until the stream grew by at least want bytes: 0, or -1. */
static int
stream_grows(int v, long want, double secs)
{
	long	from = stream_bytes(v);
	double	end = it_mono() + secs;

	while (it_mono() < end) {
		if (stream_bytes(v) - from >= want)
			return 0;
		it_nap_ms(50);
	}
	return -1;
}

/*
 * A client -> host TCP stream, one byte per 100 ms, in its own process
 * group (ended by that id in stream_stop).  The shell text is constant.
 */
static pid_t
stream_start(int v)
{
	const char	*cmd = v == 4 ?
	    "while :; do printf x; sleep 0.1; done | nc -4 " HOST4 " 9004" :
	    "while :; do printf x; sleep 0.1; done | nc -6 " HOST6 " 9006";
	pid_t		 pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		(void)setpgid(0, 0);
		execlp("ip", "ip", "netns", "exec", NS_C, "sh", "-c", cmd,
		    (char *)NULL);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	return pid;
}

static void
stream_stop(pid_t *pid)
{
	int	i;

	if (*pid <= 0)
		return;
	(void)kill(-*pid, SIGTERM);
	for (i = 0; i < 40; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid)
			break;
		it_nap_ms(50);
	}
	if (i == 40) {
		(void)kill(-*pid, SIGKILL);
		(void)waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* Runs `nft ARGS` in the gateway namespace (the test's own view). */
static int
gw_nft(struct it_env *e, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5, const char *a6)
{
	const char	*argv[] = { "ip", "netns", "exec", NS_G, "nft", a1, a2,
	    a3, a4, a5, a6, NULL };

	return it_runv(e, IT_ROOT, NULL, argv, 10);
}

static int
user_setup(struct it_env *e)
{
	static const char sudoers[] = NFT_USER
	    " ALL=(root) NOPASSWD: /usr/sbin/nft\n";
	char		 key[IT_PATH_MAX];

	user_made = 1;
	return it_login_user(e, NFT_USER, NULL, NFT_SUDOERS, sudoers,
	    it_gpath(e, "nft_key", key));
}

/* A runbook isolating its hosts parameter ("accounts") on target. */
static int
runbook_write(struct it_env *e, const char *target, char path[IT_PATH_MAX])
{
	char	text[1024], name[64];
	int	n;

	it_pfmt(name, sizeof(name), "isolate-%s.runbook", target);
	(void)it_gpath(e, name, path);
	n = snprintf(text, sizeof(text),
	    "name = \"isolate-%s\";\n"
	    "params = (\n"
	    "\t{ name = \"accounts\"; type = \"list\"; required = true; }\n"
	    ");\n"
	    "steps = (\n"
	    "\t{ name = \"isolate\"; verb = \"firewall.isolate_host\";\n"
	    "\t  target = \"%s\"; foreach = \"${accounts}\";\n"
	    "\t  args = { host = \"${item}\"; };\n"
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
	char		 key[IT_PATH_MAX];
	int		 n;

	if (it_group_setup(state, PORT) != 0)
		return -1;
	e = *state;
	it_pfmt(net_dir, sizeof(net_dir), "%s/net", e->dir);
	(void)net_script(e, "netns-gw-stop.sh");	/* leftovers */
	net_tried = 1;
	if (net_script(e, "netns-gw-start.sh") != 0 || user_setup(e) != 0)
		return -1;
	(void)it_gpath(e, "nft_key", key);
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"gw\"; type = \"firewall\"; provider = \"nft\"; "
	    "host = \"" GW_ADDR "\"; user = \"" NFT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s/known_hosts\"; "
	    "sudo = true; timeout = 10; quarantine_timeout = \"1h\"; "
	    "allow = [ \"" ROOT4 "\", \"" ROOT6 "\" ]; },\n"
	    "\t\t\t{ name = \"gw-bare\"; type = \"firewall\"; "
	    "provider = \"nft\"; host = \"" GW_ADDR "\"; "
	    "user = \"" NFT_USER "\"; key_file = \"%s\"; "
	    "known_hosts = \"%s/known_hosts\"; }", key, net_dir, key,
	    net_dir);
	if (n < 0 || (size_t)n >= sizeof(targets))
		return -1;
	nconf.targets_extra = targets;
	nconf.verbose = getenv("NFT_VERBOSE") != NULL;
	if (runbook_write(e, "gw-bare", runbook_bare) != 0)
		return -1;
	return runbook_write(e, "gw", runbook);
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { NFT_USER, NULL };
	struct it_env	*e = *state;
	int		 r = 0;

	if (e == NULL)
		return 0;
	stream_stop(&streams[0]);
	stream_stop(&streams[1]);
	if (net_tried && net_script(e, "netns-gw-stop.sh") != 0)
		r = -1;
	if (it_sshd_group_teardown(state, NULL, user_made ? users : NULL,
	    NFT_SUDOERS) != 0)
		r = -1;
	return r;
}

/* A fresh agent, and a gateway without cordon's table. */
static int
setup(void **state)
{
	struct it_env	*e = *state;

	(void)gw_nft(e, "delete", "table", "inet", "cordon", NULL, NULL);
	(void)gw_nft(e, "delete", "table", "inet", "other", NULL, NULL);
	return it_test_setup(e, &nconf);
}

static int
teardown(void **state)
{
	stream_stop(&streams[0]);
	stream_stop(&streams[1]);
	return it_test_teardown(*state);
}

static size_t
isolate(struct it_env *e, const char *hosts, int64_t *ids, size_t max)
{
	char	inc[32];
	size_t	n = 0;
	int	r;

	assert_int_equal(it_incident_open(e, inc), 0);
	r = it_run_accounts(e, IT_OP, runbook, inc, hosts, ids, max, &n);
	if (r != 0 && r != 1)
		fail_msg("run exit %d: %s%s", r, e->out, e->err);
	return n;
}

static int64_t
undo(struct it_env *e, int64_t id)
{
	char		ref[32];
	long long	u, run;

	it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
	assert_int_equal(it_cordon(e, IT_OP, "undo", ref, NULL), 0);
	if (sscanf(e->out, "undo of %*s queued as A%lld (run %lld)", &u,
	    &run) != 2)
		fail_msg("cannot read the undo id from '%s'", e->out);
	if (it_out_has(e, "awaiting_approval")) {
		it_pfmt(ref, sizeof(ref), "A%lld", u);
		assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL),
		    0);
	}
	return u;
}

static void
wait_state(struct it_env *e, int64_t id, const char *want)
{
	json_t	*a;
	char	*d;

	if (it_wait_action(e, id, want, 30.0) == 0)
		return;
	a = it_action(e, id);
	d = a ? json_dumps(a, JSON_COMPACT) : NULL;
	fail_msg("A%lld not %s: %s", (long long)id, want, d ? d : "?");
}

/*
 * 1 when the gateway's set holds exactly the element addr (read by the
 * test's own nft, which must succeed): a plain element ("10.0.0.1") or
 * one with a timeout ({"elem": {"val": "10.0.0.1", ...}}), never a
 * longer address that merely starts the same.
 */
static int
gw_has(struct it_env *e, const char *set, const char *addr)
{
	json_t		*o, *v, *el, *x;
	size_t		 i, k;
	int		 found = 0;

	if (gw_nft(e, "-j", "list", "set", "inet", "cordon", set) != 0)
		fail_msg("nft list set %s failed: %s", set, e->err);
	if ((o = it_out_json(e)) == NULL)
		fail_msg("nft list set %s: not JSON: %s", set, e->out);
	json_array_foreach(json_object_get(o, "nftables"), i, v) {
		json_array_foreach(json_object_get(json_object_get(v, "set"),
		    "elem"), k, el) {
			x = json_is_object(el) ? json_object_get(
			    json_object_get(el, "elem"), "val") : el;
			if (json_is_string(x) &&
			    strcmp(json_string_value(x), addr) == 0)
				found = 1;
		}
	}
	json_decref(o);
	return found;
}

/* The route the agent's namespace takes to the host subnet: via the
 * gateway, over its own veth (gone with the veth at teardown). */
static int
root_routes(struct it_env *e)
{
	const char	*r4[] = { "ip", "route", "replace", "10.213.121.0/24",
	    "via", GW_ADDR, NULL };
	const char	*r6[] = { "ip", "-6", "route", "replace",
	    "fd00:213:121::/64", "via", "fd00:213:131::1", NULL };

	return it_run_ok(e, r4) == 0 && it_run_ok(e, r6) == 0 ? 0 : -1;
}

/* 1 when the root namespace (the agent's side) reaches addr: ping and
 * TCP to the host's :8080. */
static int
root_reach(struct it_env *e, const char *addr)
{
	const char	*ping[] = { "ping", "-c1", "-W1", "-q", addr, NULL };
	const char	*tcp[] = { "nc", "-z", "-w1", addr, "8080", NULL };

	return it_runv(e, IT_ROOT, NULL, ping, 10) == 0 &&
	    it_runv(e, IT_ROOT, NULL, tcp, 10) == 0;
}

static void
assert_reach(struct it_env *e, int want)
{
	assert_int_equal(client_ping(e, HOST4), want);
	assert_int_equal(client_tcp(e, HOST4), want);
	assert_int_equal(client_ping(e, HOST6), want);
	assert_int_equal(client_tcp(e, HOST6), want);
}

/*
 * The whole story: reachable; a stream running; isolation cuts new
 * connections (v4, v6) and stalls the established streams; cordon's own
 * ssh path still works; undo brings everything back.
 */
static void
test_nft_isolate_real_packets(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[4], ids2[2], u[2];
	long		 s4, s6;
	double		 t0;
	size_t		 i;
	json_t		*a;

	/*
	 * Somebody else's table accepts established flows first: cordon's
	 * drop must still end them (a drop in any base chain is final).
	 */
	assert_int_equal(gw_nft(e, "add", "table", "inet", "other", NULL,
	    NULL), 0);
	assert_int_equal(gw_nft(e, "add", "chain", "inet", "other", "early",
	    "{ type filter hook forward priority -100; policy accept; }"), 0);
	assert_int_equal(gw_nft(e, "add", "rule", "inet", "other", "early",
	    "ct state established,related accept"), 0);
	assert_reach(e, 1);
	assert_true(agent_path(e));
	assert_int_equal(root_routes(e), 0);
	assert_true(root_reach(e, HOST4));
	assert_true(root_reach(e, HOST6));
	assert_true((streams[0] = stream_start(4)) > 0);
	assert_true((streams[1] = stream_start(6)) > 0);
	assert_int_equal(stream_grows(4, 5, 5.0), 0);
	assert_int_equal(stream_grows(6, 5, 5.0), 0);

	t0 = it_mono();
	assert_int_equal(isolate(e, HOST4 "," HOST6, ids, 4), 2);
	for (i = 0; i < 2; i++)
		wait_state(e, ids[i], "succeeded");
	(void)fprintf(stderr, "isolation of 2 hosts settled in %.2f s\n",
	    it_mono() - t0);
	assert_true(gw_has(e, "quarantine6", HOST6));
	assert_true(gw_has(e, "quarantine4", HOST4));
	assert_true(it_out_has(e, "\"timeout\": 3600"));	/* 1h */
	a = it_action(e, ids[0]);
	assert_non_null(a);
	assert_true(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "isolated")));
	json_decref(a);

	/* Established streams: no byte gets through any more. */
	it_nap_ms(300);
	s4 = stream_bytes(4);
	s6 = stream_bytes(6);
	it_nap_ms(1500);
	(void)fprintf(stderr, "streams during isolation: v4 %ld -> %ld, "
	    "v6 %ld -> %ld bytes\n", s4, stream_bytes(4), s6,
	    stream_bytes(6));
	assert_int_equal(stream_bytes(4), s4);
	assert_int_equal(stream_bytes(6), s6);
	/* New connections: ping and TCP fail, v4 and v6. */
	assert_reach(e, 0);

	/* The agent's path: its own ssh still works, and from the
	 * allow-listed root namespace the isolated hosts still answer
	 * (v4 and v6, ping and TCP) while the client cannot reach them. */
	assert_true(agent_path(e));
	assert_true(root_reach(e, HOST4));
	assert_true(root_reach(e, HOST6));
	assert_false(client_ping(e, HOST4));
	assert_int_equal(isolate(e, SPARE4, ids2, 2), 1);
	wait_state(e, ids2[0], "succeeded");
	assert_true(gw_has(e, "quarantine4", SPARE4));

	t0 = it_mono();
	u[0] = undo(e, ids[0]);
	u[1] = undo(e, ids[1]);
	wait_state(e, u[0], "succeeded");
	wait_state(e, u[1], "succeeded");
	wait_state(e, ids[0], "undone");
	(void)fprintf(stderr, "undo settled in %.2f s\n", it_mono() - t0);
	assert_false(gw_has(e, "quarantine4", HOST4));
	assert_false(gw_has(e, "quarantine6", HOST6));
	assert_true(gw_has(e, "quarantine4", SPARE4));
	assert_reach(e, 1);
	/* TCP retransmits: the stalled streams resume (not asserted). */
	(void)fprintf(stderr, "streams after undo: v4 %s, v6 %s\n",
	    stream_grows(4, 2, 8.0) == 0 ? "resumed" : "did not resume",
	    stream_grows(6, 2, 2.0) == 0 ? "resumed" : "did not resume");
}

/*
 * A host quarantined before cordon came: check says no change, and undo
 * removes only what cordon added.  One batch, one transaction.
 */
static void
test_nft_preexisting_untouched(void **state)
{
	struct it_env	*e = *state;
	int64_t		 ids[2], u[2];
	size_t		 i;
	json_t		*a;

	assert_int_equal(gw_nft(e, "add", "table", "inet", "cordon", NULL,
	    NULL), 0);
	assert_int_equal(gw_nft(e, "add", "set", "inet", "cordon",
	    "quarantine6", "{ type ipv6_addr; flags timeout; }"), 0);
	assert_int_equal(gw_nft(e, "add", "element", "inet", "cordon",
	    "quarantine6", "{ " HOST6 " }"), 0);
	assert_int_equal(isolate(e, HOST6 "," SPARE4, ids, 2), 2);
	for (i = 0; i < 2; i++)
		wait_state(e, ids[i], "succeeded");
	a = it_action(e, ids[0]);
	assert_non_null(a);
	assert_true(json_is_true(json_object_get(json_object_get(a, "before"),
	    "isolated")));
	json_decref(a);
	assert_true(gw_has(e, "quarantine6", HOST6));
	assert_true(gw_has(e, "quarantine4", SPARE4));
	assert_false(client_ping(e, HOST6));
	for (i = 0; i < 2; i++)
		u[i] = undo(e, ids[i]);
	for (i = 0; i < 2; i++)
		wait_state(e, u[i], "succeeded");
	wait_state(e, ids[1], "undone");
	assert_true(gw_has(e, "quarantine6", HOST6));
	assert_false(gw_has(e, "quarantine4", SPARE4));
	assert_int_equal(gw_nft(e, "delete", "element", "inet", "cordon",
	    "quarantine6", "{ " HOST6 " }"), 0);
}

/*
 * Without an allow list, the agent's own address (its end of the ssh
 * session, ROOT4) is in allow4 all the same: an isolated host still
 * answers cordon while the client is cut off.
 */
static void
test_nft_own_address_allowed(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	int64_t		 ids[2], u;
	size_t		 n = 0;

	assert_int_equal(root_routes(e), 0);
	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, runbook_bare, inc, HOST4,
	    ids, 2, &n), 0);
	assert_int_equal(n, 1);
	wait_state(e, ids[0], "succeeded");
	assert_true(gw_has(e, "quarantine4", HOST4));
	assert_true(gw_has(e, "allow4", ROOT4));
	assert_false(client_ping(e, HOST4));
	assert_false(client_tcp(e, HOST4));
	assert_true(root_reach(e, HOST4));
	assert_true(agent_path(e));
	u = undo(e, ids[0]);
	wait_state(e, u, "succeeded");
	assert_false(gw_has(e, "quarantine4", HOST4));
	assert_true(client_ping(e, HOST4));
}

/* The allow list and the gateway itself are never isolated. */
static void
test_nft_refuses_own_path(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], conf[IT_PATH_MAX], tx[1024];
	struct it_conf	 c;
	int64_t		 ids[2];
	size_t		 n = 0;
	int		 r;

	assert_int_equal(it_incident_open(e, inc), 0);
	r = it_run_accounts(e, IT_OP, runbook, inc, ROOT4, ids, 2, &n);
	assert_int_not_equal(r, 0);
	assert_true(it_err_has(e, "allow list") || it_out_has(e,
	    "allow list"));
	r = it_run_accounts(e, IT_OP, runbook, inc, GW_ADDR, ids, 2, &n);
	assert_int_not_equal(r, 0);
	assert_true(it_err_has(e, "is the gateway") || it_out_has(e,
	    "is the gateway"));
	/* Without an allow list, cordon's own source address is refused. */
	r = it_run_accounts(e, IT_OP, runbook_bare, inc, ROOT4, ids, 2, &n);
	assert_int_not_equal(r, 0);
	assert_true(it_err_has(e, "cordon itself") || it_out_has(e,
	    "cordon itself"));
	assert_true(agent_path(e));
	/* Every run was refused: nothing was written to the gateway. */
	assert_int_not_equal(gw_nft(e, "list", "table", "inet", "cordon",
	    NULL, NULL), 0);
	/* An IPv4-mapped IPv6 address would never match: refused. */
	n = 0;
	r = it_run_accounts(e, IT_OP, runbook, inc, "::ffff:" HOST4, ids, 2,
	    &n);
	if (n == 1)
		wait_state(e, ids[0], "failed");
	else
		assert_int_not_equal(r, 0);
	assert_true(client_ping(e, HOST4));
	/* A host or garbage in allow is a config error. */
	memset(&c, 0, sizeof(c));
	c.targets_extra = tx;
	it_pfmt(tx, sizeof(tx), "{ name = \"gw2\"; type = \"firewall\"; "
	    "provider = \"nft\"; host = \"" GW_ADDR "\"; user = \"x\"; "
	    "key_file = \"%s/nft_key\"; known_hosts = \"%s/known_hosts\"; "
	    "allow = [ \"10.0.0.1/8\" ]; }", e->dir, net_dir);
	assert_int_equal(it_config_write(e, it_tpath(e, "bad.conf", conf),
	    &c), 0);
	assert_int_equal(it_cordon(e, IT_ROOT, "check-config", conf, NULL), 2);
	assert_true(it_err_has(e, "allow[0]"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nft_isolate_real_packets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nft_preexisting_untouched,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nft_own_address_allowed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_nft_refuses_own_path,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
