/*
 * it_snapshot4: the gaps an audit of the snapshot driver found, against a
 * real sshd on loopback (scripts/sshd-start.sh), a real directory-snapshot
 * tree made here and, for isolation, the webhook firewall profile against
 * the loopback fake vendor server (tests/it/fake_vendors.py).
 *
 * Shown:
 *   - 'before' may only set an earlier cut-off than the incident's time:
 *     a later one is refused (restore and list), and never lets the
 *     post-incident snapshot be picked;
 *   - after an agent crash, a restore whose staging copy exists settles
 *     as succeeded (check: no change, then verify) although the isolation
 *     was undone meanwhile, and its copy is left untouched; one whose
 *     copy does not exist fails with nothing written;
 *   - a snapshot whose path, or a parent of it, is a symlink out of the
 *     snapshot is refused with nothing copied; so is a snapshot that is
 *     itself a symlink;
 *   - too little free space for the copy is refused before anything is
 *     written (dir back end);
 *   - copy_timeout is checked at load (file:line); a copy longer than
 *     the target's command timeout runs under
 *     copy_timeout instead, and a leftover '.part' another copy may still
 *     be writing is not deleted;
 *   - verify of a directory of 5,000 files (manifests far above the
 *     output cap) compares digests and succeeds; a copy altered after it
 *     was made fails verify, naming the first difference in a small
 *     tree and counting files in a large one.
 */
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
#include <sqlite3.h>

#include "../../agent/util.h"
#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38993
#define IT_FAKE_PORT	22313	/* not assigned: next to sshd port */
#define IT_SSH_PORT	22310
#define IT_AGENT_USER	"cordon-t-sn4"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-sn4"
#define IT_TEXT_MAX	8192
#define IT_WAIT_S	120		/* for an action to settle */
#define IT_HOST		"127.0.0.1"
#define IT_ORIG		"original"
#define IT_RANSOM	"ENCRYPTED by ransomware"
#define IT_FW_SECRET	"s3cr3t-T0ken-xyz"
#define IT_WAIVE	"waive_isolation_reason = \"test host, no network\";"

static char	sshd_dir[IT_PATH_MAX], fake_dir[IT_PATH_MAX];
static char	targets[IT_TEXT_MAX];
static time_t	inc_time;
static pid_t	fake_pid;
static int	sshd_up, users_made;

/*
 * DIR/dir: data/f and data/sub/f2 with the pre snapshot daily.1 (dated
 * 10 s back, so a 'before' a little earlier than the incident still
 * follows it), then
 * the incident time, then ransomed with the post snapshot daily.0.
 */
static int
store_dir(struct it_env *e)
{
	char	d[IT_PATH_MAX];

	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	if (it_sh(e, "rm -rf \"$0\"; mkdir -p \"$0/data/sub\" \"$0/snaps\"; "
	    "printf '" IT_ORIG "' > \"$0/data/f\"; printf two > "
	    "\"$0/data/sub/f2\"; cp -a \"$0/data\" \"$0/snaps/daily.1\"; "
	    "touch -d @$(($(date +%s) - 10)) \"$0/snaps/daily.1\"", d,
	    NULL) != 0)
		return -1;
	it_nap_ms(1100);
	inc_time = time(NULL);
	it_nap_ms(1100);
	return it_sh(e, "for f in \"$0/data/f\" \"$0/data/sub/f2\"; do "
	    "printf '" IT_RANSOM "' > \"$f\"; done; cp -a \"$0/data\" "
	    "\"$0/snaps/daily.0\"; touch \"$0/snaps/daily.0\"", d, NULL);
}

/*
 * The second key's forced command: each copy out of a snapshot (the
 * fetch script) first takes 12 s, beyond the slow target's timeout.
 * While DIR/tamper holds "PATH FILE", the copy is then altered: FILE in
 * PATH's staging copy gets one more byte (a copy gone wrong, for verify
 * to catch).
 */
static const char slow_sh[] =
    "#!/bin/sh\n"
    "c=$SSH_ORIGINAL_COMMAND\n"
    "t=$(dirname \"$0\")/tamper\n"
    "case $c in *'destination exists'*)\n"
    "  sleep 12\n"
    "  if [ -f \"$t\" ]; then\n"
    "    sh -c \"$c\" || exit $?\n"
    "    read -r p f < \"$t\"\n"
    "    exec sudo -n sh -c 'for x in \"$1\".cordon-restore-A*/\"$2\"; do "
    "printf x >> \"$x\"; done' sh \"$p\" \"$f\"\n"
    "  fi ;;\n"
    "esac\n"
    "exec sh -c \"$c\"\n";

