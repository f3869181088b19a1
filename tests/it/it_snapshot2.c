/*
 * it_snapshot2: the snapshot driver's btrfs and restic back ends against
 * a real sshd on loopback (scripts/sshd-start.sh), a real Btrfs file
 * system in a loop-mounted image and a real restic repository, both made
 * here.
 *
 * Group setup writes the original files (one name holds a space and both
 * quotes; sub/big.bin is 1 MiB of random bytes), takes the pre-incident
 * snapshots (btrfs: read-only "pre" and a writable "rw"; restic: one
 * backup), sets the incident time, "ransoms" every file and takes the
 * post-incident snapshots.  Each test starts from the ransomed live tree.
 * cordon reads the restic repository through a read-only bind mount, as
 * it would backups kept out of the ransomware's reach.
 * Shown for each back end: list marks what predates; latest-before-
 * incident picks the pre-incident snapshot; an explicit post-incident one
 * (and a writable btrfs one) is refused; a host not known to be isolated
 * is refused; '..' is refused; staging gives back the original bytes
 * (SHA-256 equal); in_place then undo gives back the ransomed bytes.
 *
 * Btrfs: the loop device and mount are torn down in group teardown, which
 * also runs when setup fails half way; every step records what it made
 * before anything is asserted.  Without /dev/loop-control the btrfs tests
 * are skipped with the reason printed; any other failure to build the
 * file system fails them.
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

#include "../../agent/hash.h"
#include "../../agent/util.h"
#include "fixture.h"
#include "harness.h"

#define IT_SLAPD_PORT	38934
#define IT_SSH_PORT	22280
#define IT_AGENT_USER	"cordon-t-snap2"
#define IT_SUDOERS	"/etc/sudoers.d/cordon-t-snap2"
#define IT_TEXT_MAX	8192
#define IT_WAIT_S	90		/* for an action to settle */
#define IT_FILE1	"a b'c\".txt"
#define IT_FILE1_RB	"a b'c\\\".txt"		/* inside a libconfig string */
#define IT_ORIG1	"original one"
#define IT_RANSOM	"ENCRYPTED by ransomware"
/* These tests are about restoring; it_snapshot3.c proves isolation. */
#define IT_WAIVE	"waive_isolation_reason = \"test host, no network\";"
#define IT_BIG		"sub/big.bin"
#define IT_ID_MAX	72
/* sub/deep/f3: a file one level below what restic ls shows by default. */
#define IT_DEEP_BYTES	"300000"
#define IT_SUB_BYTES	(3 + 1048576 + 300000)	/* files under sub */

enum bt_state { BT_UNTRIED, BT_READY, BT_SKIP, BT_BROKEN };

struct be_case {
	const char	*name;		/* "btrfs" | "restic" */
	const char	*target;
	char		 root[IT_PATH_MAX];
	char		 pre[IT_ID_MAX], post[IT_ID_MAX];
	char		 pre_full[IT_ID_MAX];	/* restic's 64-digit id */
};

static char		 sshd_dir[IT_PATH_MAX], targets[IT_TEXT_MAX];
static char		 bt_dir[IT_PATH_MAX], rs_dir[IT_PATH_MAX];
static char		 bt_loop[64], bt_why[512];
static time_t		 inc_time;
static int		 sshd_up, users_made, bt_made, rs_mounted;
static enum bt_state	 bt = BT_UNTRIED;
static struct be_case	 c_btrfs = { "btrfs", "snap-btrfs", "", "pre",
			     "post", "" };
static struct be_case	 c_restic = { "restic", "snap-restic", "", "",
			     "", "" };

/* DIR/orig and DIR/ransomed: the same names, other bytes. */
static int
files_make(struct it_env *e)
{
	return it_sh(e, "cd \"$0\"; rm -rf orig ransomed; mkdir -p "
	    "orig/sub/deep; printf '" IT_ORIG1 "' > \"orig/$1\"; "
	    "printf two > orig/sub/f2; "
	    "head -c 1048576 /dev/urandom > orig/" IT_BIG "; "
	    "head -c " IT_DEEP_BYTES " /dev/urandom > orig/sub/deep/f3; "
	    "cp -a orig ransomed; for f in \"ransomed/$1\" ransomed/sub/f2; "
	    "do printf '" IT_RANSOM "' > \"$f\"; done; "
	    "head -c 1048576 /dev/urandom > ransomed/" IT_BIG,
	    e->dir, IT_FILE1);
}

