/*
 * test_snap_vss: the Windows shadow-copy commands (actions/snap_vss.c).
 *
 * No Windows host runs here, so these check the exact PowerShell text,
 * its quoting, the -EncodedCommand wrapping (UTF-16LE, base64, decoded
 * back independently) and the parser on output in the format
 * Get-CimInstance Win32_ShadowCopy gives through the list script.
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

/*
 * The leftover .part is refused, never removed (it may be a planted
 * junction); the new one is made here, limited to Administrators and
 * SYSTEM before robocopy writes into it.
 */
#define PART_SH \
	"$part = $dst + '.part'\n" \
	"if ((Test-Path -LiteralPath $part) -or (Get-Item -LiteralPath " \
	"$part -Force -ErrorAction SilentlyContinue)) { " \
	"[Console]::Error.WriteLine('a leftover ' + $part + ' exists (an " \
	"interrupted copy, or planted): check it holds no junction, remove " \
	"it by hand, then retry'); exit 9 }\n" \
	"$acl = New-Object Security.AccessControl.DirectorySecurity\n" \
	"$acl.SetAccessRuleProtection($true, $false)\n" \
	"foreach ($s in 'S-1-5-32-544', 'S-1-5-18') { $acl.AddAccessRule(" \
	"(New-Object Security.AccessControl.FileSystemAccessRule(" \
	"(New-Object Security.Principal.SecurityIdentifier $s), " \
	"'FullControl', 'ContainerInherit, ObjectInherit', 'None', " \
	"'Allow'))) }\n" \
	"$null = [IO.Directory]::CreateDirectory($part)\n" \
	"if (([IO.File]::GetAttributes($part) -band 1024) -ne 0) { " \
	"[Console]::Error.WriteLine($part + ' is a junction or symbolic " \
	"link'); exit 9 }\n" \
	"Set-Acl -LiteralPath $part -AclObject $acl\n"
#define DEV3	"\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy3"
#define GUID3	"{3A1F2B4C-5D6E-4F70-8192-A3B4C5D6E7F8}"
#define GUID4	"{0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0}"

static char *
lit(const char *s, size_t len, int *r)
{
	struct buf	b;

	buf_init(&b, 4096);
	if ((*r = vss_ps_literal(&b, s, len)) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static void
test_literal(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "plain", "'plain'" },
		{ "it's", "'it''s'" },
		{ "$(Remove-Item C:\\ -Recurse); `whoami` \"x\" & | > %PATH%",
		  "'$(Remove-Item C:\\ -Recurse); `whoami` \"x\" & | > "
		  "%PATH%'" },
		/* The Unicode single quotes also end a literal: doubled. */
		{ "a\xe2\x80\x98" "b\xe2\x80\x99" "c\xe2\x80\x9a" "d\xe2\x80\x9b",
		  "'a\xe2\x80\x98\xe2\x80\x98" "b\xe2\x80\x99\xe2\x80\x99"
		  "c\xe2\x80\x9a\xe2\x80\x9a" "d\xe2\x80\x9b\xe2\x80\x9b'" },
		{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "'caf\xc3\xa9 \xf0\x9f\x98\x80'" },
		{ "", "''" },
	};
	static const char *const bad[] = {
		"new\nline", "cr\r", "tab\t", "esc\x1b", "del\x7f",
		"bad\xc3", "over\xc0\xaf", "surr\xed\xa0\x80", "c1\xc2\x85",
	};
	size_t	i;
	char	*s;
	int	r;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		s = lit(ok[i].in, strlen(ok[i].in), &r);
		assert_int_equal(r, 0);
		assert_string_equal(s, ok[i].out);
		free(s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(lit(bad[i], strlen(bad[i]), &r));
		assert_int_equal(r, -EINVAL);
	}
	/* A NUL inside the value. */
	assert_null(lit("a\0b", 3, &r));
	assert_int_equal(r, -EINVAL);
}

static void
test_encoded(void **state)
{
	const char	*sc = "Write-Output 'caf\xc3\xa9 \xf0\x9f\x98\x80'";
	char		*cmd, *back;
	size_t		 i;

	(void)state;
	assert_int_equal(vss_encoded_cmd("Write-Output 'hi'", &cmd), 0);
	/* base64(UTF-16LE), computed independently. */
	assert_string_equal(cmd, "powershell.exe -NoProfile -NonInteractive "
	    "-ExecutionPolicy Bypass -EncodedCommand "
	    "VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAGgAaQAnAA==");
	free(cmd);
	/* Round trip through a surrogate pair; nothing a shell reads. */
	assert_int_equal(vss_encoded_cmd(sc, &cmd), 0);
	for (i = 0; cmd[i]; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
		    "mnopqrstuvwxyz0123456789+/=-. ", cmd[i]));
	assert_int_equal(vss_decode_cmd(cmd, &back), 0);
	assert_string_equal(back, sc);
	free(back);
	free(cmd);
	assert_int_equal(vss_encoded_cmd("bad\xff", &cmd), -EINVAL);
}