#define SNAP_TARGET(name, extra) \
	"{ name = \"" name "\"; type = \"snapshot\"; backend = \"dir\"; " \
	"host = \"" IT_HOST "\"; port = %d; user = \"" IT_AGENT_USER "\"; " \
	"key_file = \"%s\"; known_hosts = \"%s/known_hosts\"; " \
	extra " root = \"%s/dir/data\"; " \
	"snapshots_dir = \"%s/dir/snaps\"; }"

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
	(void)it_gpath(e, "slow.sh", wrap);
	if (it_write_file(wrap, slow_sh, strlen(slow_sh), 0755) != 0 ||
	    it_keygen(e, key2) != 0)
		return -1;
	{
		char line[IT_PATH_MAX * 2];

		it_pfmt(line, sizeof(line), "command=\"%s\" ", wrap);
		if (it_sh(e, "h=$(getent passwd " IT_AGENT_USER " | cut -d: "
		    "-f6); { printf '%s' \"$1\"; cat \"$0.pub\"; } >> "
		    "\"$h/.ssh/authorized_keys\"", key2, line) != 0)
			return -1;
	}
	n = snprintf(targets, sizeof(targets),
	    SNAP_TARGET("snap-dir", "timeout = 60;") ",\n"
	    SNAP_TARGET("snap-slow", "timeout = 5; copy_timeout = 60;") ",\n"
	    "{ name = \"fw-hook\"; type = \"firewall\"; provider = "
	    "\"webhook\"; base_url = \"https://127.0.0.1:%d\"; "
	    "ca_file = \"%s/ca.pem\"; key_file = \"%s/fw.key\"; "
	    "secret_file = \"%s/fw.secret\"; profile_dir = \"%s\"; }",
	    IT_SSH_PORT, key, sshd_dir, e->dir, e->dir,
	    IT_SSH_PORT, key2, sshd_dir, e->dir, e->dir,
	    IT_FAKE_PORT, fake_dir, e->dir, e->dir, prov);
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

	if (store_dir(e) != 0)
		return -1;
	return it_test_setup(e, &c);
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/* snapshot.restore of args on snap-dir for IT_HOST: it_step_for's id. */
static int64_t
restore(struct it_env *e, const char *inc, const char *args)
{
	return it_step_for(e, inc, "snapshot.restore", "snap-dir", args, 0,
	    IT_HOST);
}

static void
staged_path(struct it_env *e, const char *rel, int64_t id, char *buf,
    size_t len)
{
	it_pfmt(buf, len, "%s/dir/data/%s.cordon-restore-A%lld", e->dir, rel,
	    (long long)id);
}

static int
exists(const char *p)
{
	struct stat	st;

	return lstat(p, &st) == 0;
}

/* Nothing named NAME.cordon-* (nor a .part) beside DIR/dir/data/NAME. */
static void
nothing_staged(struct it_env *e, const char *name)
{
	char	d[IT_PATH_MAX];

	it_pfmt(d, sizeof(d), "%s/dir/data", e->dir);
	if (it_sh(e, "! ls -a \"$0\" | grep -F -e \"$1.cordon-\"", d,
	    name) != 0)
		fail_msg("something was staged beside '%s' in %s", name, d);
}

/* 1: 'before' only ever moves the cut-off earlier. */
static void
test_before_caps(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], late[32], early[32], m[512], args[256];
	json_t		*a;
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	fmt_time(inc_time + 3600, late);
	fmt_time(inc_time - 5, early);
	/* A later 'before' would make daily.0 (after the incident) look
	 * safe: refused, for the latest and for daily.0 by name. */
	it_pfmt(args, sizeof(args), "path = \"f\"; before = \"%s\"; "
	    IT_WAIVE, late);
	assert_int_equal(restore(e, inc, args), 0);
	assert_int_equal(e->status, 3);
	assert_true(it_err_has(e, "is later than the incident's "
	    "occurred_from"));
	it_pfmt(args, sizeof(args), "path = \"f\"; snapshot = \"daily.0\"; "
	    "before = \"%s\"; " IT_WAIVE, late);
	assert_int_equal(restore(e, inc, args), 0);
	assert_int_equal(e->status, 3);
	assert_true(it_err_has(e, "is later than the incident's"));
	/* list refuses it too rather than mark daily.0 predating. */
	it_pfmt(args, sizeof(args), "before = \"%s\";", late);
	assert_int_equal(it_step_for(e, inc, "snapshot.list", "snap-dir", args,
	    0, IT_HOST), 0);
	assert_int_equal(e->status, 3);
	assert_true(it_err_has(e, "is later than the incident's"));
	/* An earlier 'before' is honoured: daily.1 still predates. */
	it_pfmt(args, sizeof(args), "path = \"f\"; before = \"%s\"; "
	    IT_WAIVE, early);
	id = restore(e, inc, args);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "snapshot")), "daily.1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "time_from")), "before");
	json_decref(a);
	staged_path(e, "f", id, args, sizeof(args));
	it_file_is(args, IT_ORIG);
	/* Without 'before', daily.0 by name is refused as ever. */
	id = restore(e, inc, "path = \"f\"; snapshot = \"daily.0\"; "
	    IT_WAIVE);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "not before the incident"));
}