/*
 * Btrfs, before the incident: image, loop device, file system, subvolume
 * data holding the originals, read-only snapshot pre, writable rw.
 * bt_made and bt_loop are set before each step can fail.
 */
static void
btrfs_pre(struct it_env *e)
{
	char	*nl;

	if (access("/dev/loop-control", F_OK) != 0) {
		bt = BT_SKIP;
		it_pfmt(bt_why, sizeof(bt_why), "no /dev/loop-control: %s",
		    strerror(errno));
		(void)fprintf(stderr, "it_snapshot2: btrfs tests skipped: "
		    "%s\n", bt_why);
		return;
	}
	bt = BT_BROKEN;
	bt_made = 1;
	if (it_sh(e, "mkdir -p \"$0/mnt\"; truncate -s 300M \"$0/img\"",
	    bt_dir, NULL) != 0) {
		it_pfmt(bt_why, sizeof(bt_why), "cannot make the image");
		return;
	}
	if (it_sh(e, "losetup --find --show \"$0/img\"", bt_dir, NULL) != 0) {
		it_pfmt(bt_why, sizeof(bt_why), "losetup --find: %.400s", e->err);
		return;
	}
	it_pfmt(bt_loop, sizeof(bt_loop), "%s", e->out);
	if ((nl = strchr(bt_loop, '\n')) != NULL)
		*nl = '\0';
	if (strncmp(bt_loop, "/dev/loop", 9) != 0) {
		it_pfmt(bt_why, sizeof(bt_why), "losetup printed '%s'", bt_loop);
		bt_loop[0] = '\0';
		return;
	}
	if (it_sh(e, "mkfs.btrfs -q \"$1\"; mount \"$1\" \"$0/mnt\"; "
	    "btrfs -q subvolume create \"$0/mnt/data\"; "
	    "mkdir \"$0/mnt/snaps\"; cp -a \"$0/../orig/.\" \"$0/mnt/data/\"; "
	    "btrfs -q subvolume snapshot -r \"$0/mnt/data\" "
	    "\"$0/mnt/snaps/pre\"; btrfs -q subvolume snapshot "
	    "\"$0/mnt/data\" \"$0/mnt/snaps/rw\"", bt_dir, bt_loop) != 0) {
		it_pfmt(bt_why, sizeof(bt_why), "building the file system on "
		    "%s: %.400s", bt_loop, e->err);
		return;
	}
	bt = BT_READY;
}

static void
btrfs_post(struct it_env *e)
{
	if (bt != BT_READY)
		return;
	if (it_sh(e, "find \"$0/mnt/data\" -mindepth 1 -delete; cp -a "
	    "\"$0/../ransomed/.\" \"$0/mnt/data/\"; btrfs -q subvolume "
	    "snapshot -r \"$0/mnt/data\" \"$0/mnt/snaps/post\"", bt_dir,
	    NULL) != 0) {
		bt = BT_BROKEN;
		it_pfmt(bt_why, sizeof(bt_why), "post snapshot: %.400s", e->err);
	}
}