static void
test_list_script(void **state)
{
	const char	*why;
	char		*s, *cmd, *back;

	(void)state;
	assert_int_equal(vss_list_script("d:", 2, &s, &why), 0);
	assert_string_equal(s,
	    "$ErrorActionPreference = 'Stop'\n"
	    "$root = 'd:\\'\n"
	    "$vol = Get-CimInstance -ClassName Win32_Volume | "
	    "Where-Object { $_.Name -eq $root }\n"
	    "if ($null -eq $vol) { [Console]::Error.WriteLine("
	    "'no such volume'); exit 4 }\n"
	    "Get-CimInstance -ClassName Win32_ShadowCopy | "
	    "Where-Object { $_.VolumeName -eq $vol.DeviceID } | "
	    "ForEach-Object { '{0}|{1}|{2}' -f $_.ID, "
	    "$_.InstallDate.ToUniversalTime().ToString('u'), "
	    "$_.DeviceObject }\n");
	assert_int_equal(vss_encoded_cmd(s, &cmd), 0);
	assert_int_equal(vss_decode_cmd(cmd, &back), 0);
	assert_string_equal(back, s);
	free(back);
	free(cmd);
	free(s);
	assert_int_equal(vss_list_script("C:\\", 3, &s, &why), 0);
	assert_non_null(strstr(s, "$root = 'C:\\'\n"));
	free(s);
	assert_int_equal(vss_list_script("C:\\'; rm", 8, &s, &why), -EINVAL);
	assert_int_equal(vss_list_script("C:\\Users", 8, &s, &why), -EINVAL);
	assert_int_equal(vss_list_script("C\0:", 3, &s, &why), -EINVAL);
}