/* Sets actions.state of id in the stopped agent's store. */
static void
set_state(struct it_env *e, int64_t id, const char *state)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	int		 ok = 0;

	if (sqlite3_open_v2(e->store, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK && sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "UPDATE actions SET state = ?1 WHERE "
	    "id = ?2", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, id) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1)
		ok = 1;
	if (!ok)
		(void)fprintf(stderr, "set_state: %s\n", db ? sqlite3_errmsg(db) :
		    "cannot open");
	(void)sqlite3_finalize(st);
	(void)sqlite3_close(db);
	assert_true(ok);
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

/* 2: a restore interrupted by a crash is settled by what is on disk. */
static void
test_crash_reconcile(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], p1[IT_PATH_MAX], p2[IT_PATH_MAX], m[512];
	struct stat	 st0, st1, sf0, sf1;
	int64_t		 iso, rs1, rs2;

	it_incident_from(e, inc_time, inc);
	iso = it_step_for(e, inc, "firewall.isolate_host", "fw-hook",
	    "host = \"${item}\"; reason = \"it\";", 0, IT_HOST);
	assert_true(iso > 0);
	it_wait_state(e, iso, "succeeded", IT_WAIT_S);
	rs1 = restore(e, inc, "path = \"f\";");
	assert_true(rs1 > 0);
	it_wait_state(e, rs1, "succeeded", IT_WAIT_S);
	rs2 = restore(e, inc, "path = \"sub\";");
	assert_true(rs2 > 0);
	it_wait_state(e, rs2, "succeeded", IT_WAIT_S);
	staged_path(e, "f", rs1, p1, sizeof(p1));
	staged_path(e, "sub", rs2, p2, sizeof(p2));
	it_file_is(p1, IT_ORIG);
	assert_int_equal(lstat(p1, &st0), 0);
	/* rs2's copy is gone, as if the crash came before it was made. */
	assert_int_equal(it_rm_rf(p2), 0);
	/* The isolation undone meanwhile. */
	it_wait_state(e, undo(e, iso), "succeeded", IT_WAIT_S);
	it_wait_state(e, iso, "undone", IT_WAIT_S);
	assert_int_equal(it_agent_stop(e), 0);
	set_state(e, rs1, "running");
	set_state(e, rs2, "running");
	{
		char d[IT_PATH_MAX];

		it_pfmt(d, sizeof(d), "%s/dir/data", e->dir);
		assert_int_equal(lstat(d, &sf0), 0);
	}
	it_nap_ms(1100);
	assert_int_equal(it_agent_start(e, 0), 0);
	/* The copy exists: the restore happened; verify proves it. */
	it_wait_state(e, rs1, "succeeded", IT_WAIT_S);
	assert_true(it_journal_count(e, "interrupted", rs1) >= 1);
	assert_true(it_journal_count(e, "reconciled", rs1) >= 1);
	it_file_is(p1, IT_ORIG);
	assert_int_equal(lstat(p1, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino);
	assert_int_equal(st0.st_mtime, st1.st_mtime);
	assert_int_equal(st0.st_ctime, st1.st_ctime);
	/* No copy and no isolation: check fails it, nothing is written. */
	it_wait_state(e, rs2, "failed", IT_WAIT_S);
	assert_true(it_journal_count(e, "reconciled", rs2) >= 1);
	assert_non_null(strstr(it_action_msg(e, rs2, m, sizeof(m)),
	    "is not isolated"));
	assert_false(exists(p2));
	nothing_staged(e, "sub");
	{
		char d[IT_PATH_MAX];

		it_pfmt(d, sizeof(d), "%s/dir/data", e->dir);
		assert_int_equal(lstat(d, &sf1), 0);
		/* Nothing added to or removed from the live directory. */
		assert_int_equal(sf0.st_mtime, sf1.st_mtime);
		assert_int_equal(sf0.st_ctime, sf1.st_ctime);
	}
}