/* Unmounts and detaches whatever btrfs_pre made; 0 or -1. */
static int
btrfs_down(struct it_env *e)
{
	if (!bt_made)
		return 0;
	if (it_sh(e, "if mountpoint -q \"$0/mnt\"; then umount \"$0/mnt\" || "
	    "umount -l \"$0/mnt\"; fi; "
	    "if [ -n \"$1\" ] && losetup \"$1\" >/dev/null 2>&1; then "
	    "losetup -d \"$1\"; fi; "
	    "for l in $(losetup -n -O NAME -j \"$0/img\"); do "
	    "losetup -d \"$l\"; done; "
	    "i=0; while losetup -n -O NAME -j \"$0/img\" | grep -q .; do "
	    "i=$((i + 1)); [ $i -le 300 ] || break; sleep 0.1; done; "
	    /* A mount namespace made elsewhere while the file system was
	     * mounted keeps its own copy of the mount, and with it the loop
	     * device; `losetup -d` then only sets autoclear, and the kernel
	     * frees the device when that namespace goes.  Anything else
	     * still attached is a leak. */
	    "if losetup -n -O NAME -j \"$0/img\" | grep -q .; then "
	    "if losetup -n -O AUTOCLEAR -j \"$0/img\" | "
	    "grep -qvx '[[:space:]]*1[[:space:]]*'; then exit 1; fi; "
	    "echo 'it_snapshot2: loop device still in use elsewhere; "
	    "autoclear set' >&2; fi",
	    bt_dir,
	    bt_loop) != 0) {
		(void)fprintf(stderr, "it_snapshot2: btrfs teardown failed "
		    "(loop %s, image %s/img)\n", bt_loop, bt_dir);
		return -1;
	}
	bt_made = 0;
	return 0;
}

static int
restic_pre(struct it_env *e)
{
	return it_sh(e, "cd \"$0\"; echo 'it-restic-pw' > pw; chmod 600 pw; "
	    "restic -q --no-cache -r \"$0/repo\" --password-file pw init; "
	    "cp -a ../orig data; "
	    "restic -q --no-cache -r \"$0/repo\" --password-file pw backup "
	    "--host it \"$0/data\"", rs_dir, NULL);
}

/* The second backup, then both short ids, oldest first. */
static int
restic_post(struct it_env *e)
{
	json_t		*j;
	json_error_t	 je;
	const char	*a, *b, *f;
	int		 r = -1;

	if (it_sh(e, "cd \"$0\"; rm -rf data; cp -a ../ransomed data; "
	    "restic -q --no-cache -r \"$0/repo\" --password-file pw backup "
	    "--host it \"$0/data\"; "
	    "restic --no-cache -r \"$0/repo\" --password-file pw snapshots "
	    "--json", rs_dir, NULL) != 0)
		return -1;
	if ((j = json_loads(e->out, 0, &je)) == NULL ||
	    json_array_size(j) != 2 ||
	    (a = json_string_value(json_object_get(json_array_get(j, 0),
	    "short_id"))) == NULL ||
	    (b = json_string_value(json_object_get(json_array_get(j, 1),
	    "short_id"))) == NULL ||
	    (f = json_string_value(json_object_get(json_array_get(j, 0),
	    "id"))) == NULL || strlen(f) != 64)
		(void)fprintf(stderr, "restic snapshots: %s\n", e->out);
	else {
		it_pfmt(c_restic.pre, sizeof(c_restic.pre), "%s", a);
		it_pfmt(c_restic.post, sizeof(c_restic.post), "%s", b);
		it_pfmt(c_restic.pre_full, sizeof(c_restic.pre_full), "%s", f);
		r = 0;
	}
	json_decref(j);
	if (r != 0)
		return r;
	/* cordon reads the repository through a read-only bind mount. */
	rs_mounted = 1;
	return it_sh(e, "mkdir \"$0/ro\"; mount --bind -o ro \"$0/repo\" "
	    "\"$0/ro\"; if touch \"$0/ro/locks/x\" 2>/dev/null; then "
	    "echo 'the bind mount is writable' >&2; exit 1; fi", rs_dir,
	    NULL);
}

static int
restic_down(struct it_env *e)
{
	if (!rs_mounted)
		return 0;
	if (it_sh(e, "if mountpoint -q \"$0/ro\"; then umount \"$0/ro\" || "
	    "umount -l \"$0/ro\"; fi", rs_dir, NULL) != 0)
		return -1;
	rs_mounted = 0;
	return 0;
}

static int	group_teardown(void **);

