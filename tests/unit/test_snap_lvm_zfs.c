/*
 * test_snap_lvm_zfs: the LVM and ZFS snapshot back ends' commands
 * (actions/snap_lvm.c, actions/snap_zfs.c).
 *
 * This kernel has neither device-mapper nor ZFS, so nothing here touches
 * a real volume.  Checked: the exact list commands and the command lines
 * the agent sends (quoting of spaces, quotes, $(...), ;, backquotes), the
 * name rules, the parsers on output in the real format of `lvs
 * --noheadings --separator '|'` and `zfs list -H -p`, and the fixed
 * scripts run by a real /bin/sh against stand-in lvs/blkid/mount/umount/
 * zfs programs that log their argv and serve a prepared tree: what gets
 * mounted or cloned and how, that it is always unmounted or destroyed,
 * that a clone this run did not make is never destroyed, that rollback is
 * never called, and that symlinks, missing paths and existing
 * destinations are refused.  The script runs need root (they use /run)
 * and a block device node (/dev/loop0, never opened); they are skipped
 * otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../actions/snap.h"

/* Runs with the test dir as working directory: a shell that expanded
 * this would leave a file "cordon-pwned" there. */
#define NASTY		"it's a $(touch cordon-pwned); `id` ; \"q\""
#define NASTY_SH	"'it'\\''s a $(touch cordon-pwned); `id` ; \"q\"'"
#define BLOCKDEV	"/dev/loop0"
#define T_MAX		4096

static char	tdir[256];

static void
tfmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		fail_msg("'%s' does not fit", fmt);
}

static char *
cmdline(const char *const *argv)
{
	struct sconn	c;
	char		*s = NULL;

	memset(&c, 0, sizeof(c));
	c.sudo = 1;
	assert_int_equal(ssh_cmdline(&c, SSH_AS_ROOT, NULL, argv, &s), 0);
	return s;
}

static void
test_names(void **state)
{
	static const char *const bad[] = { "", "-rf", "a b", "a;b", "$(x)",
	    "a'b", ".", "..", "a/b", "a\nb", "a@b" };
	size_t	i;

	(void)state;
	assert_true(snap_lvm_name_ok("vg_data.1+x-y"));
	assert_true(snap_zfs_name_ok("tank/data/home.1:x_y-z", 0));
	assert_true(snap_zfs_name_ok("daily-2026-11-25_06:00", 1));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(snap_lvm_name_ok(bad[i]));
		if (strcmp(bad[i], "a/b") != 0)
			assert_false(snap_zfs_name_ok(bad[i], 0));
		assert_false(snap_zfs_name_ok(bad[i], 1));
	}
	assert_false(snap_zfs_name_ok("tank//data", 0));
	assert_false(snap_zfs_name_ok("tank/", 0));
	assert_false(snap_zfs_name_ok("/tank", 0));
	assert_false(snap_zfs_name_ok("tank/../x", 0));
	assert_false(snap_zfs_name_ok("tank/data@x", 0));
	assert_true(snap_zfs_name_ok("tank/a/b", 0));
}

static void
test_list_commands(void **state)
{
	const char	*argv[16];
	char		*s;

	(void)state;
	snap_lvm_list_argv("vg0", argv);
	s = cmdline(argv);
	assert_string_equal(s, "sudo -n 'lvs' '--noheadings' '--separator' "
	    "'|' '-o' 'lv_name,origin,lv_time,lv_attr' '--' 'vg0'");
	free(s);
	snap_zfs_list_argv("tank/data", argv);
	s = cmdline(argv);
	assert_string_equal(s, "sudo -n 'zfs' 'list' '-H' '-p' '-t' "
	    "'snapshot' '-o' 'name,creation' '-s' 'creation' '-d' '1' '--' "
	    "'tank/data'");
	free(s);
}

