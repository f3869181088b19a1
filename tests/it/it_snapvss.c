/*
 * it_snapvss: the snapshot driver's "vss" back end (Windows shadow
 * copies) end to end over a real sshd (scripts/sshd-start.sh on
 * 127.0.0.1:IT_SSH_PORT).
 *
 * No Windows host can run here.  cordon's login on this sshd has
 * tests/it/fake_vss.py as its shell: it accepts only the exact
 * `powershell.exe ... -EncodedCommand` form, decodes the script, reads
 * every value back with PowerShell's quoting rule and answers cordon's six
 * vss script kinds on a real directory tree: DIR/vssstate/vol is drive C:,
 * DIR/vssstate/shadow/N the shadow copy device N, a symbolic link a
 * junction.  So the bytes robocopy copies and the SHA-256 verify compares
 * are real, and a hostile file name survives the trip as one value.  The
 * scripts' text is pinned byte for byte by tests/unit/test_snap_vss*.c;
 * whether real PowerShell, robocopy and VSS behave as the fake does is
 * not proven here.
 *
 * Each test starts from C:\Data holding the ransomed files, shadow copy 1
 * taken an hour before the incident (the originals) and shadow copy 2
 * taken after it (ransomed).
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

#define IT_AGENT_PORT	38991
#define IT_SSH_PORT	22300
#define IT_USER		"cordon-t-vss"
#define IT_TGT		"win-vss"	/* the target most steps aim at */
#define IT_TEXT_MAX	8192
#define IT_WAIT_S	60		/* for an action to settle */
#define IT_GUID1	"{3A1F2B4C-5D6E-4F70-8192-A3B4C5D6E7F8}"
#define IT_GUID2	"{0B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0}"
#define IT_GUID2_LC	"{0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0}"
#define IT_DEV		"\\\\\\\\?\\\\GLOBALROOT\\\\Device\\\\" \
			"HarddiskVolumeShadowCopy"	/* JSON-escaped */
/* Allowed by Windows; every character PowerShell could misread. */
#define IT_FILE		"Q3 \xe2\x80\x99rep\xe2\x80\x98 $(calc); `x` " \
			"caf\xc3\xa9 it's.txt"
#define IT_ORIG		"original quarterly figures"
#define IT_ORIG2	"second original"
#define IT_RANSOM	"ENCRYPTED by ransomware"
/* These tests are about restoring; it_snapshot3.c proves isolation. */
#define IT_WAIVE	"waive_isolation_reason = \"test host, no network\";"

static char	sshd_dir[IT_PATH_MAX], st[IT_PATH_MAX], targets[IT_TEXT_MAX];
static time_t	inc_time;
static int	sshd_up, user_made;