static int
group_setup_in(void **state)
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
	it_pfmt(bt_dir, sizeof(bt_dir), "%s/bt", e->dir);
	it_pfmt(rs_dir, sizeof(rs_dir), "%s/rs", e->dir);
	it_pfmt(c_btrfs.root, sizeof(c_btrfs.root), "%s/mnt/data", bt_dir);
	it_pfmt(c_restic.root, sizeof(c_restic.root), "%s/data", rs_dir);
	sshd_up = 1;
	if (it_sshd_start(e, sshd_dir, IT_SSH_PORT) != 0)
		return -1;
	users_made = 1;
	if (it_login_user(e, IT_AGENT_USER, NULL, IT_SUDOERS, sudoers,
	    it_gpath(e, "agent_key", key)) != 0)
		return -1;
	/* The stores: pre snapshots, the incident, ransom, post. */
	if (files_make(e) != 0 || it_sh(e, "mkdir -p \"$0\" \"$1\"", bt_dir,
	    rs_dir) != 0)
		return -1;
	btrfs_pre(e);
	if (restic_pre(e) != 0)
		return -1;
	it_nap_ms(1100);
	inc_time = time(NULL);
	it_nap_ms(1100);
	btrfs_post(e);
	if (restic_post(e) != 0)
		return -1;
	n = snprintf(targets, sizeof(targets),
	    "{ name = \"snap-btrfs\"; type = \"snapshot\"; backend = "
	    "\"btrfs\"; host = \"127.0.0.1\"; port = %d; user = \""
	    IT_AGENT_USER "\"; key_file = \"%s\"; known_hosts = "
	    "\"%s/known_hosts\"; timeout = 60; root = \"%s\"; "
	    "snapshots_dir = \"%s/mnt/snaps\"; },\n"
	    "{ name = \"snap-restic\"; type = \"snapshot\"; backend = "
	    "\"restic\"; host = \"127.0.0.1\"; port = %d; user = \""
	    IT_AGENT_USER "\"; key_file = \"%s\"; known_hosts = "
	    "\"%s/known_hosts\"; timeout = 60; root = \"%s\"; "
	    "repository = \"%s/ro\"; restic_password_file = \"%s/pw\"; }",
	    IT_SSH_PORT, key, sshd_dir, c_btrfs.root, bt_dir, IT_SSH_PORT,
	    key, sshd_dir, c_restic.root, rs_dir, rs_dir);
	return n < 0 || (size_t)n >= sizeof(targets) ? -1 : 0;
}

/* cmocka does not run the group teardown when setup fails: do it here. */
static int
group_setup(void **state)
{
	if (group_setup_in(state) == 0)
		return 0;
	(void)group_teardown(state);
	return -1;
}

static int
group_teardown(void **state)
{
	static const char *const users[] = { IT_AGENT_USER, NULL };
	struct it_env	*e = *state;
	int		 r = 0;

	if (e == NULL)
		return 0;
	if (btrfs_down(e) != 0)
		r = -1;
	if (restic_down(e) != 0)
		r = -1;
	if (it_sshd_group_teardown(state, sshd_up ? sshd_dir : NULL,
	    users_made ? users : NULL, IT_SUDOERS) != 0)
		r = -1;
	sshd_up = users_made = 0;
	return r;
}

/* Both live trees back to the ransomed state, staging copies gone. */
static int
test_setup(void **state)
{
	struct it_env	*e = *state;
	struct it_conf	 c = { .targets_extra = targets };

	char		 src[IT_PATH_MAX];

	it_pfmt(src, sizeof(src), "%s/ransomed", e->dir);
	if (bt == BT_READY && it_sh(e, "find \"$0\" -mindepth 1 -delete; "
	    "cp -a \"$1/.\" \"$0/\"", c_btrfs.root, src) != 0)
		return -1;
	if (it_sh(e, "rm -rf \"$0\"; cp -a \"$1\" \"$0\"", c_restic.root,
	    src) != 0)
		return -1;
	return it_test_setup(e, &c);
}

static int
test_teardown(void **state)
{
	return it_test_teardown(*state);
}

/* Skips (no loop support) or fails (broken) unless btrfs is ready. */
static void
need(const struct be_case *k)
{
	if (k != &c_btrfs || bt == BT_READY)
		return;
	if (bt == BT_SKIP) {
		(void)fprintf(stderr, "skipped: %s\n", bt_why);
		skip();
	}
	fail_msg("btrfs is unusable here: %s", bt_why);
}