/* 7: symlinks in a snapshot never lead out of it. */
static void
test_symlink_in_snapshot(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], d[IT_PATH_MAX], m[512];
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	/* The live tree has real 'lk/passwd' and 'lf'; the pre-incident
	 * snapshot (as an attacker left it) has symlinks out of it there,
	 * and a snapshot that is itself a symlink. */
	assert_int_equal(it_sh(e, "mkdir -p \"$0/data/lk\" && printf x > "
	    "\"$0/data/lk/passwd\" && printf y > \"$0/data/lf\" && "
	    "m=$(stat -c %Y \"$0/snaps/daily.1\") && "
	    "ln -s /etc \"$0/snaps/daily.1/lk\" && ln -s /etc/hostname "
	    "\"$0/snaps/daily.1/lf\" && ln -s /etc \"$0/snaps/evil\" && "
	    "touch -h -d @$m \"$0/snaps/evil\" \"$0/snaps/daily.1\"", d,
	    NULL), 0);
	/* A parent of the path is a symlink. */
	id = restore(e, inc, "path = \"lk/passwd\"; " IT_WAIVE);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)), "symlink"));
	nothing_staged(e, "passwd");
	/* The path itself is one. */
	id = restore(e, inc, "path = \"lf\"; " IT_WAIVE);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)), "symlink"));
	nothing_staged(e, "lf");
	/* The whole snapshot is one: not a snapshot at all. */
	id = restore(e, inc, "path = \"lf\"; snapshot = \"evil\"; "
	    IT_WAIVE);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "no snapshot 'evil'"));
	nothing_staged(e, "lf");
	it_file_is(strcat(d, "/data/lf"), "y");
}

/* 8: a copy that cannot fit is refused before anything is written. */
static void
test_free_space(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], d[IT_PATH_MAX], m[512];
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	/* A sparse file in the snapshot twice the size of the free space
	 * beside the live tree (its apparent size is what is copied). */
	assert_int_equal(it_sh(e, "a=$(df -B1 --output=avail -- \"$0/data\" "
	    "| tail -n 1) && m=$(stat -c %Y \"$0/snaps/daily.1\") && "
	    "truncate -s $((a * 2 + 4096)) \"$0/snaps/daily.1/big\" && "
	    "touch -d @$m \"$0/snaps/daily.1\" && : > \"$0/data/big\"", d,
	    NULL), 0);
	id = restore(e, inc, "path = \"big\"; " IT_WAIVE);
	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "not enough free space"));
	nothing_staged(e, "big");
}

/* 6: verify compares manifest digests, so a big tree verifies. */
static void
test_many_files(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], d[IT_PATH_MAX], p[IT_PATH_MAX];
	json_t		*a, *o;
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	/* 5,000 files with long names: a manifest of ~1 MB, twice the
	 * output cap of one command. */
	assert_int_equal(it_sh(e, "m=$(stat -c %Y \"$0/snaps/daily.1\") && "
	    "mkdir -p \"$0/snaps/daily.1/many\" \"$0/data/many\" && "
	    "cd \"$0/snaps/daily.1/many\" && i=0 && while [ $i -lt 5000 ]; "
	    "do printf '%s' $i > "
	    "\"file-with-a-rather-long-name-to-fill-the-manifest-$i.txt\"; "
	    "i=$((i + 1)); done && touch -d @$m \"$0/snaps/daily.1\"", d,
	    NULL), 0);
	id = restore(e, inc, "path = \"many\"; " IT_WAIVE);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_non_null(a);
	o = json_object_get(a, "observed");
	assert_true(json_is_true(json_object_get(o, "equal")));
	assert_int_equal(json_integer_value(json_object_get(o, "files")),
	    5000);
	json_decref(a);
	staged_path(e, "many", id, p, sizeof(p));
	strcat(p, "/file-with-a-rather-long-name-to-fill-the-manifest-4999"
	    ".txt");
	it_file_is(p, "4999");
}