/* vol and shadows as described above; free bytes on C:. */
static int
state_reset(struct it_env *e, long long free_bytes)
{
	char	json[1024], path[IT_PATH_MAX + 16];

	inc_time = time(NULL) - 60;
	if (it_sh(e, "cd \"$0\"; rm -rf vol shadow scripts.log tamper; "
	    "mkdir -p vol/Data/reports/sub vol/Other shadow; "
	    "printf '" IT_ORIG "' > \"vol/Data/reports/$1\"; "
	    "printf '" IT_ORIG2 "' > vol/Data/reports/sub/f2; "
	    "printf keep > vol/Other/keep; "
	    "cp -a vol shadow/1; "
	    "for f in \"vol/Data/reports/$1\" vol/Data/reports/sub/f2; do "
	    "printf '" IT_RANSOM "' > \"$f\"; done; "
	    "cp -a vol shadow/2", st, IT_FILE) != 0)
		return -1;
	it_pfmt(json, sizeof(json), "{\"volume\": \"C:\\\\\", \"free\": %lld, "
	    "\"copies\": [{\"id\": \"" IT_GUID1 "\", \"at\": %lld, "
	    "\"dev\": \"" IT_DEV "1\"}, {\"id\": \"" IT_GUID2 "\", "
	    "\"at\": %lld, \"dev\": \"" IT_DEV "2\"}]}", free_bytes,
	    (long long)inc_time - 3600, (long long)inc_time + 30);
	it_pfmt(path, sizeof(path), "%s/vss.json", st);
	if (it_write_file(path, json, strlen(json), 0644) != 0)
		return -1;
	return it_sh(e, "chown -R \"$1\" \"$0\"", st, IT_USER);
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	char		 shell[IT_PATH_MAX];
	char		 src[IT_PATH_MAX], key[IT_PATH_MAX];
	char		*text = NULL;
	size_t		 len = 0;
	int		 n;

	if (it_group_setup(state, IT_AGENT_PORT) != 0)
		return -1;
	e = *state;
	it_pfmt(sshd_dir, sizeof(sshd_dir), "%s/sshd", e->dir);
	sshd_up = 1;
	if (it_sshd_start(e, sshd_dir, IT_SSH_PORT) != 0)
		return -1;
	/* The fake shell, readable and runnable by the test user. */
	it_pfmt(src, sizeof(src), "%s/../tests/it/fake_vss.py", e->scripts);
	(void)it_gpath(e, "fake_vss.py", shell);
	if (it_read_file(src, &text, &len) != 0 ||
	    it_write_file(shell, text, len, 0755) != 0) {
		free(text);
		return -1;
	}
	free(text);
	user_made = 1;
	if (it_login_user(e, IT_USER, shell, NULL, NULL,
	    it_gpath(e, "agent_key", key)) != 0)
		return -1;
	(void)it_gpath(e, "vssstate", st);
	if (mkdir(st, 0755) != 0)
		return -1;
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"win-vss\"; type = \"snapshot\"; backend = \"vss\"; "
	    "host = \"127.0.0.1\"; port = %d; user = \"" IT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s/known_hosts\"; "
	    "timeout = 30; volume = \"C:\\\\\"; root = \"c:\\\\Data\"; }, "
	    "{ name = \"win-vss-c\"; type = \"snapshot\"; backend = \"vss\"; "
	    "host = \"127.0.0.1\"; port = %d; user = \"" IT_USER "\"; "
	    "key_file = \"%s\"; known_hosts = \"%s/known_hosts\"; "
	    "timeout = 30; volume = \"C:\"; root = \"C:\\\\\"; }",
	    IT_SSH_PORT, key, sshd_dir, IT_SSH_PORT, key, sshd_dir);
	return n < 0 || (size_t)n >= sizeof(targets) ? -1 : 0;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_USER, NULL };

	return it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    user_made ? users : NULL, NULL);
}

static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { .targets_extra = targets };

	if (state_reset(e, 1LL << 40) != 0)
		return -1;
	return it_test_setup(e, &c);
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/* The file STATE/vol/rel holds exactly want. */
static void
file_is(const char *rel, const char *want)
{
	char	p[IT_PATH_MAX + 64];

	it_pfmt(p, sizeof(p), "%s/vol/%s", st, rel);
	it_file_is(p, want);
}

static int
gone(const char *rel)
{
	char	p[IT_PATH_MAX + 64];
	struct stat sb;

	it_pfmt(p, sizeof(p), "%s/vol/%s", st, rel);
	return lstat(p, &sb) != 0 && errno == ENOENT;
}

/* Every name, type, size and checksum under vol and shadow, into *ret. */
static void
tree_sum(struct it_env *e, char *out, size_t len)
{
	const char *argv[] = { "sh", "-c", "cd \"$0\" && find vol shadow "
	    "-printf '%p %y %s\\n' | LC_ALL=C sort | sha256sum", st, NULL };

	assert_int_equal(it_runv(e, IT_ROOT, NULL, argv, 30), 0);
	it_pfmt(out, len, "%s", e->out);
}

static int64_t
undo(struct it_env *e, int64_t id)
{
	char		 ref[32];
	const char	*p;
	long long	 uid = 0;

	it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", ref, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	it_wait_state(e, uid, "succeeded", IT_WAIT_S);
	return uid;
}

static void
test_vss_list(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32];
	json_t		*a, *s;
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	id = it_step(e, inc, "snapshot.list", IT_TGT, "", 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_non_null(a);
	s = json_object_get(json_object_get(a, "before"), "snapshots");
	assert_int_equal(json_array_size(s), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(s, 0), "id")), IT_GUID1);
	assert_true(json_is_true(json_object_get(json_array_get(s, 0),
	    "predates")));
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(s, 1), "id")), IT_GUID2);
	assert_true(json_is_false(json_object_get(json_array_get(s, 1),
	    "predates")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(a, "before"), "backend")), "vss");
	json_decref(a);
}