/* Fails unless the action failed with a message holding needle. */
static void
failed_with(struct it_env *e, int64_t id, const char *needle)
{
	char	m[512];

	assert_true(id > 0);
	it_wait_state(e, id, "failed", IT_WAIT_S);
	if (strstr(it_action_msg(e, id, m, sizeof(m)), needle) == NULL)
		fail_msg("A%lld failed with '%s', want '%s'", (long long)id,
		    m, needle);
}

/* SHA-256 of the file at path, or fails the test. */
static void
sha_of(const char *path, char out[HASH_HEX_LEN + 1])
{
	char	*t;
	size_t	 n;

	if (it_read_file(path, &t, &n) != 0)
		fail_msg("cannot read '%s'", path);
	sha256_hex(t, n, out);
	free(t);
}

/* ROOT/rel has the same SHA-256 as DIR/from/want_rel. */
static void
same_sha(struct it_env *e, const struct be_case *k, const char *rel,
    const char *from, const char *want_rel)
{
	char	p[IT_PATH_MAX], q[IT_PATH_MAX];
	char	hp[HASH_HEX_LEN + 1], hq[HASH_HEX_LEN + 1];

	it_pfmt(p, sizeof(p), "%s/%s", k->root, rel);
	it_pfmt(q, sizeof(q), "%s/%s/%s", e->dir, from, want_rel);
	sha_of(p, hp);
	sha_of(q, hq);
	if (strcmp(hp, hq) != 0)
		fail_msg("%s: '%s' sha256 %s, '%s' has %s", k->name, p, hp, q,
		    hq);
}

static int64_t
undo(struct it_env *e, int64_t id, int approve)
{
	char		 ref[32];
	const char	*p;
	long long	 uid = 0;

	it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
	if (it_cordon(e, IT_OP, "undo", ref, NULL) != 0)
		fail_msg("undo: %s", e->err);
	assert_non_null(p = strstr(e->out, "queued as A"));
	assert_int_equal(sscanf(p, "queued as A%lld", &uid), 1);
	if (approve) {
		it_pfmt(ref, sizeof(ref), "A%lld", uid);
		(void)it_cordon(e, IT_LEAD, "approve", ref, NULL);
	}
	it_wait_state(e, uid, "succeeded", IT_WAIT_S);
	return uid;
}

