/*
 * it_snapshot: the snapshot driver against a real sshd on loopback
 * (scripts/sshd-start.sh) and a real directory-snapshot tree made here.
 *
 * The store gets a snapshot before the incident time; the test then
 * "ransoms" the files and takes a snapshot after.  Shown: list marks what
 * predates; an explicit post-incident snapshot is refused; a host not
 * known to be isolated is refused; '..' is refused; staging gives back
 * the original bytes; in_place then undo gives back the ransomed bytes.
 * The file name holds a space and both quotes.
 *
 * The same scenarios for the btrfs (loop image) and restic back ends are
 * in it_snapshot2.c.
 */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

#define IT_SLAPD_PORT	38932
#define IT_SSH_PORT	22270
#define IT_AGENT_USER	"cordon-t-snap"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-snap"
#define IT_TEXT_MAX	8192
#define IT_WAIT_S	60		/* for an action to settle */
#define IT_FILE1	"a b'c\".txt"
#define IT_FILE1_RB	"a b'c\\\".txt"		/* inside a libconfig string */
#define IT_ORIG1	"original one"
#define IT_RANSOM	"ENCRYPTED by ransomware"
/* These tests are about restoring; it_snapshot3.c proves isolation. */
#define IT_WAIVE	"waive_isolation_reason = \"test host, no network\";"

static char	sshd_dir[IT_PATH_MAX], targets[IT_TEXT_MAX];
static time_t	inc_time;
static int	sshd_up, users_made;

/* DIR/dir: data with the pre snapshot daily.1, ransom, post daily.0. */
static int
store_dir(struct it_env *e)
{
	char	d[IT_PATH_MAX];

	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	if (it_sh(e, "rm -rf \"$0\"; mkdir -p \"$0/data/sub\" \"$0/snaps\"; "
	    "printf '" IT_ORIG1 "' > \"$0/data/$1\"; printf two > "
	    "\"$0/data/sub/f2\"; cp -a \"$0/data\" \"$0/snaps/daily.1\"; "
	    "touch \"$0/snaps/daily.1\"", d, IT_FILE1) != 0)
		return -1;
	it_nap_ms(1100);
	inc_time = time(NULL);
	it_nap_ms(1100);
	return it_sh(e, "for f in \"$0/data/$1\" \"$0/data/sub/f2\"; do "
	    "printf '" IT_RANSOM "' > \"$f\"; done; cp -a \"$0/data\" "
	    "\"$0/snaps/daily.0\"; touch \"$0/snaps/daily.0\"", d, IT_FILE1);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 key[IT_PATH_MAX];
	static const char sudoers[] = IT_AGENT_USER
	    " ALL=(ALL) NOPASSWD: ALL\n";
	int		 n;

	if (it_group_setup(state, IT_SLAPD_PORT) != 0)
		return -1;
	e = *state;
	it_pfmt(sshd_dir, sizeof(sshd_dir), "%s/sshd", e->dir);
	sshd_up = 1;
	if (it_sshd_start(e, sshd_dir, IT_SSH_PORT) != 0)
		return -1;
	users_made = 1;
	if (it_login_user(e, IT_AGENT_USER, NULL, IT_SUDOERS, sudoers,
	    it_gpath(e, "agent_key", key)) != 0)
		return -1;
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"snap-dir\"; type = \"snapshot\"; backend = \"dir\"; "
	    "host = \"127.0.0.1\"; port = %d; user = \"" IT_AGENT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s/known_hosts\"; "
	    "timeout = 60; root = \"%s/dir/data\"; "
	    "snapshots_dir = \"%s/dir/snaps\"; }",
	    IT_SSH_PORT, key, sshd_dir, e->dir, e->dir);
	return n < 0 || (size_t)n >= sizeof(targets) ? -1 : 0;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_AGENT_USER, NULL };

	return it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    users_made ? users : NULL, IT_SUDOERS);
}

static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { .targets_extra = targets };

	if (store_dir(e) != 0)
		return -1;
	return it_test_setup(e, &c);
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

static void
file_is(struct it_env *e, const char *rel, const char *want)
{
	char	p[IT_PATH_MAX];

	it_pfmt(p, sizeof(p), "%s/dir/data/%s", e->dir, rel);
	it_file_is(p, want);
}