/* The whole command line of a fetch, script and all. */
static void
test_fetch_commands(void **state)
{
	const char	*args[5], *argv[10];
	struct snap	 sn;
	char		 dev[256], *s;
	const char	*want;
	size_t		 i;

	(void)state;
	memset(&sn, 0, sizeof(sn));
	(void)snprintf(sn.id, sizeof(sn.id), "snap1");
	assert_int_equal(snap_lvm_args("vg0", &sn, "fetch", NASTY,
	    "/srv/data/" NASTY ".cordon-restore-A7", dev, sizeof(dev), args),
	    0);
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = "SCRIPT";
	argv[3] = "sh";
	for (i = 0; i < 5; i++)
		argv[4 + i] = args[i];
	s = cmdline(argv);
	want = "sudo -n 'sh' '-c' 'SCRIPT' 'sh' 'fetch' '/dev/vg0/snap1' "
	    NASTY_SH " '/srv/data/it'\\''s a $(touch cordon-pwned); "
	    "`id` ; \"q\".cordon-restore-A7'";
	assert_string_equal(s, want);
	free(s);
	(void)snprintf(sn.id, sizeof(sn.id), "daily-1");
	assert_int_equal(snap_zfs_args("tank/data", &sn, "probe", "a b", "",
	    dev, sizeof(dev), args), 0);
	for (i = 0; i < 5; i++)
		argv[4 + i] = args[i];
	s = cmdline(argv);
	assert_string_equal(s, "sudo -n 'sh' '-c' 'SCRIPT' 'sh' 'probe' "
	    "'tank/data@daily-1' 'a b' ''");
	free(s);
	/* Names the parsers would never return are refused here too. */
	(void)snprintf(sn.id, sizeof(sn.id), "-x");
	assert_int_equal(snap_lvm_args("vg0", &sn, "fetch", "a", "/d", dev,
	    sizeof(dev), args), -EINVAL);
	(void)snprintf(sn.id, sizeof(sn.id), "a/b");
	assert_int_equal(snap_zfs_args("tank", &sn, "fetch", "a", "/d", dev,
	    sizeof(dev), args), -EINVAL);
	/* Neither script ever rolls back or merges. */
	assert_null(strstr(snap_zfs_sh, "rollback"));
	assert_null(strstr(snap_lvm_sh, "lvconvert"));
	assert_null(strstr(snap_lvm_sh, "lvremove"));
}

static void
test_parse_lvs(void **state)
{
	/* `lvs --noheadings --separator '|' -o lv_name,origin,lv_time,
	 * lv_attr vg0` as lvm2 2.03 prints it. */
	static const char out[] =
	    "  data||2026-11-01 10:00:00 +0000|-wi-ao----\n"
	    "  home||2026-11-01 10:00:00 +0000|-wi-ao----\n"
	    "  pre|data|2026-11-25 07:00:00 +0100|sri-a-s---\n"
	    "  post|data|2026-11-26 06:00:00 +0000|swi-a-s---\n"
	    "  thin1|data|2026-11-24 06:00:00 +0000|Vri---tz-k\n"
	    "  gone|data|2026-11-23 06:00:00 +0000|Sri-I-s---\n"
	    "  h1|home|2026-11-24 06:00:00 +0000|sri-a-s---\n";
	struct snap	*v = NULL;
	char		 err[200];
	size_t		 n = 0;

	(void)state;
	assert_int_equal(snap_lvm_parse(out, sizeof(out) - 1, "data", &v, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].id, "pre");
	assert_int_equal(v[0].at, 1795586400);
	assert_int_equal(v[0].readonly, 1);
	assert_string_equal(v[1].id, "post");
	assert_int_equal(v[1].readonly, 0);
	assert_string_equal(v[2].id, "thin1");
	assert_int_equal(v[2].readonly, 1);
	free(v);
	v = NULL;
	assert_int_equal(snap_lvm_parse("  x|data|soon|sri-a-s---\n", 25,
	    "data", &v, &n, err, sizeof(err)), -EPROTO);
	assert_int_equal(snap_lvm_parse("  x|data\n", 9, "data", &v, &n, err,
	    sizeof(err)), -EPROTO);
}

