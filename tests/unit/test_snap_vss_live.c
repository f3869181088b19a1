/*
 * test_snap_vss_live: the vss back end's live-side PowerShell scripts and
 * parsers (actions/snap_vss_live.c).
 *
 * No Windows host runs here, so these pin the exact script text, the
 * quoting of hostile values (every quote PowerShell ends a literal at,
 * $(...), ;, backtick, spaces, non-ASCII), the refusals, and the parsers
 * on output in PowerShell's format (CRLF line ends, Get-FileHash's
 * upper-case hex).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../actions/snap_vss.h"
#include "../../actions/snap_vss_live.h"
#include "../../actions/ssh_win_ps.h"

#define DEV3	"\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy3"
/* A name Windows allows, with everything PowerShell could misread. */
#define HOSTILE	"Bob\xe2\x80\x99s \xe2\x80\x98Q4\xe2\x80\x99 $(calc); `x` " \
		"caf\xc3\xa9 it's"
#define HOSTILE_Q "Bob\xe2\x80\x99\xe2\x80\x99s \xe2\x80\x98\xe2\x80\x98Q4" \
		"\xe2\x80\x99\xe2\x80\x99 $(calc); `x` caf\xc3\xa9 it''s"
#define H_A	"9F86D081884C7D659A2FEAA0C55AD015" \
		"A3BF4F1B2B0B822CD15D6C15B0F00A08"
#define H_B	"60303AE22B998861BCE3B28F33EEC1BE" \
		"758A213C86C93C076DBE9F558C11C752"

static const char head[] =
    "$ErrorActionPreference = 'Stop'\n"
    "[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false\n";

