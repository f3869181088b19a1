/*
 * it_snapshot3: a restore's isolation pre-check reads the store.  A real
 * firewall.isolate_host (the webhook profile against the loopback fake
 * vendor server, tests/it/fake_vendors.py) and a real snapshot.restore
 * (dir back end, real sshd on loopback) in the same incident.
 *
 * Shown: restore is refused while no isolation of the host succeeded, and
 * when the only one is in another incident; it runs after one succeeded,
 * and the journal names that isolation; it is refused again once the
 * isolation was undone; one run that isolates then restores works (the
 * restore is checked again after the isolation settled); a failed
 * isolation in that run leaves the restore refused; a waiver with a
 * reason runs and is journaled.
 *
 * And the driver is parallel: one run restoring on two targets (a target
 * group) has both copies in flight at once.  The second key's
 * authorized_keys line forces a wrapper that holds each copy until two
 * are waiting, logging "together" (or "alone" after 10 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/util.h"
#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38959
#define IT_FAKE_PORT	38972
#define IT_SSH_PORT	22295
#define IT_AGENT_USER	"cordon-t-snap3"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-snap3"
#define IT_TEXT_MAX	8192
#define IT_WAIT_S	60		/* for an action to settle */
#define IT_HOST		"127.0.0.1"
#define IT_ORIG		"original"
#define IT_RANSOM	"ENCRYPTED by ransomware"
#define IT_FW_SECRET	"s3cr3t-T0ken-xyz"
#define IT_WAIVER	"lab copy, no network at all"

static char	sshd_dir[IT_PATH_MAX], fake_dir[IT_PATH_MAX], rdv[IT_PATH_MAX];
static char	targets[IT_TEXT_MAX];
static time_t	inc_time;
static pid_t	fake_pid;
static int	sshd_up, users_made;

/* DIR/dir: f with the pre snapshot daily.1, then ransomed. */
static int
store_dir(struct it_env *e)
{
	char	d[IT_PATH_MAX];

	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	if (it_sh(e, "rm -rf \"$0\"; mkdir -p \"$0/data\" \"$0/snaps\"; "
	    "printf '" IT_ORIG "' > \"$0/data/f\"; cp -a \"$0/data\" "
	    "\"$0/snaps/daily.1\"; touch \"$0/snaps/daily.1\"", d, NULL) != 0)
		return -1;
	it_nap_ms(1100);
	inc_time = time(NULL);
	it_nap_ms(1100);
	if (it_sh(e, "printf '" IT_RANSOM "' > \"$0/data/f\"", d, NULL) != 0)
		return -1;
	/* Two more hosts' worth, for the parallel test. */
	return it_sh(e, "for i in 1 2; do rm -rf \"$0$i\"; cp -a \"$0\" "
	    "\"$0$i\"; done", d, NULL);
}