static void
test_parse_zfs(void **state)
{
	static const char out[] =
	    "tank/data@daily-1\t1795586400\n"
	    "tank/data@daily-0\t1795672800\n"
	    "tank/data/child@daily-1\t1795586400\n"
	    "tank/database@x\t1795586400\n";
	struct snap	*v = NULL;
	char		 err[200];
	size_t		 n = 0;

	(void)state;
	assert_int_equal(snap_zfs_parse(out, sizeof(out) - 1, "tank/data",
	    &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "daily-1");
	assert_int_equal(v[0].at, 1795586400);
	assert_int_equal(v[0].readonly, 1);
	assert_string_equal(v[1].id, "daily-0");
	free(v);
	v = NULL;
	assert_int_equal(snap_zfs_parse("tank/data@x\tnow\n", 16, "tank/data",
	    &v, &n, err, sizeof(err)), -EPROTO);
	assert_int_equal(snap_zfs_parse("tank/data 12\n", 13, "tank/data",
	    &v, &n, err, sizeof(err)), -EPROTO);
}

/* --- the scripts, run for real against stand-ins --- */

static const char fake_mount[] =
    "#!/bin/sh\n"
    "echo \"mount $*\" >> \"$FAKE_LOG\"\n"
    "for a; do m=$a; done\n"
    "cp -a \"$FAKE_TREE/.\" \"$m/\"\n";
static const char fake_umount[] =
    "#!/bin/sh\n"
    "echo \"umount $*\" >> \"$FAKE_LOG\"\n"
    "for a; do m=$a; done\n"
    "find \"$m\" -mindepth 1 -delete\n";
static const char fake_blkid[] =
    "#!/bin/sh\n"
    "echo \"blkid $*\" >> \"$FAKE_LOG\"\n"
    "echo ext4\n";
static const char fake_zfs[] =
    "#!/bin/sh\n"
    "echo \"zfs $*\" >> \"$FAKE_LOG\"\n"
    "case \"$1\" in\n"
    "clone)\n"
    "  [ -z \"$FAKE_CLONE_FAIL\" ] || { echo 'dataset already exists' >&2;"
    " exit 1; }\n"
    "  m=${5#mountpoint=}\n"
    "  cp -a \"$FAKE_TREE/.\" \"$m/\"; echo \"$m\" > \"$FAKE_LOG.mnt\" ;;\n"
    "destroy) find \"$(cat \"$FAKE_LOG.mnt\")\" -mindepth 1 -delete ;;\n"
    "*) exit 2 ;;\n"
    "esac\n";

static int
put(const char *name, const char *text)
{
	char	p[512];
	int	fd;
	ssize_t	n;

	tfmt(p, sizeof(p), "%s/bin/%s", tdir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0755)) < 0)
		return -1;
	n = write(fd, text, strlen(text));
	return close(fd) == 0 && n == (ssize_t)strlen(text) ? 0 : -1;
}