static int
ends(const char *s, const char *tail)
{
	size_t	n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

static void
test_root_where(void **state)
{
	static const char *const bad_root[] = {
		"D:\\Data", "C:Data", "Data", "C:\\a\\..\\b", "C:\\*",
		"C:\\a:b", "\\\\srv\\share", "C:\\trailing.", "",
	};
	struct vss_where w;
	const char	*why;
	size_t		 i;

	(void)state;
	assert_true(vss_root_ok("C:\\", "C:\\", &why));
	assert_true(vss_root_ok("c:", "C:\\Data\\Finance", &why));
	assert_true(vss_root_ok("C:\\", "c:/Data", &why));
	for (i = 0; i < sizeof(bad_root) / sizeof(bad_root[0]); i++)
		if (vss_root_ok("C:\\", bad_root[i], &why))
			fail_msg("root '%s' accepted", bad_root[i]);
	assert_false(vss_root_ok("C:\\Users", "C:\\Users\\x", &why));
	assert_non_null(strstr(why, "'volume'"));
	assert_false(vss_root_ok(NULL, "C:\\", &why));

	assert_int_equal(vss_where("c:\\Data\\Fin", "a\\b", &w, &why), 0);
	assert_string_equal(w.drive, "C:");
	assert_string_equal(w.root, "C:\\Data\\Fin");
	assert_string_equal(w.below, "Data\\Fin\\a\\b");
	assert_int_equal(vss_where("C:\\", "x.txt", &w, &why), 0);
	assert_string_equal(w.root, "C:");
	assert_string_equal(w.below, "x.txt");
	assert_int_equal(vss_where("C:/Data/", "x", &w, &why), 0);
	assert_string_equal(w.root, "C:\\Data");
	assert_int_equal(vss_where("Data", "x", &w, &why), -EINVAL);
}

static void
test_paths(void **state)
{
	static const char *const abs_ok[] = {
		"C:\\Data\\x", "d:\\a b\\" HOSTILE, DEV3 "\\Data\\x",
	};
	static const char *const abs_bad[] = {
		"C:\\", "Data\\x", "C:\\a\\..\\b", "\\\\srv\\share\\x",
		"\\\\?\\C:\\x", DEV3, DEV3 "\\", DEV3 "x\\a",
		"\\\\?\\GLOBALROOT\\Device\\HarddiskVolume3\\x", "C:\\a\nb",
		"C:\\a:b",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(abs_ok) / sizeof(abs_ok[0]); i++)
		if (!vss_abs_ok(abs_ok[i]))
			fail_msg("'%s' refused", abs_ok[i]);
	for (i = 0; i < sizeof(abs_bad) / sizeof(abs_bad[0]); i++)
		if (vss_abs_ok(abs_bad[i]))
			fail_msg("'%s' accepted", abs_bad[i]);
	assert_true(vss_staged_ok("C:\\Data\\r.cordon-restore-A12"));
	assert_true(vss_staged_ok("C:\\Data\\x.cordon-restore-A1."
	    "cordon-restore-A7"));
	assert_false(vss_staged_ok("C:\\Data\\r.cordon-restore-A"));
	assert_false(vss_staged_ok("C:\\Data\\r.cordon-restore-A12x"));
	assert_false(vss_staged_ok("C:\\Data\\r.cordon-pre-A12"));
	assert_false(vss_staged_ok("C:\\Data"));
	assert_false(vss_staged_ok("C:\\a\\..\\r.cordon-restore-A1"));
}

static void
test_inspect(void **state)
{
	struct vss_where w;
	const char	*why;
	char		*s, *cmd, *back;

	(void)state;
	assert_int_equal(vss_where("C:\\Us'ers", "bob\\" HOSTILE, &w, &why),
	    0);
	assert_int_equal(vss_inspect_script(&w, ".cordon-restore-A42", &s,
	    &why), 0);
	assert_string_equal(s,
	    "$ErrorActionPreference = 'Stop'\n"
	    "[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false\n"
	    "$root = 'C:\\Us''ers'\n"
	    "$drv = 'C:'\n"
	    "$below = 'Us''ers\\bob\\" HOSTILE_Q "'\n"
	    "$sfx = '.cordon-restore-A42'\n"
	    "function E($m, $c) { [Console]::Error.WriteLine($m); exit $c }\n"
	    "function Ex($p) { [IO.Directory]::Exists($p) -or "
	    "[IO.File]::Exists($p) }\n"
	    "function Rp($p) { ([IO.File]::GetAttributes($p) -band 1024) -ne "
	    "0 }\n"
	    "function Wk($c, $w, $l) { $a = $w.Split('\\')\n"
	    " for ($i = 0; $i -lt $a.Length; $i++) { $c += '\\' + $a[$i]\n"
	    "  if (-not (Ex $c)) { if ($l -and $i -eq $a.Length - 1) "
	    "{ return }\n"
	    "   E 'a folder on the way does not exist' 4 }\n"
	    "  if (Rp $c) { E 'path goes through a junction or symbolic link' "
	    "5 } } }\n"
	    "if (-not [IO.Directory]::Exists($root)) { E 'root does not exist' "
	    "3 }\n"
	    "Wk $drv $below 1\n"
	    "$live = $drv + '\\' + $below\n"
	    "$d = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "
	    "(\"DeviceID='\" + $drv + \"'\")\n"
	    "'exists=' + [int](Ex $live)\n"
	    "'avail=' + $d.FreeSpace\n"
	    "'staged=' + [int](Ex ($live + $sfx))\n");
	/* -EncodedCommand round trip, within cmd.exe's line limit. */
	assert_int_equal(vss_encoded_cmd(s, &cmd), 0);
	assert_true(strlen(cmd) <= SSH_WIN_CMD_MAX);
	assert_int_equal(vss_decode_cmd(cmd, &back), 0);
	assert_string_equal(back, s);
	free(back);
	free(cmd);
	free(s);
	/* Not what vss_where makes: refused. */
	assert_int_equal(vss_where("C:\\Data", "a", &w, &why), 0);
	(void)snprintf(w.below, sizeof(w.below), "Data\\..\\Windows");
	assert_int_equal(vss_inspect_script(&w, ".x", &s, &why), -EINVAL);
	(void)snprintf(w.below, sizeof(w.below), "Data/a");
	assert_int_equal(vss_inspect_script(&w, ".x", &s, &why), -EINVAL);
	assert_int_equal(vss_where("C:\\Data", "a", &w, &why), 0);
	assert_int_equal(vss_inspect_script(&w, ".x\r\n", &s, &why), -EINVAL);
	/* The volume root as root: tested as "C:\", joined from "C:". */
	assert_int_equal(vss_where("c:\\", "x", &w, &why), 0);
	assert_int_equal(vss_inspect_script(&w, ".s", &s, &why), 0);
	assert_non_null(strstr(s, "\n$root = 'C:\\'\n$drv = 'C:'\n"
	    "$below = 'x'\n"));
	free(s);
}

static void
test_probe_manifest_remove(void **state)
{
	const char	*why;
	char		*s;

	(void)state;
	assert_int_equal(vss_probe_script(DEV3, "Data\\" HOSTILE, &s, &why),
	    0);
	assert_non_null(strstr(s, "$dev = '" DEV3 "'\n"
	    "$below = 'Data\\" HOSTILE_Q "'\nfunction E("));
	assert_non_null(strstr(s, "\nWk $dev $below 0\n"
	    "$c = $dev + '\\' + $below\n$b = 0; $o = 0\n"
	    "foreach ($l in (W $c 0)) { if ($l[0] -eq 'f') { "
	    "$b += [long]$l.Split('|')[1] } elseif ($l[0] -eq 'o') { $o++ } "
	    "}\n'dir=' + [int][IO.Directory]::Exists($c)\n'bytes=' + $b\n"
	    "'links=' + $o\n"));
	assert_int_equal(strncmp(s, head, strlen(head)), 0);
	free(s);
	assert_int_equal(vss_probe_script("C:\\Windows", "x", &s, &why),
	    -EINVAL);
	assert_int_equal(vss_probe_script(DEV3, "a\\..\\b", &s, &why),
	    -EINVAL);
	assert_int_equal(vss_probe_script(DEV3, "", &s, &why), -EINVAL);

	assert_int_equal(vss_manifest_script(DEV3 "\\Data\\" HOSTILE, &s,
	    &why), 0);
	assert_non_null(strstr(s, "$p = '" DEV3 "\\Data\\" HOSTILE_Q "'\n"));
	/* Hashes through Get-FileHash on a stream .NET opened. */
	assert_non_null(strstr(s, "$s = $i.OpenRead()\n"
	    "  try { $x = (Get-FileHash -InputStream $s -Algorithm SHA256)"
	    ".Hash } finally { $s.Dispose() } }\n"));
	/* Reparse points are listed, never entered. */
	assert_non_null(strstr(s, "   if ($i.Attributes -band 1024) "
	    "{ 'o|' + $m }\n"));
	assert_true(ends(s, "\nW $p 1\n"));
	free(s);
	assert_int_equal(vss_manifest_script("Data\\x", &s, &why), -EINVAL);
	assert_int_equal(vss_manifest_script("C:\\a\\..\\b", &s, &why),
	    -EINVAL);

	assert_int_equal(vss_remove_script("C:\\Data\\" HOSTILE
	    ".cordon-restore-A9", &s, &why), 0);
	assert_non_null(strstr(s, "$p = 'C:\\Data\\" HOSTILE_Q
	    ".cordon-restore-A9'\n"));
	assert_non_null(strstr(s, "if ($p -notmatch "
	    "'\\.cordon-restore-A[0-9]+$') { E 'not a staging copy' 7 }\n"));
	assert_true(ends(s, "\nRemove-Item -LiteralPath $p -Recurse "
	    "-Force\n"));
	free(s);
	/* Only a staging copy on a volume, never a shadow copy. */
	assert_int_equal(vss_remove_script("C:\\Data", &s, &why), -EINVAL);
	assert_int_equal(vss_remove_script("C:\\Data\\x.cordon-pre-A9", &s,
	    &why), -EINVAL);
	assert_int_equal(vss_remove_script(DEV3 "\\x.cordon-restore-A9", &s,
	    &why), -EINVAL);
	assert_int_equal(vss_remove_script("C:\\a\\..\\x.cordon-restore-A9",
	    &s, &why), -EINVAL);
}

static void
test_parse_kv(void **state)
{
	static const char out[] = "exists=1\r\navail=123456789012\r\n"
	    "staged=0\r\n";
	long long	v = -1;

	(void)state;
	assert_int_equal(vss_parse_kv(out, sizeof(out) - 1, "exists", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vss_parse_kv(out, sizeof(out) - 1, "avail", &v), 0);
	assert_int_equal(v, 123456789012LL);
	assert_int_equal(vss_parse_kv(out, sizeof(out) - 1, "staged", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vss_parse_kv(out, sizeof(out) - 1, "bytes", &v),
	    -EPROTO);
	/* FreeSpace empty (no such disk), a sign, too many digits. */
	assert_int_equal(vss_parse_kv("avail=\r\n", 8, "avail", &v), -EPROTO);
	assert_int_equal(vss_parse_kv("avail=-1\r\n", 10, "avail", &v),
	    -EPROTO);
	assert_int_equal(vss_parse_kv("avail=1234567890123456789\n", 26,
	    "avail", &v), -EPROTO);
	/* Last line without a line end. */
	assert_int_equal(vss_parse_kv("x=1\r\nbytes=42", 13, "bytes", &v), 0);
	assert_int_equal(v, 42);
}

static void
test_parse_manifest(void **state)
{
	/* As PowerShell prints it: CRLF, any order, upper-case hex. */
	static const char out1[] =
	    "d|sub\r\n"
	    "f|4|" H_A "|sub\\t" "\xc3\xa9st\r\n"
	    "f|10|" H_B "|" HOSTILE "\r\n"
	    "o|link\r\n";
	static const char out2[] =
	    "o|link\n"
	    "f|10|" H_B "|" HOSTILE "\n"
	    "d|sub\n"
	    "f|4|" H_A "|sub\\t" "\xc3\xa9st\n";
	static const char *const bad[] = {
		"x|a\r\n", "d|\r\n", "d|a|b\r\n", "f|4|" H_A "\r\n",
		"f|4|" H_A "|\r\n", "f||" H_A "|a\r\n", "f|4x|" H_A "|a\r\n",
		"f|4|ABC|a\r\n", "f|4|" H_A "|a|b\r\n",
		"f|4|-|a\r\n", "garbage\r\n",
	};
	static const char want[] =
	    "d sub\0"
	    "f 10 " HOSTILE "\0"
	    "f 4 sub\\t\xc3\xa9st\0"
	    "o link\0"
	    "#\0";
	char		*m1 = NULL, *m2 = NULL, err[200], *h;
	size_t		 l1 = 0, l2 = 0, i;

	(void)state;
	assert_int_equal(vss_parse_manifest(out1, sizeof(out1) - 1, &m1, &l1,
	    err, sizeof(err)), 0);
	assert_int_equal(vss_parse_manifest(out2, sizeof(out2) - 1, &m2, &l2,
	    err, sizeof(err)), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(m1, m2, l1);
	assert_memory_equal(m1, want, sizeof(want) - 1);
	/* Then the hashes, lower case, in the entries' order. */
	h = m1 + sizeof(want) - 1;
	assert_int_equal(strncmp(h, "60303ae22b99", 12), 0);
	assert_string_equal(h + 64, "  " HOSTILE);
	h += strlen(h) + 1;
	assert_int_equal(strncmp(h, "9f86d081884c", 12), 0);
	assert_string_equal(h + 64, "  sub\\t\xc3\xa9st");
	assert_int_equal((size_t)(h + strlen(h) + 1 - m1), l1);
	free(m1);
	free(m2);
	/* One changed byte in a hash: a different manifest. */
	{
		char	alt[sizeof(out1)];

		memcpy(alt, out1, sizeof(out1));
		alt[strstr(out1, H_A) - out1 + 63] = '9';
		assert_int_equal(vss_parse_manifest(alt, sizeof(alt) - 1, &m1,
		    &l1, err, sizeof(err)), 0);
		assert_int_equal(vss_parse_manifest(out2, sizeof(out2) - 1,
		    &m2, &l2, err, sizeof(err)), 0);
		assert_true(l1 != l2 || memcmp(m1, m2, l1) != 0);
		free(m1);
		free(m2);
	}
	/* An empty folder. */
	assert_int_equal(vss_parse_manifest("", 0, &m1, &l1, err,
	    sizeof(err)), 0);
	assert_int_equal(l1, 2);
	assert_memory_equal(m1, "#", 2);
	free(m1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m1 = NULL;
		if (vss_parse_manifest(bad[i], strlen(bad[i]), &m1, &l1, err,
		    sizeof(err)) != -EPROTO)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(m1);
	}
	/* A NUL inside a name. */
	assert_int_equal(vss_parse_manifest("d|a\0b\r\n", 7, &m1, &l1, err,
	    sizeof(err)), -EPROTO);
}

/* Each script's command line for a path of n bytes; fails past limit. */
static size_t
cmd_len(int kind, size_t n)
{
	struct vss_where w;
	const char	*why;
	char		 rel[SNAP_PATH_MAX], p[SNAP_PATH_MAX + 64];
	char		*s = NULL, *cmd = NULL;
	size_t		 len;

	memset(rel, 'a', n);
	rel[n] = '\0';
	for (len = 100; len < n; len += 101)
		rel[len] = '\\';
	assert_int_equal(vss_where("C:\\Data", rel, &w, &why), 0);
	(void)snprintf(p, sizeof(p), "C:\\Data\\%s.cordon-restore-A1234",
	    rel);
	switch (kind) {
	case 0:
		assert_int_equal(vss_inspect_script(&w, ".cordon-restore-A1234",
		    &s, &why), 0);
		break;
	case 1:
		assert_int_equal(vss_probe_script(DEV3, w.below, &s, &why), 0);
		break;
	case 2:
		assert_int_equal(vss_manifest_script(p, &s, &why), 0);
		break;
	default:
		assert_int_equal(vss_remove_script(p, &s, &why), 0);
		break;
	}
	assert_int_equal(vss_encoded_cmd(s, &cmd), 0);
	len = strlen(cmd);
	free(cmd);
	free(s);
	return len;
}

static void
test_cmd_fits(void **state)
{
	int	k;

	(void)state;
	/* A 400-byte path fits cmd.exe's 8191-character line in every
	 * script (the back end refuses a longer line with a clear error). */
	for (k = 0; k < 4; k++)
		if (cmd_len(k, 400) > SSH_WIN_CMD_MAX)
			fail_msg("script %d: %zu characters", k,
			    cmd_len(k, 400));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_where),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_inspect),
		cmocka_unit_test(test_probe_manifest_remove),
		cmocka_unit_test(test_parse_kv),
		cmocka_unit_test(test_parse_manifest),
		cmocka_unit_test(test_cmd_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