static void
test_parse(void **state)
{
	/* What the list script prints: CRLF, a blank line at the end. */
	static const char out[] =
	    GUID3 "|2026-11-25 06:00:00Z|" DEV3 "\r\n"
	    GUID4 "|2026-11-26 07:30:15Z|"
	    "\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy12\r\n"
	    "\r\n";
	static const char *const bad[] = {
		GUID3 "|2026-11-25 06:00:00Z|" DEV3 "\\..\\x\r\n",
		GUID3 "|2026-11-25 06:00:00Z|\\\\?\\C:\\Windows\r\n",
		"{3A1F2B4C-5D6E-4F70-8192-A3B4C5D6E7F}|2026-11-25 06:00:00Z|"
		DEV3 "\r\n",
		GUID3 "|yesterday|" DEV3 "\r\n",
		GUID3 "|2026-11-25 06:00:00Z\r\n",
		"garbage\r\n",
	};
	struct vss_copy	*v = NULL;
	char		 err[200];
	size_t		 n = 0, i;

	(void)state;
	assert_int_equal(vss_parse_list(out, sizeof(out) - 1, &v, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].s.id, GUID3);
	assert_int_equal(v[0].s.at, 1795586400);
	assert_int_equal(v[0].s.readonly, 1);
	assert_string_equal(v[0].dev, DEV3);
	assert_string_equal(v[1].s.id, GUID4);
	assert_int_equal(v[1].s.at, 1795678215);
	assert_string_equal(v[1].dev,
	    "\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy12");
	free(v);
	assert_int_equal(vss_parse_list("", 0, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = NULL;
		assert_int_equal(vss_parse_list(bad[i], strlen(bad[i]), &v,
		    &n, err, sizeof(err)), -EPROTO);
	}
}

static void
test_restore_script(void **state)
{
	struct vss_copy	 c;
	const char	*why, *rel;
	char		*s, *cmd, *back;

	(void)state;
	memset(&c, 0, sizeof(c));
	(void)snprintf(c.s.id, sizeof(c.s.id), "%s", GUID3);
	(void)snprintf(c.dev, sizeof(c.dev), "%s", DEV3);
	/* A folder, with every kind of metacharacter in its names. */
	rel = "Users/bob's files/$(calc); `x` & y/./Q\xe2\x80\x99" "4";
	assert_int_equal(vss_restore_script(&c, rel, strlen(rel),
	    "D:\\restore\\bob.cordon-restore-A7",
	    strlen("D:\\restore\\bob.cordon-restore-A7"), 1, &s, &why), 0);
	assert_string_equal(s,
	    "$ErrorActionPreference = 'Stop'\n"
	    "$src = '" DEV3 "\\Users\\bob''s files\\$(calc); `x` & y\\"
	    "Q\xe2\x80\x99\xe2\x80\x99" "4'\n"
	    "$dst = 'D:\\restore\\bob.cordon-restore-A7'\n"
	    "if (Test-Path -LiteralPath $dst) { [Console]::Error.WriteLine("
	    "'destination exists'); exit 6 }\n"
	    PART_SH
	    "& robocopy.exe $src $part /E /XJ /COPY:DATS /DCOPY:DAT /R:1 "
	    "/W:1 /NP /NJH /NJS /NFL /NDL\n"
	    "if ($LASTEXITCODE -ge 8) { exit $LASTEXITCODE }\n"
	    "Rename-Item -LiteralPath $part -NewName "
	    "([IO.Path]::GetFileName($dst))\nexit 0\n");
	assert_int_equal(vss_encoded_cmd(s, &cmd), 0);
	assert_int_equal(vss_decode_cmd(cmd, &back), 0);
	assert_string_equal(back, s);
	free(back);
	free(cmd);
	free(s);
	/* A file: robocopy gets its folder and its name. */
	rel = "Users\\bob\\Q4 report; final.xlsx";
	assert_int_equal(vss_restore_script(&c, rel, strlen(rel),
	    "E:/stage/r1", 11, 0, &s, &why), 0);
	assert_string_equal(s,
	    "$ErrorActionPreference = 'Stop'\n"
	    "$src = '" DEV3 "\\Users\\bob'\n"
	    "$dst = 'E:\\stage\\r1'\n"
	    "$name = 'Q4 report; final.xlsx'\n"
	    "if (Test-Path -LiteralPath $dst) { [Console]::Error.WriteLine("
	    "'destination exists'); exit 6 }\n"
	    PART_SH
	    "& robocopy.exe $src $part $name /XJ /COPY:DATS /R:1 /W:1 /NP "
	    "/NJH /NJS /NFL /NDL\n"
	    "if ($LASTEXITCODE -ge 8) { exit $LASTEXITCODE }\n"
	    "Rename-Item -LiteralPath $part -NewName "
	    "([IO.Path]::GetFileName($dst))\nexit 0\n");
	/* Nothing in a restore script ever deletes. */
	assert_null(strstr(s, "Remove-Item"));
	free(s);
	/* A file at the volume root. */
	assert_int_equal(vss_restore_script(&c, "boot.ini", 8, "E:\\s", 4, 0,
	    &s, &why), 0);
	assert_non_null(strstr(s, "$src = '" DEV3 "'\n$dst = 'E:\\s'\n"
	    "$name = 'boot.ini'\n"));
	free(s);
}

static void
test_restore_refusals(void **state)
{
	static const char *const rels[] = {
		"..", "a/../b", "a\\..\\..\\Windows", "/abs", "\\abs",
		"C:\\x", "a:stream", "*.docx", "a?b", "a<b", "a|b", "a\"b",
		"new\nline", "trailing.", "trailing /x", ".", "",
	};
	struct vss_copy	 c;
	const char	*why;
	char		*s = NULL;
	size_t		 i;

	(void)state;
	memset(&c, 0, sizeof(c));
	(void)snprintf(c.dev, sizeof(c.dev), "%s", DEV3);
	for (i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		if (vss_restore_script(&c, rels[i], strlen(rels[i]), "D:\\r",
		    4, 1, &s, &why) != -EINVAL)
			fail_msg("rel '%s' accepted", rels[i]);
	}
	/* NUL inside the path. */
	assert_int_equal(vss_restore_script(&c, "a\0b", 3, "D:\\r", 4, 1,
	    &s, &why), -EINVAL);
	assert_non_null(strstr(why, "NUL"));
	/* Staging: absolute, no "..", no NUL. */
	assert_int_equal(vss_restore_script(&c, "a", 1, "restore", 7, 1, &s,
	    &why), -EINVAL);
	assert_int_equal(vss_restore_script(&c, "a", 1, "D:\\r\\..\\..\\x",
	    12, 1, &s, &why), -EINVAL);
	assert_int_equal(vss_restore_script(&c, "a", 1, "D:\\r\0x", 6, 1, &s,
	    &why), -EINVAL);
	assert_int_equal(vss_restore_script(&c, "a", 1, "\\\\srv\\share", 11,
	    1, &s, &why), -EINVAL);
	/* A device that is not a shadow copy. */
	(void)snprintf(c.dev, sizeof(c.dev), "%s", "C:\\Windows");
	assert_int_equal(vss_restore_script(&c, "a", 1, "D:\\r", 4, 1, &s,
	    &why), -EINVAL);
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_encoded),
		cmocka_unit_test(test_list_script),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_restore_script),
		cmocka_unit_test(test_restore_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