/* 5: copies run under copy_timeout; a .part being written is kept. */
static void
test_copy_timeout(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], d[IT_PATH_MAX], path[IT_PATH_MAX], m[512];
	char		 lock[IT_PATH_MAX], part[IT_PATH_MAX];
	const char	*at;
	time_t		 t0;
	pid_t		 holder;
	int64_t		 id;

	/* Validated at load, with file:line. */
	{
		char bad[IT_TEXT_MAX];
		struct it_conf c = { .targets_extra = bad };

		it_pfmt(bad, sizeof(bad), "%s", targets);
		assert_non_null(at = strstr(bad, "copy_timeout = 60;"));
		memcpy(strstr(bad, "copy_timeout = 60;"), "copy_timeout = 0; ",
		    18);
		(void)it_tpath(e, "bad.conf", path);
		assert_int_equal(it_config_write(e, path, &c), 0);
		assert_int_equal(it_cordon(e, IT_ROOT, "check-config", path,
		    NULL), 2);
		assert_true(it_err_has(e, "copy_timeout"));
		assert_non_null(at = strstr(e->err, path));
		assert_true(at[strlen(path)] == ':' && at[strlen(path) + 1] >=
		    '1' && at[strlen(path) + 1] <= '9');
	}
	it_incident_from(e, inc_time, inc);
	/* A copy of 12 s with timeout = 5: it completes. */
	t0 = time(NULL);
	id = it_step_for(e, inc, "snapshot.restore", "snap-slow",
	    "path = \"f\"; " IT_WAIVE, 0, IT_HOST);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	assert_true(time(NULL) - t0 >= 12);
	staged_path(e, "f", id, path, sizeof(path));
	it_file_is(path, IT_ORIG);
	/* The next act's .part, still being written by a live copy that
	 * holds its lock: not deleted, and the restore fails. */
	staged_path(e, "f", id + 1, d, sizeof(d));
	it_pfmt(part, sizeof(part), "%s.part", d);
	it_pfmt(lock, sizeof(lock), "%s.lock", d);
	assert_int_equal(mkdir(part, 0700), 0);
	it_pfmt(path, sizeof(path), "%s/x", part);
	assert_int_equal(it_write_file(path, "half", 4, 0600), 0);
	assert_int_equal(it_write_file(lock, "", 0, 0600), 0);
	holder = fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		execlp("flock", "flock", lock, "sleep", "60", (char *)NULL);
		_exit(127);
	}
	(void)usleep(500000);
	id = restore(e, inc, "path = \"f\"; " IT_WAIVE);
	assert_true(id > 0);
	(void)it_wait_action(e, id, "failed", 60);
	(void)kill(holder, SIGTERM);
	(void)waitpid(holder, NULL, 0);
	assert_true(strstr(it_action_msg(e, id, m, sizeof(m)), "still running") !=
	    NULL);
	it_file_is(path, "half");
	assert_false(exists(d));
}

/* 6: a difference is named when the manifests fit, counted otherwise. */
static void
test_verify_differs(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], d[IT_PATH_MAX], t[IT_PATH_MAX], m[512];
	char		 text[IT_PATH_MAX + 64];
	int64_t		 id;

	it_incident_from(e, inc_time, inc);
	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	(void)it_gpath(e, "tamper", t);
	assert_int_equal(it_sh(e, "m=$(stat -c %Y \"$0/snaps/daily.1\") && "
	    "mkdir -p \"$0/snaps/daily.1/many\" \"$0/data/many\" && "
	    "cd \"$0/snaps/daily.1/many\" && i=0 && while [ $i -lt 5000 ]; "
	    "do printf '%s' $i > "
	    "\"file-with-a-rather-long-name-to-fill-the-manifest-$i.txt\"; "
	    "i=$((i + 1)); done && touch -d @$m \"$0/snaps/daily.1\"", d,
	    NULL), 0);
	/* Small: the first difference is named. */
	it_pfmt(text, sizeof(text), "%s/data/sub f2\n", d);
	assert_int_equal(it_write_file(t, text, strlen(text), 0644), 0);
	id = it_step_for(e, inc, "snapshot.restore", "snap-slow",
	    "path = \"sub\"; " IT_WAIVE, 0, IT_HOST);
	assert_true(id > 0);
	(void)it_wait_action(e, id, "failed", IT_WAIT_S);
	(void)unlink(t);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)),
	    "restored 'f 4 f2' vs snapshot 'f 3 f2'"));
	/* 5,000 files: too large to list, but the difference is found. */
	it_pfmt(text, sizeof(text), "%s/data/many file-with-a-rather-long-"
	    "name-to-fill-the-manifest-7.txt\n", d);
	assert_int_equal(it_write_file(t, text, strlen(text), 0644), 0);
	id = it_step_for(e, inc, "snapshot.restore", "snap-slow",
	    "path = \"many\"; " IT_WAIVE, 0, IT_HOST);
	assert_true(id > 0);
	(void)it_wait_action(e, id, "failed", IT_WAIT_S);
	(void)unlink(t);
	assert_non_null(strstr(it_action_msg(e, id, m, sizeof(m)), "manifests "
	    "differ (5000 files restored, 5000 in the snapshot; too large to "
	    "list the first difference)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_before_caps,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_crash_reconcile,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_symlink_in_snapshot,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_free_space,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_many_files,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_copy_timeout,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_verify_differs,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