static void
test_vss_staging(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], rel[IT_PATH_MAX], log[IT_PATH_MAX + 16];
	int64_t		 id;
	json_t		*a;

	it_incident_from(e, inc_time, inc);
	/* A file with every quote PowerShell knows in its name. */
	id = it_step(e, inc, "snapshot.restore", IT_TGT,
	    "path = \"reports/" IT_FILE "\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "snapshot")), IT_GUID1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "path")), "reports\\" IT_FILE);
	assert_true(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "equal")));
	json_decref(a);
	/* robocopy puts a file into the staging folder under its name. */
	it_pfmt(rel, sizeof(rel), "Data/reports/" IT_FILE
	    ".cordon-restore-A%lld/" IT_FILE, (long long)id);
	file_is(rel, IT_ORIG);
	file_is("Data/reports/" IT_FILE, IT_RANSOM);
	/* The name reached the host as one literal, quotes doubled. */
	it_pfmt(log, sizeof(log), "%s/scripts.log", st);
	assert_int_equal(it_file_has(log, "$below = 'Data\\reports\\Q3 "
	    "\xe2\x80\x99\xe2\x80\x99rep\xe2\x80\x98\xe2\x80\x98 $(calc); "
	    "`x` caf\xc3\xa9 it''s.txt'\n"), 1);

	/* A folder, staged whole; undo removes exactly the staging copy. */
	id = it_step(e, inc, "snapshot.restore", IT_TGT,
	    "path = \"./reports/sub/\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	it_pfmt(rel, sizeof(rel), "Data/reports/sub.cordon-restore-A%lld/f2",
	    (long long)id);
	file_is(rel, IT_ORIG2);
	(void)undo(e, id);
	it_pfmt(rel, sizeof(rel), "Data/reports/sub.cordon-restore-A%lld",
	    (long long)id);
	assert_true(gone(rel));
	file_is("Data/reports/sub/f2", IT_RANSOM);
	file_is("Other/keep", "keep");
	file_is("Data/reports/" IT_FILE, IT_RANSOM);

	/* A target whose root is the volume itself ("C:" + "\\" + path). */
	id = it_step(e, inc, "snapshot.restore", "win-vss-c",
	    "path = \"Data\\\\reports\\\\sub\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	it_pfmt(rel, sizeof(rel), "Data/reports/sub.cordon-restore-A%lld/f2",
	    (long long)id);
	file_is(rel, IT_ORIG2);
}

static void
test_vss_tampered(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], m[512], p[IT_PATH_MAX + 16];
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	it_pfmt(p, sizeof(p), "%s/tamper", st);
	assert_int_equal(it_write_file(p, "X", 1, 0644), 0);
	id = it_step(e, inc, "snapshot.restore", IT_TGT, "path = \"reports\"; "
	    IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "restored tree differs from snapshot " IT_GUID1));
}