/* Holds the copy (the fetch script) until two are waiting. */
static const char rdv_sh[] =
    "#!/bin/sh\n"
    "c=$SSH_ORIGINAL_COMMAND\n"
    "case $c in\n"
    "*'destination exists'*)\n"
    "  d=$(dirname \"$0\")/rdv\n"
    "  : > \"$d/in.$$\"\n"
    "  i=0\n"
    "  while [ \"$(ls \"$d\" | grep -c '^in\\.')\" -lt 2 ] && "
    "[ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done\n"
    "  if [ $i -lt 100 ]; then echo together; else echo alone; fi "
    ">> \"$d/log\" ;;\n"
    "esac\n"
    "exec sh -c \"$c\"\n";

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 key[IT_PATH_MAX];
	char		 prov[IT_PATH_MAX], key2[IT_PATH_MAX], wrap[IT_PATH_MAX];
	static const char sudoers[] = IT_AGENT_USER
	    " ALL=(ALL) NOPASSWD: ALL\n";
	int		 n;

	if (it_group_setup(state, IT_SLAPD_PORT) != 0)
		return -1;
	e = *state;
	if (it_fake_vendors_start(e, IT_FAKE_PORT, IT_FW_SECRET, fake_dir,
	    &fake_pid) != 0)
		return -1;
	it_pfmt(sshd_dir, sizeof(sshd_dir), "%s/sshd", e->dir);
	it_pfmt(prov, sizeof(prov), "%s/../config/providers", e->scripts);
	sshd_up = 1;
	if (it_sshd_start(e, sshd_dir, IT_SSH_PORT) != 0)
		return -1;
	users_made = 1;
	if (it_login_user(e, IT_AGENT_USER, NULL, IT_SUDOERS, sudoers,
	    it_gpath(e, "agent_key", key)) != 0)
		return -1;
	(void)it_gpath(e, "agent_key2", key2);
	(void)it_gpath(e, "rdv.sh", wrap);
	(void)it_gpath(e, "rdv", rdv);
	if (it_write_file(wrap, rdv_sh, strlen(rdv_sh), 0755) != 0 ||
	    it_keygen(e, key2) != 0)
		return -1;
	{
		char line[IT_PATH_MAX * 2];

		it_pfmt(line, sizeof(line), "command=\"%s\" ", wrap);
		if (it_sh(e, "h=$(getent passwd cordon-t-snap3 | cut -d: -f6); "
		    "{ printf '%s' \"$1\"; cat \"$0.pub\"; } >> "
		    "\"$h/.ssh/authorized_keys\"", key2, line) != 0)
			return -1;
	}
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"snap-dir\"; type = \"snapshot\"; backend = \"dir\"; "
	    "host = \"" IT_HOST "\"; port = %d; user = \"" IT_AGENT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s/known_hosts\"; "
	    "timeout = 60; root = \"%s/dir/data\"; "
	    "snapshots_dir = \"%s/dir/snaps\"; },\n"
	    "{ name = \"fw-hook\"; type = \"firewall\"; provider = "
	    "\"webhook\"; base_url = \"https://127.0.0.1:%d\"; "
	    "ca_file = \"%s/ca.pem\"; key_file = \"%s/fw.key\"; "
	    "secret_file = \"%s/fw.secret\"; profile_dir = \"%s\"; },\n"
	    "{ name = \"fw-dead\"; type = \"firewall\"; provider = "
	    "\"webhook\"; base_url = \"https://127.0.0.1:%d/nothing\"; "
	    "ca_file = \"%s/ca.pem\"; key_file = \"%s/fw.key\"; "
	    "secret_file = \"%s/fw.secret\"; profile_dir = \"%s\"; },\n"
#define PTARGET(i) \
	    "{ name = \"snap-p" i "\"; type = \"snapshot\"; backend = " \
	    "\"dir\"; host = \"" IT_HOST "\"; port = %d; user = \"" \
	    IT_AGENT_USER "\"; key_file = \"%s\"; known_hosts = " \
	    "\"%s/known_hosts\"; timeout = 60; root = \"%s/dir" i "/data\"; " \
	    "snapshots_dir = \"%s/dir" i "/snaps\"; }"
	    PTARGET("1") ",\n" PTARGET("2"),
	    IT_SSH_PORT, key, sshd_dir, e->dir, e->dir,
	    IT_FAKE_PORT, fake_dir, e->dir, e->dir, prov,
	    IT_SLAPD_PORT, fake_dir, e->dir, e->dir, prov,
	    IT_SSH_PORT, key2, sshd_dir, e->dir, e->dir,
	    IT_SSH_PORT, key2, sshd_dir, e->dir, e->dir);
#undef PTARGET
	return n < 0 || (size_t)n >= sizeof(targets) ? -1 : 0;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_AGENT_USER, NULL };

	it_fake_vendors_stop(&fake_pid);
	return it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    users_made ? users : NULL, IT_SUDOERS);
}