static int
sh_ok(const char *script, const char *a0)
{
	pid_t	pid;
	int	st;

	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-ec", script, a0, (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
scripts_setup(void **state)
{
	char	tmpl[] = "/tmp/cordon-snapt.XXXXXX";

	(void)state;
	if (geteuid() != 0 || access(BLOCKDEV, F_OK) != 0)
		return 0;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	tfmt(tdir, sizeof(tdir), "%s", tmpl);
	/* The snapshot's content: a nasty name, a nested file, a symlink. */
	if (sh_ok("cd \"$0\"; mkdir -p bin tree/sub/deep out; "
	    "printf old > \"tree/sub/it's a \\$(touch cordon-pwned); "
	    "\\`id\\` ; \\\"q\\\"\"; printf 12345 > tree/sub/deep/f; "
	    "ln -s /etc tree/link", tdir) != 0)
		return -1;
	return put("mount", fake_mount) || put("umount", fake_umount) ||
	    put("blkid", fake_blkid) || put("zfs", fake_zfs) ? -1 : 0;
}

static int
scripts_teardown(void **state)
{
	(void)state;
	if (tdir[0] == '\0')
		return 0;
	return sh_ok("rm -rf -- \"$0\"", tdir);
}

/* Runs script with args under the stand-ins; its exit status. */
static int
run(const char *script, const char *const *args, const char *out_file,
    int clone_fail)
{
	char	path[600], tree[300], log[300];
	pid_t	pid;
	int	st;
	size_t	i, n = 0;
	const char *argv[12];

	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "sh";
	for (i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tfmt(path, sizeof(path), "PATH=%s/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    tdir);
	tfmt(tree, sizeof(tree), "FAKE_TREE=%s/tree", tdir);
	tfmt(log, sizeof(log), "FAKE_LOG=%s/log", tdir);
	if ((pid = fork()) == 0) {
		char *env[] = { path, tree, log, clone_fail ?
		    "FAKE_CLONE_FAIL=1" : NULL, NULL };
		int fd = open(out_file ? out_file : "/dev/null",
		    O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || chdir(tdir) != 0)
			_exit(126);
		execve("/bin/sh", (char *const *)argv, env);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *
slurp(const char *name)
{
	char	p[512], *s;
	FILE	*f;
	long	n;

	tfmt(p, sizeof(p), "%s/%s", tdir, name);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	(void)fseek(f, 0, SEEK_END);
	n = ftell(f);
	(void)fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	(void)fclose(f);
	return s;
}

static void
reset_log(void)
{
	char	p[512];

	tfmt(p, sizeof(p), "%s/log", tdir);
	(void)unlink(p);
}

/* The mount point the log names (after "mount -o ro,noload -- DEV "). */
static void
mnt_of(const char *log, const char *prefix, char *out, size_t len)
{
	const char	*p = strstr(log, prefix);
	size_t		 n;

	assert_non_null(p);
	p += strlen(prefix);
	n = strcspn(p, " \n");
	assert_true(n < len);
	memcpy(out, p, n);
	out[n] = '\0';
	assert_int_equal(strncmp(out, "/run/cordon-snap.", 17), 0);
}

static void
test_lvm_script(void **state)
{
	char	dest[600], outf[600], rel[] = "sub/" NASTY, m[256], *s;
	char	want[1200];
	const char *args[5];

	(void)state;
	if (tdir[0] == '\0')
		skip();
	tfmt(m, sizeof(m), "%s/cordon-pwned", tdir);
	(void)unlink(m);
	tfmt(dest, sizeof(dest), "%s/out/r1", tdir);
	tfmt(outf, sizeof(outf), "%s/stdout", tdir);
	reset_log();
	args[0] = "fetch";
	args[1] = BLOCKDEV;
	args[2] = rel;
	args[3] = dest;
	args[4] = NULL;
	assert_int_equal(run(snap_lvm_sh, args, NULL, 0), 0);
	assert_non_null(s = slurp("out/r1"));
	assert_string_equal(s, "old");
	free(s);
	assert_non_null(s = slurp("log"));
	mnt_of(s, "mount -o ro,noload -- " BLOCKDEV " ", m, sizeof(m));
	tfmt(want, sizeof(want), "blkid -o value -s TYPE -- " BLOCKDEV "\n"
	    "mount -o ro,noload -- " BLOCKDEV " %s\numount -- %s\n", m, m);
	assert_string_equal(s, want);
	free(s);
	assert_int_not_equal(access(m, F_OK), 0);	/* removed */
	tfmt(want, sizeof(want), "%s/cordon-pwned", tdir);
	assert_int_not_equal(access(want, F_OK), 0);
	/* The destination exists now: refused before mounting anything. */
	reset_log();
	assert_int_equal(run(snap_lvm_sh, args, NULL, 0), 6);
	assert_null(slurp("log"));
	/* A whole directory, probed: file bytes plus directory sizes. */
	args[0] = "probe";
	args[2] = "sub";
	args[3] = "";
	assert_int_equal(run(snap_lvm_sh, args, outf, 0), 0);
	assert_non_null(s = slurp("stdout"));
	assert_true(strtoll(s, NULL, 10) >= 8);
	free(s);
	/* A symlink on the way, a missing path: refused, still unmounted. */
	reset_log();
	args[2] = "link/passwd";
	assert_int_equal(run(snap_lvm_sh, args, NULL, 0), 5);
	args[2] = "nothere";
	assert_int_equal(run(snap_lvm_sh, args, NULL, 0), 4);
	assert_non_null(s = slurp("log"));
	mnt_of(s, "mount -o ro,noload -- " BLOCKDEV " ", m, sizeof(m));
	assert_non_null(strstr(s, "umount -- "));
	free(s);
	assert_int_not_equal(access(m, F_OK), 0);
	/* Not a block device: nothing mounted. */
	reset_log();
	args[1] = "/dev/null";
	assert_int_equal(run(snap_lvm_sh, args, NULL, 0), 3);
	assert_null(slurp("log"));
}

static void
test_zfs_script(void **state)
{
	char	dest[600], rel[] = "sub/deep/f", m[256], want[1200], *s;
	const char *args[5];

	(void)state;
	if (tdir[0] == '\0')
		skip();
	tfmt(dest, sizeof(dest), "%s/out/z1", tdir);
	reset_log();
	args[0] = "fetch";
	args[1] = "tank/data@daily-1";
	args[2] = rel;
	args[3] = dest;
	args[4] = NULL;
	assert_int_equal(run(snap_zfs_sh, args, NULL, 0), 0);
	assert_non_null(s = slurp("out/z1"));
	assert_string_equal(s, "12345");
	free(s);
	assert_non_null(s = slurp("log"));
	mnt_of(s, "zfs clone -o readonly=on -o mountpoint=", m, sizeof(m));
	/* Exactly: one read-only clone in the pool, then its destroy. */
	{
		const char *c = strstr(s, " tank/cordon-clone-");
		size_t n;

		assert_non_null(c);
		n = strcspn(c + 1, "\n");
		tfmt(want, sizeof(want), "zfs clone -o readonly=on -o "
		    "mountpoint=%s -- tank/data@daily-1 %.*s\n"
		    "zfs destroy -- %.*s\n", m, (int)n, c + 1, (int)n, c + 1);
	}
	assert_string_equal(s, want);
	assert_null(strstr(s, "rollback"));
	free(s);
	assert_int_not_equal(access(m, F_OK), 0);
	/* The clone name is taken: nothing is destroyed (it is not ours). */
	reset_log();
	args[3] = "/nonexistent-dir/z2";
	assert_int_equal(run(snap_zfs_sh, args, NULL, 1), 1);
	assert_non_null(s = slurp("log"));
	assert_null(strstr(s, "destroy"));
	free(s);
	/* Refusals after the clone: destroyed all the same. */
	reset_log();
	args[2] = "link/passwd";
	assert_int_equal(run(snap_zfs_sh, args, NULL, 0), 5);
	assert_non_null(s = slurp("log"));
	assert_non_null(strstr(s, "zfs destroy -- tank/cordon-clone-"));
	free(s);
	args[2] = "../../etc";
	assert_int_not_equal(run(snap_zfs_sh, args, NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_list_commands),
		cmocka_unit_test(test_fetch_commands),
		cmocka_unit_test(test_parse_lvs),
		cmocka_unit_test(test_parse_zfs),
		cmocka_unit_test(test_lvm_script),
		cmocka_unit_test(test_zfs_script),
	};

	return cmocka_run_group_tests(tests, scripts_setup, scripts_teardown);
}