/* snapshot.list marks exactly the pre-incident snapshots. */
static void
t_list(struct it_env *e, const struct be_case *k, const char *inc)
{
	json_t		*a, *s, *x;
	size_t		 i, npre = 0, npost = 0;
	int64_t		 id;

	id = it_step(e, inc, "snapshot.list", k->target, "", 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_non_null(a);
	s = json_object_get(json_object_get(a, "before"), "snapshots");
	assert_int_equal(json_array_size(s), k == &c_btrfs ? 3 : 2);
	json_array_foreach(s, i, x) {
		const char *sid = json_string_value(json_object_get(x, "id"));

		assert_non_null(sid);
		if (strcmp(sid, k->pre) == 0 || strcmp(sid, "rw") == 0) {
			assert_true(json_is_true(json_object_get(x,
			    "predates")));
			npre++;
		} else if (strcmp(sid, k->post) == 0) {
			assert_true(json_is_false(json_object_get(x,
			    "predates")));
			npost++;
		} else
			fail_msg("unexpected snapshot '%s'", sid);
		if (k == &c_btrfs)
			assert_true(json_boolean_value(json_object_get(x,
			    "readonly")) == (strcmp(sid, "rw") != 0));
	}
	assert_int_equal(npost, 1);
	assert_int_equal(npre, k == &c_btrfs ? 2 : 1);
	json_decref(a);
}

static void
file_is(const struct be_case *k, const char *rel, const char *want)
{
	char	p[IT_PATH_MAX], *t;
	size_t	n;

	it_pfmt(p, sizeof(p), "%s/%s", k->root, rel);
	if (it_read_file(p, &t, &n) != 0)
		fail_msg("cannot read '%s'", p);
	if (n != strlen(want) || memcmp(t, want, n) != 0)
		fail_msg("'%s' holds '%s', want '%s'", p, t, want);
	free(t);
}

static void
t_list_refusals(struct it_env *e, const struct be_case *k)
{
	char	inc[32], args[512];
	int64_t	id;

	need(k);
	it_incident_from(e, inc_time, inc);
	t_list(e, k, inc);
	/* The post-incident snapshot, by id. */
	it_pfmt(args, sizeof(args), "path = \"" IT_FILE1_RB "\"; snapshot = "
	    "\"%s\"; " IT_WAIVE, k->post);
	failed_with(e, it_step(e, inc, "snapshot.restore", k->target, args, 0),
	    "not before the incident");
	if (k == &c_btrfs)
		failed_with(e, it_step(e, inc, "snapshot.restore", k->target,
		    "path = \"sub\"; snapshot = \"rw\"; " IT_WAIVE,
		    0), "writable");
	else
		failed_with(e, it_step(e, inc, "snapshot.restore", k->target,
		    "path = \"sub/*\"; " IT_WAIVE, 0), "pattern");
	failed_with(e, it_step(e, inc, "snapshot.restore", k->target,
	    "path = \"nothere\"; " IT_WAIVE, 0), "not in snapshot");
	/* Not isolated and no waiver: the run is refused. */
	assert_int_equal(it_step(e, inc, "snapshot.restore", k->target,
	    "path = \"" IT_FILE1_RB "\";", 0), 0);
	assert_int_equal(e->status, 3);
	assert_non_null(strstr(e->err, "is not isolated"));
	/* Escapes. */
	failed_with(e, it_step(e, inc, "snapshot.restore", k->target,
	    "path = \"sub/../../../../etc/passwd\"; " IT_WAIVE, 0),
	    "'..'");
	failed_with(e, it_step(e, inc, "snapshot.restore", k->target,
	    "path = \"..\"; " IT_WAIVE, 0), "'..'");
	id = it_step(e, inc, "snapshot.restore", k->target,
	    "path = \"/etc/passwd\"; " IT_WAIVE, 0);
	failed_with(e, id, "relative path");
	/* A symlink planted in the live tree leads nowhere. */
	assert_int_equal(it_sh(e, "ln -s /etc \"$0/link\"", k->root, NULL), 0);
	failed_with(e, it_step(e, inc, "snapshot.restore", k->target,
	    "path = \"link/passwd\"; " IT_WAIVE, 0), "symlink");
	assert_int_equal(it_sh(e, "rm -f \"$0/link\"", k->root, NULL), 0);
	file_is(k, IT_FILE1, IT_RANSOM);
	same_sha(e, k, IT_BIG, "ransomed", IT_BIG);
}

static void
t_staging(struct it_env *e, const struct be_case *k)
{
	char		 inc[32], rel[IT_PATH_MAX];
	int64_t		 id;
	json_int_t	 nb;
	json_t		*a;

	need(k);
	it_incident_from(e, inc_time, inc);
	id = it_step(e, inc, "snapshot.restore", k->target, "path = \""
	    IT_FILE1_RB "\"; waive_isolation_reason = \"lab host, no "
	    "network\";", 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "snapshot")), k->pre);
	assert_true(json_is_true(json_object_get(json_object_get(a,
	    "observed"), "equal")));
	json_decref(a);
	it_pfmt(rel, sizeof(rel), IT_FILE1 ".cordon-restore-A%lld",
	    (long long)id);
	file_is(k, rel, IT_ORIG1);
	same_sha(e, k, rel, "orig", IT_FILE1);
	file_is(k, IT_FILE1, IT_RANSOM);
	/* A directory, staged whole, from the snapshot named by id (restic:
	 * the full 64-digit one). */
	it_pfmt(rel, sizeof(rel), "path = \"./sub/\"; snapshot = \"%s\"; "
	    IT_WAIVE, k->pre_full[0] ? k->pre_full : k->pre);
	id = it_step(e, inc, "snapshot.restore", k->target, rel, 0);
	assert_true(id > 0);
	it_wait_state(e, id, "succeeded", IT_WAIT_S);
	a = it_action(e, id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    a, "before"), "snapshot")), k->pre);
	/* restic sizes are file bytes: exactly the tree, subfolders too;
	 * file systems add their directories' sizes. */
	if (k->pre_full[0])
		assert_int_equal(json_integer_value(json_object_get(
		    json_object_get(a, "before"), "restore_bytes")),
		    IT_SUB_BYTES);
	else
		assert_true(json_integer_value(json_object_get(json_object_get(
		    a, "before"), "restore_bytes")) >= IT_SUB_BYTES);
	/* One copy (restic: and verify's second one), 5 % margin. */
	nb = json_integer_value(json_object_get(json_object_get(a, "before"),
	    "restore_bytes")) * (k->pre_full[0] ? 2 : 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    a, "before"), "space_needed")), nb + nb * 5 / 100);
	json_decref(a);
	it_pfmt(rel, sizeof(rel), "sub.cordon-restore-A%lld/f2", (long long)id);
	file_is(k, rel, "two");
	it_pfmt(rel, sizeof(rel), "sub.cordon-restore-A%lld/big.bin",
	    (long long)id);
	same_sha(e, k, rel, "orig", IT_BIG);
	same_sha(e, k, IT_BIG, "ransomed", IT_BIG);
	/* Undo removes the staging copy. */
	(void)undo(e, id, 0);
	it_pfmt(rel, sizeof(rel), "%s/sub.cordon-restore-A%lld", k->root,
	    (long long)id);
	assert_int_not_equal(access(rel, F_OK), 0);
}