static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { .targets_extra = targets };
	static const char grp[] = "\t\ttarget_groups = ( { name = \"snaps\"; "
	    "members = [ \"snap-p1\", \"snap-p2\" ]; } );\n";
	char		*t = NULL, *out, *at;
	size_t		 n;
	int		 r;

	if (store_dir(e) != 0 || it_test_dir(e) != 0 ||
	    it_config_write(e, e->conf, &c) != 0 ||
	    it_read_file(e->conf, &t, &n) != 0)
		return -1;
	/* The harness writes no target groups: one goes before roles. */
	if ((at = strstr(t, "\t\troles = (")) == NULL) {
		free(t);
		return -1;
	}
	out = malloc(n + sizeof(grp));
	if (out == NULL) {
		free(t);
		return -1;
	}
	memcpy(out, t, (size_t)(at - t));
	memcpy(out + (at - t), grp, sizeof(grp) - 1);
	memcpy(out + (at - t) + sizeof(grp) - 1, at, n - (size_t)(at - t));
	r = it_write_file(e->conf, out, n + sizeof(grp) - 1, 0600);
	free(out);
	free(t);
	return r != 0 ? -1 : it_agent_start(e, 0);
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/*
 * Runs a runbook of the given steps ("{ name = ...; }" groups, each with
 * foreach = "${accounts}") with accounts = IT_HOST.  Returns the exit
 * code; ids gets the queued action ids in step order.
 */
static int
run(struct it_env *e, const char *inc, const char *steps, int64_t ids[4],
    size_t *n)
{
	char	rb[IT_PATH_MAX], text[4096];
	int	r;

	it_pfmt(text, sizeof(text),
	    "name = \"it-snap3\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; } );\n"
	    "steps = ( %s );\n", steps);
	(void)it_tpath(e, "rb.runbook", rb);
	assert_int_equal(it_write_file(rb, text, strlen(text), 0644), 0);
	*n = 0;
	r = it_run_accounts(e, IT_OP, rb, inc, IT_HOST, ids, 4, n);
	if (r != 0 && r != 1 && r != 3)
		fail_msg("run: exit %d: %s%s", r, e->out, e->err);
	return r;
}

/* `cordon plan` of the same runbook; its output in e->out. */
static void
plan(struct it_env *e, const char *inc, const char *steps)
{
	char	rb[IT_PATH_MAX], text[4096];

	it_pfmt(text, sizeof(text),
	    "name = \"it-snap3\";\n"
	    "params = ( { name = \"accounts\"; type = \"list\"; "
	    "required = true; } );\n"
	    "steps = ( %s );\n", steps);
	(void)it_tpath(e, "plan.runbook", rb);
	assert_int_equal(it_write_file(rb, text, strlen(text), 0644), 0);
	if (it_cordon(e, IT_OP, "plan", rb, "--incident", inc, "--set",
	    "accounts=" IT_HOST, "--json", NULL) != 0)
		fail_msg("plan: %s%s", e->out, e->err);
}

#define ISOLATE_STEP(target) \
	"{ name = \"isolate\"; verb = \"firewall.isolate_host\"; " \
	"target = \"" target "\"; foreach = \"${accounts}\"; " \
	"args = { host = \"${item}\"; reason = \"it\"; }; " \
	"approval = \"none\"; on_failure = \"continue\"; }"
#define RESTORE_STEP(args) \
	"{ name = \"restore\"; verb = \"snapshot.restore\"; " \
	"target = \"snap-dir\"; foreach = \"${accounts}\"; " \
	"args = { path = \"f\"; " args " }; " \
	"approval = \"none\"; on_failure = \"continue\"; }"

static void
staged_is(struct it_env *e, int64_t id, const char *want)
{
	char	p[IT_PATH_MAX];

	it_pfmt(p, sizeof(p), "%s/dir/data/f.cordon-restore-A%lld", e->dir,
	    (long long)id);
	it_file_is(p, want);
}