static void
test_snapshot_dir_list(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	json_t		*a, *s;
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	id = it_step(e, inc, "snapshot.list", "snap-dir", "", 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_non_null(a);
	s = json_object_get(json_object_get(a, "before"), "snapshots");
	assert_int_equal(json_array_size(s), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(s, 0), "id")), "daily.1");
	assert_true(json_is_true(json_object_get(json_array_get(s, 0),
	    "predates")));
	assert_true(json_is_false(json_object_get(json_array_get(s, 1),
	    "predates")));
	json_decref(a);
}

static void
test_snapshot_dir_refusals(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], m[512];
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	/* The post-incident snapshot, by name. */
	id = it_step(e, inc, "snapshot.restore", "snap-dir", "path = \""
	    IT_FILE1_RB "\"; snapshot = \"daily.0\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "not before the incident"));
	/* Not isolated and no waiver: the run is refused. */
	assert_int_equal(it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"" IT_FILE1_RB "\";", 0), 0);
	assert_int_equal(e->status, 3);
	assert_non_null(strstr(e->err, "is not isolated"));
	/* A bare claim proves nothing: refused too. */
	assert_int_equal(it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"" IT_FILE1_RB "\"; isolated = \"yes\";", 0), 0);
	assert_int_equal(e->status, 3);
	assert_non_null(strstr(e->err, "'isolated' is no longer read"));
	/* A waiver must say why. */
	assert_int_equal(it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"" IT_FILE1_RB "\"; waive_isolation_reason = \"x\";",
	    0), 0);
	assert_int_equal(e->status, 3);
	assert_non_null(strstr(e->err, "must say why"));
	/* Escapes. */
	id = it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"sub/../../../etc/passwd\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)), "'..'"));
	id = it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"/etc/passwd\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	/* in_place without approval. */
	assert_int_equal(it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"" IT_FILE1_RB "\"; mode = \"in_place\"; "
	    IT_WAIVE, 0), 0);
	assert_non_null(strstr(e->err, "needs approval"));
	file_is(e, IT_FILE1, IT_RANSOM);
}

static void
test_snapshot_dir_staging(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], rel[IT_PATH_MAX], u[32], ref[32];
	int64_t		 id;
	long long	 uid = 0;
	const char	*p;
	json_t		*a;

	it_incident_from(e, inc_time, inc);
	id = it_step(e, inc, "snapshot.restore", "snap-dir", "path = \""
	    IT_FILE1_RB "\"; waive_isolation_reason = \"lab host, no "
	    "network\";", 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "snapshot")), "daily.1");
	assert_true(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "equal")));
	json_decref(a);
	it_pfmt(rel, sizeof(rel), IT_FILE1 ".cordon-restore-A%lld",
	    (long long)id);
	file_is(e, rel, IT_ORIG1);
	file_is(e, IT_FILE1, IT_RANSOM);
	/* A directory, staged whole. */
	id = it_step(e, inc, "snapshot.restore", "snap-dir",
	    "path = \"./sub/\"; " IT_WAIVE, 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	it_pfmt(rel, sizeof(rel), "sub.cordon-restore-A%lld/f2", (long long)id);
	file_is(e, rel, "two");
	/* Undo removes the staging copy. */
	it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", ref, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	it_wait_state(e, uid, "succeeded", IT_WAIT_S);
	it_pfmt(rel, sizeof(rel), "%s/dir/data/sub.cordon-restore-A%lld",
	    e->dir, (long long)id);
	assert_int_not_equal(access(rel, F_OK), 0);
	(void)u;
}

static void
test_snapshot_dir_in_place_undo(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], ref[32];
	int64_t		 id;
	long long	 uid = 0;
	const char	*p;

	it_incident_from(e, inc_time, inc);
	id = it_step(e, inc, "snapshot.restore", "snap-dir", "path = \"sub\"; "
	    "mode = \"in_place\"; " IT_WAIVE, 1);
	assert_true(id > 0);
	it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
	if (it_cordon(e, IT_LEAD, "approve", ref, NULL) != 0)
		fail_msg("approve: %s", e->err);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	file_is(e, "sub/f2", "two");
	if (it_cordon(e, IT_OP, "undo", ref, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	it_pfmt(ref, sizeof(ref), "A%lld", uid);
	(void)it_cordon(e, IT_LEAD, "approve", ref, NULL);
	it_wait_state(e, uid, "succeeded", IT_WAIT_S);
	file_is(e, "sub/f2", IT_RANSOM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_dir_list,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_dir_refusals,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_dir_staging,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(
		    test_snapshot_dir_in_place_undo, test_setup,
		    test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