static void
test_vss_refusals(void **state)
{
	static const char *const bad[] = {
		"reports/../../Windows/win.ini",
		"reports/x.txt:secret",
		"reports/*.txt",
		"C:/Windows/win.ini",
		"junction/f",
		"reports/trailing. ",
	};
	struct it_env	*e = *state;
	char		 inc[32], m[512], before[256], after[256];
	char		 args[512];
	int64_t		 id;
	size_t		 i;

	/* A junction (here: a symbolic link) on the live side, and one
	 * inside the pre-incident shadow copy's tree. */
	assert_int_equal(it_sh(e, "ln -s ../Other \"$0/vol/Data/junction\" && "
	    "chown -h \"$1\" \"$0/vol/Data/junction\" && "
	    "ln -s ../../../Other \"$0/shadow/1/Data/reports/sub/j\"", st,
	    IT_USER), 0);
	it_incident_from(e, inc_time, inc);
	tree_sum(e, before, sizeof(before));
	/* in_place: refused at check, whatever the approval. */
	assert_int_equal(it_step(e, inc, "snapshot.restore", IT_TGT,
	    "path = \"reports\"; mode = \"in_place\"; " IT_WAIVE, 1), 0);
	assert_int_equal(e->status, 3);
	assert_non_null(strstr(e->err, "staging only"));
	/* The shadow copy taken after the incident (by its ID as vssadmin
	 * prints it, in lower case). */
	id = it_step(e, inc, "snapshot.restore", IT_TGT, "path = \"reports\"; "
	    "snapshot = \"" IT_GUID2_LC "\"; " IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "not before the incident"));
	/* Paths that leave the root or mean something else to Windows. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		it_pfmt(args, sizeof(args), "path = \"%s\"; " IT_WAIVE,
		    bad[i]);
		id = it_step(e, inc, "snapshot.restore", IT_TGT, args, 0);
		assert_true(id > 0);
		it_wait_state(e, id, "failed", IT_WAIT_S);
		(void)it_action_msg(e, id, m, sizeof(m));
		if (strstr(m, "'path'") == NULL && strcmp(m, "inspect path "
		    "exited 5: path goes through a junction or symbolic "
		    "link") != 0)
			fail_msg("'%s': %s", bad[i], m);
	}
	/* A tree robocopy /XJ would copy without its junction. */
	id = it_step(e, inc, "snapshot.restore", IT_TGT, "path = \"reports\"; "
	    IT_WAIVE, 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)), "holds 1 "
	    "junction(s) or symbolic link(s), which robocopy /XJ does not "
	    "copy"));
	/* Not in the shadow copy. */
	id = it_step(e, inc, "snapshot.restore", IT_TGT,
	    "path = \"reports/new.txt\"; " IT_WAIVE, 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)), "is not in "
	    "snapshot"));
	tree_sum(e, after, sizeof(after));
	assert_string_equal(before, after);
}

static void
test_vss_no_space(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], m[512], before[256], after[256];
	int64_t		 id;

	assert_int_equal(state_reset(e, 10), 0);
	it_incident_from(e, inc_time, inc);
	tree_sum(e, before, sizeof(before));
	id = it_step(e, inc, "snapshot.restore", IT_TGT, "path = \"reports\"; "
	    IT_WAIVE, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "not enough free space"));
	tree_sum(e, after, sizeof(after));
	assert_string_equal(before, after);
}

static void
test_vss_config(void **state)
{
	static const char *const bad[][2] = {
		{ "volume = \"C:\\\\\"; root = \"D:\\\\Data\";", "'root'" },
		{ "volume = \"C:\\\\\"; root = \"C:\\\\a\\\\..\\\\b\";",
		  "'root'" },
		{ "volume = \"C:\\\\Users\"; root = \"C:\\\\Data\";",
		  "'volume'" },
		{ "volume = \"C:\\\\\"; root = \"C:\\\\Data\"; sudo = true;",
		  "'sudo'" },
		{ "volume = \"C:\\\\\";", "missing 'root'" },
	};
	struct it_env	*e = *state;
	char		 t[IT_TEXT_MAX], path[IT_PATH_MAX], key[IT_PATH_MAX];
	size_t		 i;

	(void)it_gpath(e, "agent_key", key);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct it_conf c = { .targets_extra = t };

		it_pfmt(t, sizeof(t), "{ name = \"bad\"; type = \"snapshot\"; "
		    "backend = \"vss\"; host = \"127.0.0.1\"; port = %d; "
		    "user = \"" IT_USER "\"; key_file = \"%s\"; "
		    "known_hosts = \"%s/known_hosts\"; %s }", IT_SSH_PORT,
		    key, sshd_dir, bad[i][0]);
		(void)it_tpath(e, "bad.conf", path);
		assert_int_equal(it_config_write(e, path, &c), 0);
		assert_int_equal(it_cordon(e, IT_ROOT, "check-config", path,
		    NULL), 2);
		if (!it_err_has(e, path) || !it_err_has(e, bad[i][1]))
			fail_msg("%s: %s", bad[i][0], e->err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vss_list, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_vss_staging, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_vss_tampered, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_vss_refusals, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_vss_no_space, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_vss_config, test_setup,
		    test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