/* The isolation act the restore's observed names (0 if none). */
static int64_t
isolated_by(struct it_env *e, int64_t id)
{
	json_t	*a = it_action(e, id), *b;
	int64_t	 r;

	assert_non_null(a);
	b = json_object_get(json_object_get(a, "observed"), "isolated_by");
	r = json_integer_value(json_object_get(b, "action"));
	if (r)
		assert_string_equal(json_string_value(json_object_get(b,
		    "host")), IT_HOST);
	json_decref(a);
	return r;
}

static int64_t
undo(struct it_env *e, int64_t id)
{
	char		ref[32];
	long long	u = 0;
	const char	*p;

	it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", ref, NULL) != 0)
		fail_msg("undo: %s", e->err);
	if ((p = strstr(e->out, "queued as A")) == NULL ||
	    sscanf(p, "queued as A%lld", &u) != 1)
		fail_msg("cannot read the undo id from '%s'", e->out);
	if (it_out_has(e, "awaiting_approval")) {
		it_pfmt(ref, sizeof(ref), "A%lld", u);
		assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL),
		    0);
	}
	return u;
}

static void
test_isolation_from_store(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], other[32];
	int64_t		 ids[4], iso, rs;
	size_t		 n;

	it_incident_from(e, inc_time, inc);
	it_incident_from(e, inc_time, other);
	/* Nothing isolated yet: refused, nothing queued. */
	assert_int_equal(run(e, inc, RESTORE_STEP(""), ids, &n), 3);
	assert_true(it_err_has(e, "'" IT_HOST "' is not isolated"));
	/* Isolated in another incident: that does not count. */
	assert_int_equal(run(e, other, ISOLATE_STEP("fw-hook"), ids, &n), 0);
	assert_int_equal(n, 1);
	it_wait_state(e, ids[0], "succeeded", IT_WAIT_S);
	assert_int_equal(run(e, inc, RESTORE_STEP(""), ids, &n), 3);
	assert_true(it_err_has(e, "is not isolated"));
	/* Isolated in this incident: it runs, and names the isolation. */
	assert_int_equal(run(e, inc, ISOLATE_STEP("fw-hook"), ids, &n), 0);
	assert_int_equal(n, 1);
	iso = ids[0];
	it_wait_state(e, iso, "succeeded", IT_WAIT_S);
	assert_int_equal(run(e, inc, RESTORE_STEP(""), ids, &n), 0);
	assert_int_equal(n, 1);
	rs = ids[0];
	it_wait_state(e, rs, "succeeded", IT_WAIT_S);
	staged_is(e, rs, IT_ORIG);
	assert_int_equal(isolated_by(e, rs), iso);
	/* The isolation undone: refused again. */
	it_wait_state(e, undo(e, iso), "succeeded", IT_WAIT_S);
	it_wait_state(e, iso, "undone", IT_WAIT_S);
	assert_int_equal(run(e, inc, RESTORE_STEP(""), ids, &n), 3);
	assert_true(it_err_has(e, "is not isolated"));
}

