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
#include <sqlite3.h>

#include "../../agent/util.h"
#include "harness.h"

#define IT_SLAPD_PORT	38993
#define IT_FAKE_PORT	22313	/* not assigned: next to sshd port */
#define IT_SSH_PORT	22310
#define IT_AGENT_USER	"cordon-t-sn4"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-sn4"
#define IT_TEXT_MAX	8192
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

static void
nap(void)
{
	struct timespec	ts = { 1, 100000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

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
	nap();
	inc_time = time(NULL);
	nap();
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

static const char *
py3(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
	    "python3";
}

static int
fake_start(struct it_env *e)
{
	char	kf[IT_PATH_MAX], sf[IT_PATH_MAX], rdy[IT_PATH_MAX];
	char	script[IT_PATH_MAX], port[16];
	int	i;

	it_pfmt(fake_dir, sizeof(fake_dir), "%s/fake", e->dir);
	it_pfmt(kf, sizeof(kf), "%s/fw.key", e->dir);
	it_pfmt(sf, sizeof(sf), "%s/fw.secret", e->dir);
	it_pfmt(rdy, sizeof(rdy), "%s/fake.ready", fake_dir);
	it_pfmt(script, sizeof(script), "%s/../tests/it/fake_vendors.py",
	    e->scripts);
	it_pfmt(port, sizeof(port), "%d", IT_FAKE_PORT);
	if (mkdir(fake_dir, 0755) != 0 ||
	    it_write_file(kf, "id\n", 3, 0600) != 0 ||
	    it_write_file(sf, IT_FW_SECRET "\n", strlen(IT_FW_SECRET) + 1,
	    0600) != 0)
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
	char		 key[IT_PATH_MAX], port[16], script[IT_PATH_MAX];
	char		 prov[IT_PATH_MAX], key2[IT_PATH_MAX], wrap[IT_PATH_MAX];
	static const char sudoers[] = IT_AGENT_USER
	    " ALL=(ALL) NOPASSWD: ALL\n";
	int		 n;

	if (it_group_setup(state, IT_SLAPD_PORT) != 0)
		return -1;
	e = *state;
	if (fake_start(e) != 0)
		return -1;
	it_pfmt(sshd_dir, sizeof(sshd_dir), "%s/sshd", e->dir);
	it_pfmt(port, sizeof(port), "%d", IT_SSH_PORT);
	it_pfmt(script, sizeof(script), "%s/sshd-start.sh", e->scripts);
	it_pfmt(prov, sizeof(prov), "%s/../config/providers", e->scripts);
	sshd_up = 1;
	{
		const char *argv[] = { script, sshd_dir, port, NULL };

		if (it_runv(e, IT_ROOT, NULL, argv, 30) != 0) {
			(void)fprintf(stderr, "sshd-start: %s\n", e->err);
			return -1;
		}
	}
	users_made = 1;
	if (getpwnam(IT_AGENT_USER) == NULL &&
	    it_sh(e, "useradd -m -s /bin/sh \"$0\"", IT_AGENT_USER, NULL) != 0)
		return -1;
	if (it_write_file(IT_SUDOERS, sudoers, strlen(sudoers), 0440) != 0)
		return -1;
	(void)it_gpath(e, "agent_key", key);
	(void)it_gpath(e, "agent_key2", key2);
	(void)it_gpath(e, "slow.sh", wrap);
	(void)unlink(key);
	(void)unlink(key2);
	if (it_write_file(wrap, slow_sh, strlen(slow_sh), 0755) != 0 ||
	    it_sh(e, "ssh-keygen -q -t ed25519 -N '' -C cordon-it -f \"$0\"",
	    key, NULL) != 0 || it_sh(e, "ssh-keygen -q -t ed25519 -N '' -C "
	    "cordon-it -f \"$0\"", key2, NULL) != 0 ||
	    it_sh(e, "h=$(getent passwd \"$0\" | cut -d: "
	    "-f6); install -d -m 700 -o \"$0\" \"$h/.ssh\"; install -m 600 "
	    "-o \"$0\" \"$1.pub\" \"$h/.ssh/authorized_keys\"",
	    IT_AGENT_USER, key) != 0)
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
	struct it_env	*e = *state;
	char		 script[IT_PATH_MAX];
	int		 r = 0;

	fake_stop();
	if (e == NULL)
		return 0;
	if (sshd_up) {
		const char *argv[] = { script, sshd_dir, NULL };

		it_pfmt(script, sizeof(script), "%s/sshd-stop.sh", e->scripts);
		if (it_runv(e, IT_ROOT, NULL, argv, 30) != 0)
			r = -1;
	}
	if (users_made) {
		if (getpwnam(IT_AGENT_USER) != NULL)
			(void)it_sh(e, "userdel -f -r \"$0\" 2>/dev/null || true",
			    IT_AGENT_USER, NULL);
		(void)unlink(IT_SUDOERS);
	}
	if (it_group_teardown(state) != 0)
		r = -1;
	return r;
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

/*
 * Runs a runbook of the given steps (each with foreach = "${accounts}")
 * with accounts = IT_HOST.  Returns the exit code; ids gets the queued
 * action ids in step order.
 */
static int
run(struct it_env *e, const char *inc, const char *steps, int64_t ids[4],
    size_t *n)
{
	char	rb[IT_PATH_MAX], text[4096];
	int	r;

	it_pfmt(text, sizeof(text),
	    "name = \"it-snap4\";\n"
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

#define ISOLATE_STEP \
	"{ name = \"isolate\"; verb = \"firewall.isolate_host\"; " \
	"target = \"fw-hook\"; foreach = \"${accounts}\"; " \
	"args = { host = \"${item}\"; reason = \"it\"; }; " \
	"approval = \"none\"; on_failure = \"continue\"; }"
#define VERB_STEP(verb, target, args) \
	"{ name = \"s\"; verb = \"" verb "\"; " \
	"target = \"" target "\"; foreach = \"${accounts}\"; " \
	"args = { " args " }; " \
	"approval = \"none\"; on_failure = \"continue\"; }"
#define RESTORE_STEP(args) VERB_STEP("snapshot.restore", "snap-dir", args)

/* One step; its action id, 0 when the run was refused (e->err says). */
static int64_t
one(struct it_env *e, const char *inc, const char *steps)
{
	int64_t	ids[4];
	size_t	n;
	int	r = run(e, inc, steps, ids, &n);

	if (r == 3)
		return 0;
	if (n != 1)
		fail_msg("run queued %zu actions: %s%s", n, e->out, e->err);
	return ids[0];
}

static void
wait_state(struct it_env *e, int64_t id, const char *want)
{
	json_t	*a;
	char	*d;

	if (it_wait_action(e, id, want, 120) == 0)
		return;
	a = it_action(e, id);
	d = a ? json_dumps(a, JSON_COMPACT) : NULL;
	fail_msg("A%lld is not %s: %s", (long long)id, want, d ? d : "?");
}

static const char *
msg_of(struct it_env *e, int64_t id, char *buf, size_t len)
{
	json_t	*a = it_action(e, id);

	it_pfmt(buf, len, "%s", a ? json_string_value(json_object_get(a,
	    "message")) ? json_string_value(json_object_get(a, "message")) :
	    "" : "?");
	json_decref(a);
	return buf;
}

/* An incident whose occurred_from is inc_time. */
static void
incident(struct it_env *e, char inc[32])
{
	char	ts[32], set[64];

	assert_int_equal(it_incident_open(e, inc), 0);
	fmt_time(inc_time, ts);
	it_pfmt(set, sizeof(set), "occurred_from=%s", ts);
	if (it_cordon(e, IT_OP, "incident", "update", inc, "--set", set,
	    NULL) != 0)
		fail_msg("incident update: %s", e->err);
}

static void
file_is(const char *p, const char *want)
{
	char	*t;
	size_t	 n;

	if (it_read_file(p, &t, &n) != 0)
		fail_msg("cannot read '%s'", p);
	if (n != strlen(want) || memcmp(t, want, n) != 0)
		fail_msg("'%s' holds '%.*s', want '%s'", p, (int)n, t, want);
	free(t);
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

	incident(e, inc);
	fmt_time(inc_time + 3600, late);
	fmt_time(inc_time - 5, early);
	/* A later 'before' would make daily.0 (after the incident) look
	 * safe: refused, for the latest and for daily.0 by name. */
	it_pfmt(args, sizeof(args), "path = \"f\"; before = \"%s\"; "
	    IT_WAIVE, late);
	{
		char steps[1024];

		it_pfmt(steps, sizeof(steps), RESTORE_STEP("%s"), args);
		assert_int_equal(one(e, inc, steps), 0);
		assert_int_equal(e->status, 3);
		assert_true(it_err_has(e, "is later than the incident's "
		    "occurred_from"));
		it_pfmt(args, sizeof(args), "path = \"f\"; snapshot = "
		    "\"daily.0\"; before = \"%s\"; " IT_WAIVE, late);
		it_pfmt(steps, sizeof(steps), RESTORE_STEP("%s"), args);
		assert_int_equal(one(e, inc, steps), 0);
		assert_int_equal(e->status, 3);
		assert_true(it_err_has(e, "is later than the incident's"));
		/* list refuses it too rather than mark daily.0 predating. */
		it_pfmt(args, sizeof(args), "before = \"%s\";", late);
		it_pfmt(steps, sizeof(steps), VERB_STEP("snapshot.list",
		    "snap-dir", "%s"), args);
		assert_int_equal(one(e, inc, steps), 0);
		assert_int_equal(e->status, 3);
		assert_true(it_err_has(e, "is later than the incident's"));
		/* An earlier 'before' is honoured: daily.1 still predates. */
		it_pfmt(args, sizeof(args), "path = \"f\"; before = \"%s\"; "
		    IT_WAIVE, early);
		it_pfmt(steps, sizeof(steps), RESTORE_STEP("%s"), args);
		id = one(e, inc, steps);
	}
	assert_true(id > 0);
	wait_state(e, id, "succeeded");
	a = it_action(e, id);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "snapshot")), "daily.1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "time_from")), "before");
	json_decref(a);
	staged_path(e, "f", id, args, sizeof(args));
	file_is(args, IT_ORIG);
	/* Without 'before', daily.0 by name is refused as ever. */
	id = one(e, inc, RESTORE_STEP("path = \"f\"; snapshot = \"daily.0\"; "
	    IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "failed");
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)),
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

	incident(e, inc);
	iso = one(e, inc, ISOLATE_STEP);
	assert_true(iso > 0);
	wait_state(e, iso, "succeeded");
	rs1 = one(e, inc, RESTORE_STEP("path = \"f\";"));
	assert_true(rs1 > 0);
	wait_state(e, rs1, "succeeded");
	rs2 = one(e, inc, RESTORE_STEP("path = \"sub\";"));
	assert_true(rs2 > 0);
	wait_state(e, rs2, "succeeded");
	staged_path(e, "f", rs1, p1, sizeof(p1));
	staged_path(e, "sub", rs2, p2, sizeof(p2));
	file_is(p1, IT_ORIG);
	assert_int_equal(lstat(p1, &st0), 0);
	/* rs2's copy is gone, as if the crash came before it was made. */
	assert_int_equal(it_rm_rf(p2), 0);
	/* The isolation undone meanwhile. */
	wait_state(e, undo(e, iso), "succeeded");
	wait_state(e, iso, "undone");
	assert_int_equal(it_agent_stop(e), 0);
	set_state(e, rs1, "running");
	set_state(e, rs2, "running");
	{
		char d[IT_PATH_MAX];

		it_pfmt(d, sizeof(d), "%s/dir/data", e->dir);
		assert_int_equal(lstat(d, &sf0), 0);
	}
	nap();
	assert_int_equal(it_agent_start(e, 0), 0);
	/* The copy exists: the restore happened; verify proves it. */
	wait_state(e, rs1, "succeeded");
	assert_true(it_journal_count(e, "interrupted", rs1) >= 1);
	assert_true(it_journal_count(e, "reconciled", rs1) >= 1);
	file_is(p1, IT_ORIG);
	assert_int_equal(lstat(p1, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino);
	assert_int_equal(st0.st_mtime, st1.st_mtime);
	assert_int_equal(st0.st_ctime, st1.st_ctime);
	/* No copy and no isolation: check fails it, nothing is written. */
	wait_state(e, rs2, "failed");
	assert_true(it_journal_count(e, "reconciled", rs2) >= 1);
	assert_non_null(strstr(msg_of(e, rs2, m, sizeof(m)),
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

	incident(e, inc);
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
	id = one(e, inc, RESTORE_STEP("path = \"lk/passwd\"; " IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "failed");
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)), "symlink"));
	nothing_staged(e, "passwd");
	/* The path itself is one. */
	id = one(e, inc, RESTORE_STEP("path = \"lf\"; " IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "failed");
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)), "symlink"));
	nothing_staged(e, "lf");
	/* The whole snapshot is one: not a snapshot at all. */
	id = one(e, inc, RESTORE_STEP("path = \"lf\"; snapshot = \"evil\"; "
	    IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "failed");
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)),
	    "no snapshot 'evil'"));
	nothing_staged(e, "lf");
	file_is(strcat(d, "/data/lf"), "y");
}