static void
t_in_place_undo(struct it_env *e, const struct be_case *k)
{
	static const char *const paths[] = { "sub", IT_FILE1_RB };
	char		 inc[32], ref[32], args[256], p[IT_PATH_MAX];
	int64_t		 id;
	size_t		 i;

	need(k);
	it_incident_from(e, inc_time, inc);
	for (i = 0; i < 2; i++) {
		it_pfmt(args, sizeof(args), "path = \"%s\"; mode = \"in_place\"; "
		    IT_WAIVE, paths[i]);
		id = it_step(e, inc, "snapshot.restore", k->target, args, 1);
		assert_true(id > 0);
		it_pfmt(ref, sizeof(ref), "A%lld", (long long)id);
		if (it_cordon(e, IT_LEAD, "approve", ref, NULL) != 0)
			fail_msg("approve: %s", e->err);
		it_wait_state(e, id, "succeeded", IT_WAIT_S);
		if (i == 0) {
			file_is(k, "sub/f2", "two");
			same_sha(e, k, IT_BIG, "orig", IT_BIG);
		} else {
			file_is(k, IT_FILE1, IT_ORIG1);
			same_sha(e, k, IT_FILE1, "orig", IT_FILE1);
		}
		(void)undo(e, id, 1);
		if (i == 0) {
			file_is(k, "sub/f2", IT_RANSOM);
			same_sha(e, k, IT_BIG, "ransomed", IT_BIG);
		} else
			file_is(k, IT_FILE1, IT_RANSOM);
		it_pfmt(p, sizeof(p), "%s/%s.cordon-pre-A%lld", k->root,
		    i == 0 ? "sub" : IT_FILE1, (long long)id);
		assert_int_not_equal(access(p, F_OK), 0);
		/* Exactly the ransomed tree: same bytes, nothing left over. */
		it_pfmt(p, sizeof(p), "%s/ransomed", e->dir);
		if (it_sh(e, "diff -r -- \"$1\" \"$0\"", k->root, p) != 0)
			fail_msg("%s: live tree is not the ransomed one after "
			    "undo: %s", k->name, e->out);
	}
}

static void
test_btrfs_list_refusals(void **state)
{
	t_list_refusals(*state, &c_btrfs);
}

static void
test_btrfs_staging(void **state)
{
	t_staging(*state, &c_btrfs);
}

static void
test_btrfs_in_place_undo(void **state)
{
	t_in_place_undo(*state, &c_btrfs);
}

static void
test_restic_list_refusals(void **state)
{
	t_list_refusals(*state, &c_restic);
}

static void
test_restic_staging(void **state)
{
	t_staging(*state, &c_restic);
}

static void
test_restic_in_place_undo(void **state)
{
	t_in_place_undo(*state, &c_restic);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_btrfs_list_refusals),
		T(test_btrfs_staging),
		T(test_btrfs_in_place_undo),
		T(test_restic_list_refusals),
		T(test_restic_staging),
		T(test_restic_in_place_undo),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
