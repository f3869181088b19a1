/*
 * test_ssh_win: the exact commands cordon sends to Windows OpenSSH hosts.
 *
 * No Windows host can run here, so this pins down, byte for byte, what
 * would run there: each command line is decoded back from base64 and
 * UTF-16LE (by this test's own decoder) and compared with the expected
 * script text written out in full below.  Hostile values are checked
 * with a small model of PowerShell's single-quoted string rule: the
 * literal must end exactly where it should and give back the value.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libssh/libssh.h>

#include "../../actions/ssh_win.h"
#include "../../agent/util.h"

#define PFX	"powershell -NoProfile -NonInteractive -EncodedCommand "

extern const struct verb	ssh_verbs[];

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* UTF-8 of code point cp appended at out[*n]. */
static void
put_utf8(char *out, size_t *n, uint32_t cp)
{
	if (cp < 0x80)
		out[(*n)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/*
 * What powershell.exe would run: the command line must be the fixed
 * prefix and plain base64 (nothing cmd.exe could take as special); the
 * base64 is UTF-16LE.  Returns the script as UTF-8; caller frees.
 */
static char *
decode(const char *cmd)
{
	const char	*b = cmd + strlen(PFX);
	size_t		 n = strlen(b), i, m = 0, k = 0;
	unsigned char	*raw;
	uint32_t	 acc = 0;
	char		*out;
	int		 bits = 0, v;

	assert_true(strncmp(cmd, PFX, strlen(PFX)) == 0);
	assert_true(n > 0 && n % 4 == 0);
	assert_true(strlen(cmd) <= SSH_WIN_CMD_MAX);
	raw = malloc(n);
	assert_non_null(raw);
	for (i = 0; i < n; i++) {
		if (b[i] == '=') {
			assert_true(i >= n - 2);
			continue;
		}
		assert_true((v = b64val(b[i])) >= 0);
		acc = acc << 6 | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			raw[m++] = (unsigned char)(acc >> bits);
		}
	}
	assert_int_equal(m % 2, 0);
	out = malloc(2 * m + 1);
	assert_non_null(out);
	for (i = 0; i < m; i += 2) {
		uint32_t u = (uint32_t)raw[i] | (uint32_t)raw[i + 1] << 8;

		if (u >= 0xd800 && u <= 0xdbff) {
			uint32_t lo;

			assert_true(i + 3 < m);
			lo = (uint32_t)raw[i + 2] | (uint32_t)raw[i + 3] << 8;
			assert_true(lo >= 0xdc00 && lo <= 0xdfff);
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		put_utf8(out, &k, u);
	}
	out[k] = '\0';
	free(raw);
	return out;
}

/* The script behind a generator's output, via the command line. */
static char *
via_cmd(int r, char **sp)
{
	char	*cmd = NULL, *back, *script = *sp;

	assert_int_equal(r, 0);
	assert_int_equal(ssh_win_cmdline(script, &cmd), 0);
	back = decode(cmd);
	assert_string_equal(back, script);
	free(cmd);
	free(script);
	return back;
}

#define PRE \
	"$ErrorActionPreference = 'Stop'\n" \
	"$ProgressPreference = 'SilentlyContinue'\n" \
	"try {\n"
#define POST \
	"} catch {\n" \
	"\t[Console]::Error.WriteLine($_.Exception.Message)\n" \
	"\texit 1\n" \
	"}\n"
#define USER(lit) \
	"\t$n = " lit "\n" \
	"\t$u = @(Get-LocalUser | Where-Object { $_.Name -eq $n })\n" \
	"\tif ($u.Count -ne 1) {\n" \
	"\t\t[Console]::Error.WriteLine('no such local account')\n" \
	"\t\texit 2\n" \
	"\t}\n" \
	"\t$u = $u[0]\n"

static void
test_ssh_win_user_read_exact(void **state)
{
	char	*s = NULL, *got;

	(void)state;
	got = via_cmd(ssh_win_script_user_read("alice", &s), &s);
	assert_string_equal(got, PRE USER("'alice'")
	    "\t'enabled=' + $u.Enabled\n"
	    "\t'sid=' + $u.SID.Value\n"
	    "\tif ($u.PasswordLastSet) {\n"
	    "\t\t'pwlastset=' + "
	    "$u.PasswordLastSet.ToUniversalTime().ToString('o')\n"
	    "\t} else {\n"
	    "\t\t'pwlastset='\n"
	    "\t}\n" POST);
	free(got);
}

static void
test_ssh_win_set_password_exact(void **state)
{
	char	*s = NULL, *got;

	(void)state;
	got = via_cmd(ssh_win_script_set_password("alice", &s), &s);
	assert_string_equal(got, PRE USER("'alice'")
	    "\t$p = New-Object System.Security.SecureString\n"
	    "\twhile ($true) {\n"
	    "\t\t$c = [Console]::In.Read()\n"
	    "\t\tif ($c -lt 0 -or $c -eq 10) { break }\n"
	    "\t\tif ($c -ne 13) { $p.AppendChar([char]$c) }\n"
	    "\t}\n"
	    "\tif ($p.Length -eq 0) {\n"
	    "\t\t[Console]::Error.WriteLine('no password on stdin')\n"
	    "\t\texit 3\n"
	    "\t}\n"
	    "\t$p.MakeReadOnly()\n"
	    "\tSet-LocalUser -InputObject $u -Password $p\n"
	    "\t$p.Dispose()\n" POST);
	/* The password is never part of the command. */
	assert_null(strstr(got, "ConvertTo-SecureString"));
	free(got);
}

static void
test_ssh_win_enable_disable_exact(void **state)
{
	char	*s = NULL, *got;

	(void)state;
	got = via_cmd(ssh_win_script_set_enabled("alice", 0, &s), &s);
	assert_string_equal(got, PRE USER("'alice'")
	    "\tDisable-LocalUser -InputObject $u\n" POST);
	free(got);
	got = via_cmd(ssh_win_script_set_enabled("alice", 1, &s), &s);
	assert_string_equal(got, PRE USER("'alice'")
	    "\tEnable-LocalUser -InputObject $u\n" POST);
	free(got);
}

#define AKF "\t$f = 'C:\\ProgramData\\ssh\\administrators_authorized_keys'\n"

static void
test_ssh_win_ak_scripts_exact(void **state)
{
	char	*s = NULL, *got;

	(void)state;
	got = via_cmd(ssh_win_script_ak_read("Admin", &s), &s);
	assert_string_equal(got, PRE "\t$n = 'Admin'\n" AKF
	    "\t$u = @(Get-LocalUser | Where-Object { $_.Name -eq $n })\n"
	    "\tif ($u.Count -ne 1) {\n"
	    "\t\t[Console]::Error.WriteLine('no such local account')\n"
	    "\t\texit 2\n"
	    "\t}\n"
	    "\t$u = $u[0]\n"
	    "\t$m = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | "
	    "Where-Object { $_.SID.Value -eq $u.SID.Value })\n"
	    "\t'admin=' + ($m.Count -eq 1)\n"
	    "\tif (Test-Path -LiteralPath $f -PathType Leaf) {\n"
	    "\t\t'exists=True'\n"
	    "\t\t'b64=' + [Convert]::ToBase64String("
	    "[IO.File]::ReadAllBytes($f))\n"
	    "\t\t$a = Get-Acl -LiteralPath $f\n"
	    "\t\t'protected=' + $a.AreAccessRulesProtected\n"
	    "\t\tforeach ($r in $a.GetAccessRules($true, $true, "
	    "[Security.Principal.SecurityIdentifier])) {\n"
	    "\t\t\t'ace=' + $r.IdentityReference.Value + ' ' + "
	    "$r.AccessControlType\n"
	    "\t\t}\n"
	    "\t} else {\n"
	    "\t\t'exists=False'\n"
	    "\t}\n" POST);
	free(got);

	got = via_cmd(ssh_win_script_ak_write(&s), &s);
	assert_string_equal(got, PRE AKF
	    "\t$b = [Convert]::FromBase64String("
	    "[Console]::In.ReadToEnd().Trim())\n"
	    "\t$t = $f + '.cordon-' + [IO.Path]::GetRandomFileName()\n"
	    "\ttry {\n"
	    "\t\t[IO.File]::WriteAllBytes($t, $b)\n"
	    "\t\t& icacls.exe $t /inheritance:r /grant '*S-1-5-32-544:F' "
	    "/grant '*S-1-5-18:F' | Out-Null\n"
	    "\t\tif ($LASTEXITCODE -ne 0) { throw 'icacls failed on the new "
	    "file' }\n"
	    "\t\tif (Test-Path -LiteralPath $f) {\n"
	    "\t\t\t[IO.File]::Replace($t, $f, [NullString]::Value)\n"
	    "\t\t} else {\n"
	    "\t\t\t[IO.File]::Move($t, $f)\n"
	    "\t\t}\n"
	    "\t\t& icacls.exe $f /inheritance:r /grant '*S-1-5-32-544:F' "
	    "/grant '*S-1-5-18:F' | Out-Null\n"
	    "\t\tif ($LASTEXITCODE -ne 0) { throw 'icacls failed' }\n"
	    "\t\tforeach ($r in (Get-Acl -LiteralPath $f).GetAccessRules("
	    "$true, $true, [Security.Principal.SecurityIdentifier])) {\n"
	    "\t\t\t$s = $r.IdentityReference.Value\n"
	    "\t\t\tif ($s -ne 'S-1-5-32-544' -and $s -ne 'S-1-5-18') {\n"
	    "\t\t\t\t& icacls.exe $f /remove ('*' + $s) | Out-Null\n"
	    "\t\t\t\tif ($LASTEXITCODE -ne 0) { throw 'icacls could not "
	    "remove an entry' }\n"
	    "\t\t\t}\n"
	    "\t\t}\n"
	    "\t} finally {\n"
	    "\t\tif (Test-Path -LiteralPath $t) { Remove-Item -LiteralPath "
	    "$t -Force }\n"
	    "\t}\n" POST);
	free(got);

	got = via_cmd(ssh_win_script_ak_remove(&s), &s);
	assert_string_equal(got, PRE AKF
	    "\tif (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f "
	    "-Force }\n" POST);
	free(got);
}

/* The code point at s (UTF-8), its length in *n. */
static uint32_t
cp_at(const unsigned char *s, size_t *n)
{
	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*n = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if ((s[0] & 0xf0) == 0xe0) {
		*n = 3;
		return (uint32_t)(s[0] & 0x0f) << 12 |
		    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

static int
is_sq(uint32_t c)
{
	return c == 0x27 || c == 0x2018 || c == 0x2019 || c == 0x201a ||
	    c == 0x201b;
}

/*
 * PowerShell's single-quoted string (tokenizer.cs ScanStringLiteral):
 * opens with any single quote; inside, a single quote followed by
 * another single quote is the second one, literally; a lone one closes.
 * Returns the value (caller frees) and where the literal ended.
 */
static char *
ps_parse_literal(const char *s, const char **ret_end)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out = malloc(strlen(s) + 1);
	size_t			 n, m, k = 0;
	uint32_t		 c;

	assert_non_null(out);
	assert_true(is_sq(cp_at(p, &n)));
	p += n;
	for (;;) {
		assert_true(*p != '\0');	/* unterminated */
		c = cp_at(p, &n);
		if (is_sq(c)) {
			if (!is_sq(cp_at(p + n, &m)))
				break;
			p += n;			/* the second one counts */
			c = cp_at(p, &n);
		}
		memcpy(out + k, p, n);
		k += n;
		p += n;
	}
	out[k] = '\0';
	*ret_end = (const char *)p + n;
	return out;
}

static void
test_ssh_win_hostile_values_stay_one_literal(void **state)
{
	static const char *const hostile[] = {
		"two words",
		"o'brien",
		"a''b'",
		"'",
		"\"quoted\"",
		"$(Remove-Item C:\\ -Recurse)",
		"${env:PATH}",
		"a; Stop-Computer",
		"line1\nline2\r\n",
		"back`tick`",
		"\xe2\x80\x98left\xe2\x80\x99right",	/* U+2018 U+2019 */
		"\xe2\x80\x9alow\xe2\x80\x9brev",	/* U+201A U+201B */
		"\xe2\x80\x99'\xe2\x80\x98",		/* mixed quotes */
		"\xe2\x80\x9c" "dq" "\xe2\x80\x9d",	/* U+201C/D: double */
		"| & < > ^ %PATH% !x!",
		"emoji \xf0\x9f\x94\x92",
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		char		*s = NULL, *got, *val;
		const char	*at, *end;

		got = via_cmd(ssh_win_script_user_read(hostile[i], &s), &s);
		at = strstr(got, "\t$n = ");
		assert_non_null(at);
		val = ps_parse_literal(at + 6, &end);
		if (strcmp(val, hostile[i]) != 0)
			fail_msg("value %zu came back as '%s'", i, val);
		/* The literal ends the statement: nothing else follows. */
		assert_int_equal(*end, '\n');
		assert_true(strncmp(end + 1, "\t$u = @(Get-LocalUser", 21) ==
		    0);
		free(val);
		free(got);
	}
}

static void
test_ssh_win_quote_exact_and_refusals(void **state)
{
	struct buf	b;
	char		*s = NULL, *cmd = NULL, big[4000];

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(ssh_win_quote(&b, "it's", 4), 0);
	assert_int_equal(ssh_win_quote(&b, "\xe2\x80\x99", 3), 0);
	assert_int_equal(ssh_win_quote(&b, "$x`\"", 4), 0);
	assert_string_equal(b.p, "'it''s'" "'\xe2\x80\x99\xe2\x80\x99'"
	    "'$x`\"'");
	buf_free(&b);
	/* NUL, bad UTF-8, overlong, surrogate, past U+10FFFF: refused. */
	buf_init(&b, 4096);
	assert_int_equal(ssh_win_quote(&b, "a\0b", 3), -EINVAL);
	assert_int_equal(ssh_win_quote(&b, "\xff", 1), -EINVAL);
	assert_int_equal(ssh_win_quote(&b, "\xc0\xa7", 2), -EINVAL);
	assert_int_equal(ssh_win_quote(&b, "\xed\xa0\x80", 3), -EINVAL);
	assert_int_equal(ssh_win_quote(&b, "\xf4\x90\x80\x80", 4), -EINVAL);
	assert_int_equal(ssh_win_quote(&b, "\xe2\x80", 2), -EINVAL);
	buf_free(&b);
	assert_int_equal(ssh_win_script_user_read("a\xc0\xa7", &s), -EINVAL);
	assert_null(s);
	/* cmd.exe's limit: a script too long is refused, not cut. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ssh_win_cmdline(big, &cmd), -E2BIG);
	assert_null(cmd);
	assert_int_equal(ssh_win_cmdline("\xff", &cmd), -EINVAL);
}

static void
test_ssh_win_account_names(void **state)
{
	static const char *const ok[] = { "Administrator", "o'brien",
	    "Jos\xc3\xa9", "two words", "svc$", "a.b-c_d", "x\xe2\x80\x99y",
	    "$(x)", "a`b", "12345678901234567890" };
	static const char *const bad[] = { "", "a;b", "a/b", "a\\b",
	    "a\"b", "a[b]", "a:b", "a|b", "a=b", "a,b", "a+b", "a*b", "a?b",
	    "a<b", "a>b", "...", "   ", "a\nb", "a\tb", "a\x7f",
	    "123456789012345678901", "\xff" };
	size_t	i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (!ssh_win_account_ok(ok[i]))
			fail_msg("'%s' refused", ok[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (ssh_win_account_ok(bad[i]))
			fail_msg("bad name %zu accepted", i);
}

/* The dispatch table offers exactly ssh.c's verbs, with the same rules. */
static void
test_ssh_win_dispatch_table_matches(void **state)
{
	const struct verb	*u, *o;
	size_t			 k;

	(void)state;
	for (u = ssh_verbs, o = ssh_os_verbs; u->name; u++, o++) {
		assert_non_null(o->name);
		assert_string_equal(u->name, o->name);
		assert_string_equal(u->summary, o->summary);
		assert_int_equal(u->atomic, o->atomic);
		assert_int_equal(u->undo == NULL, o->undo == NULL);
		assert_non_null(o->check);
		assert_non_null(o->apply);
		assert_non_null(o->verify);
		for (k = 0; k < ARRAY_SIZE(u->required_params); k++) {
			if (u->required_params[k] == NULL) {
				assert_null(o->required_params[k]);
				break;
			}
			assert_string_equal(u->required_params[k],
			    o->required_params[k]);
		}
	}
	assert_null(o->name);
}

static void
test_ssh_win_target_settings(void **state)
{
	char		 dir[] = "/tmp/cordon-win-XXXXXX", kh[128], kf[128];
	char		 err[256];
	struct target	 t = { 0 };
	ssh_key		 k = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(kh, sizeof(kh), "%s/known_hosts", dir);
	(void)snprintf(kf, sizeof(kf), "%s/key", dir);
	assert_int_equal(write_file_atomic(kh, "", 0, 0644), 0);
	assert_int_equal(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k),
	    SSH_OK);
	assert_int_equal(ssh_pki_export_privkey_file(k, NULL, NULL, NULL, kf),
	    SSH_OK);
	ssh_key_free(k);
	assert_int_equal(chmod(kf, 0600), 0);
	t.name = "win1";
	t.type = "ssh";
	t.opts = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "name", "win1",
	    "type", "ssh", "host", "10.0.0.5", "user", "cordon", "key_file",
	    kf, "known_hosts", kh, "os", "windows", "password_length", 20);
	assert_int_equal(ssh_win_os(&t, err, sizeof(err)), 1);
	assert_int_equal(ssh_win_target_check(&t, err, sizeof(err)), 0);
	/* Unix-only settings are refused for Windows. */
	(void)json_object_set_new(t.opts, "chpasswd", json_string("/x"));
	assert_int_equal(ssh_win_target_check(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown setting 'chpasswd'"));
	(void)json_object_del(t.opts, "chpasswd");
	(void)json_object_set_new(t.opts, "sudo", json_true());
	assert_int_equal(ssh_win_target_check(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'sudo'"));
	(void)json_object_del(t.opts, "sudo");
	(void)json_object_set_new(t.opts, "password_length",
	    json_integer(200));
	assert_int_equal(ssh_win_target_check(&t, err, sizeof(err)), -EINVAL);
	(void)json_object_set_new(t.opts, "password_length",
	    json_integer(24));
	(void)json_object_set_new(t.opts, "password_alphabet",
	    json_string("ab c"));
	assert_int_equal(ssh_win_target_check(&t, err, sizeof(err)), -EINVAL);
	(void)json_object_del(t.opts, "password_alphabet");
	/* os: only "windows" and "linux". */
	(void)json_object_set_new(t.opts, "os", json_string("linux"));
	assert_int_equal(ssh_win_os(&t, err, sizeof(err)), 0);
	(void)json_object_set_new(t.opts, "os", json_string("Windows"));
	assert_int_equal(ssh_win_os(&t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'os'"));
	json_decref(t.opts);
	(void)unlink(kf);
	(void)unlink(kh);
	(void)rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_win_user_read_exact),
		cmocka_unit_test(test_ssh_win_set_password_exact),
		cmocka_unit_test(test_ssh_win_enable_disable_exact),
		cmocka_unit_test(test_ssh_win_ak_scripts_exact),
		cmocka_unit_test(test_ssh_win_hostile_values_stay_one_literal),
		cmocka_unit_test(test_ssh_win_quote_exact_and_refusals),
		cmocka_unit_test(test_ssh_win_account_names),
		cmocka_unit_test(test_ssh_win_dispatch_table_matches),
		cmocka_unit_test(test_ssh_win_target_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