static void
test_isolation_same_run(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], m[512];
	int64_t		 ids[4];
	size_t		 n;
	json_t		*a;

	it_incident_from(e, inc_time, inc);
	/* Plan says the restore waits on the isolation. */
	plan(e, inc, ISOLATE_STEP("fw-hook") ", " RESTORE_STEP(""));
	assert_true(it_out_has(e, "runs only if the isolation of '" IT_HOST
	    "' by an earlier step succeeds"));
	assert_int_equal(run(e, inc, ISOLATE_STEP("fw-hook") ", "
	    RESTORE_STEP(""), ids, &n), 0);
	assert_int_equal(n, 2);
	it_wait_state(e, ids[0], "succeeded", IT_WAIT_S);
	it_wait_state(e, ids[1], "succeeded", IT_WAIT_S);
	staged_is(e, ids[1], IT_ORIG);
	assert_int_equal(isolated_by(e, ids[1]), ids[0]);

	/* The isolation step fails: the restore, checked again, is not run. */
	it_incident_from(e, inc_time, inc);
	assert_int_equal(run(e, inc, ISOLATE_STEP("fw-dead") ", "
	    RESTORE_STEP(""), ids, &n), 0);
	assert_int_equal(n, 2);
	it_wait_state(e, ids[0], "failed", IT_WAIT_S);
	it_wait_state(e, ids[1], "failed", IT_WAIT_S);
	a = it_action(e, ids[1]);
	assert_non_null(a);
	it_pfmt(m, sizeof(m), "%s", json_string_value(json_object_get(a,
	    "message")) ? json_string_value(json_object_get(a, "message")) :
	    "");
	json_decref(a);
	assert_non_null(strstr(m, "is not isolated"));
	it_pfmt(m, sizeof(m), "%s/dir/data/f.cordon-restore-A%lld", e->dir,
	    (long long)ids[1]);
	assert_int_not_equal(access(m, F_OK), 0);
}

static void
test_isolation_waiver_journaled(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	int64_t		 ids[4];
	size_t		 n, i;
	json_t		*j, *x;
	int		 seen = 0;

	it_incident_from(e, inc_time, inc);
	assert_int_equal(run(e, inc, RESTORE_STEP(
	    "waive_isolation_reason = \"" IT_WAIVER "\";"), ids, &n), 0);
	assert_int_equal(n, 1);
	it_wait_state(e, ids[0], "succeeded", IT_WAIT_S);
	staged_is(e, ids[0], IT_ORIG);
	assert_int_equal(isolated_by(e, ids[0]), 0);
	assert_non_null(j = it_journal(e));
	json_array_foreach(j, i, x) {
		const char *ev = json_string_value(json_object_get(x, "event"));
		const char *w = json_string_value(json_object_get(
		    json_object_get(json_object_get(x, "payload"), "before"),
		    "isolation_waived"));

		if (json_integer_value(json_object_get(x, "action")) ==
		    ids[0] && ev && strcmp(ev, "queued") == 0 && w &&
		    strcmp(w, IT_WAIVER) == 0)
			seen++;
	}
	json_decref(j);
	assert_int_equal(seen, 1);
}

static void
test_parallel_targets(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], p[IT_PATH_MAX], *t;
	int64_t		 ids[4];
	size_t		 n, i;

	assert_int_equal(it_sh(e, "rm -rf \"$0\"; mkdir -m 1777 \"$0\"", rdv,
	    NULL), 0);
	it_incident_from(e, inc_time, inc);
	assert_int_equal(run(e, inc, "{ name = \"restore\"; verb = "
	    "\"snapshot.restore\"; target = \"snaps\"; foreach = "
	    "\"${accounts}\"; args = { path = \"f\"; "
	    "waive_isolation_reason = \"" IT_WAIVER "\"; }; approval = "
	    "\"none\"; on_failure = \"continue\"; }", ids, &n), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		it_wait_state(e, ids[i], "succeeded", IT_WAIT_S);
		it_pfmt(p, sizeof(p), "%s/dir%zu/data/f.cordon-restore-A%lld",
		    e->dir, i + 1, (long long)ids[i]);
		if (access(p, F_OK) != 0) {
			/* The group may list them in either order. */
			it_pfmt(p, sizeof(p), "%s/dir%zu/data/f.cordon-restore-"
			    "A%lld", e->dir, 2 - i, (long long)ids[i]);
		}
		assert_int_equal(it_read_file(p, &t, &n), 0);
		assert_string_equal(t, IT_ORIG);
		free(t);
	}
	it_pfmt(p, sizeof(p), "%s/log", rdv);
	assert_int_equal(it_read_file(p, &t, &n), 0);
	assert_string_equal(t, "together\ntogether\n");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_isolation_from_store,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_isolation_same_run,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(
		    test_isolation_waiver_journaled, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_parallel_targets,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