/* 8: a copy that cannot fit is refused before anything is written. */
static void
test_free_space(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], d[IT_PATH_MAX], m[512];
	int64_t		 id;

	incident(e, inc);
	it_pfmt(d, sizeof(d), "%s/dir", e->dir);
	/* A sparse file in the snapshot twice the size of the free space
	 * beside the live tree (its apparent size is what is copied). */
	assert_int_equal(it_sh(e, "a=$(df -B1 --output=avail -- \"$0/data\" "
	    "| tail -n 1) && m=$(stat -c %Y \"$0/snaps/daily.1\") && "
	    "truncate -s $((a * 2 + 4096)) \"$0/snaps/daily.1/big\" && "
	    "touch -d @$m \"$0/snaps/daily.1\" && : > \"$0/data/big\"", d,
	    NULL), 0);
	id = one(e, inc, RESTORE_STEP("path = \"big\"; " IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "failed");
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)),
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

	incident(e, inc);
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
	id = one(e, inc, RESTORE_STEP("path = \"many\"; " IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "succeeded");
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
	file_is(p, "4999");
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
	incident(e, inc);
	/* A copy of 12 s with timeout = 5: it completes. */
	t0 = time(NULL);
	id = one(e, inc, VERB_STEP("snapshot.restore", "snap-slow",
	    "path = \"f\"; " IT_WAIVE));
	assert_true(id > 0);
	wait_state(e, id, "succeeded");
	assert_true(time(NULL) - t0 >= 12);
	staged_path(e, "f", id, path, sizeof(path));
	file_is(path, IT_ORIG);
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
	id = one(e, inc, RESTORE_STEP("path = \"f\"; " IT_WAIVE));
	assert_true(id > 0);
	(void)it_wait_action(e, id, "failed", 60);
	(void)kill(holder, SIGTERM);
	(void)waitpid(holder, NULL, 0);
	assert_true(strstr(msg_of(e, id, m, sizeof(m)), "still running") !=
	    NULL);
	file_is(path, "half");
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

	incident(e, inc);
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
	id = one(e, inc, VERB_STEP("snapshot.restore", "snap-slow",
	    "path = \"sub\"; " IT_WAIVE));
	assert_true(id > 0);
	(void)it_wait_action(e, id, "failed", 120);
	(void)unlink(t);
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)),
	    "restored 'f 4 f2' vs snapshot 'f 3 f2'"));
	/* 5,000 files: too large to list, but the difference is found. */
	it_pfmt(text, sizeof(text), "%s/data/many file-with-a-rather-long-"
	    "name-to-fill-the-manifest-7.txt\n", d);
	assert_int_equal(it_write_file(t, text, strlen(text), 0644), 0);
	id = one(e, inc, VERB_STEP("snapshot.restore", "snap-slow",
	    "path = \"many\"; " IT_WAIVE));
	assert_true(id > 0);
	(void)it_wait_action(e, id, "failed", 120);
	(void)unlink(t);
	assert_non_null(strstr(msg_of(e, id, m, sizeof(m)), "manifests "
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
