/*
 * ssh_win_ps: the PowerShell side of Windows targets -- single-quoted
 * literals, the fixed scripts, and the -EncodedCommand line that carries
 * them past cmd.exe (ssh_win_ps.h).  Pure functions: no I/O.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ssh_win_ps.h"

#define SID_ADMINS		"S-1-5-32-544"
#define SID_SYSTEM		"S-1-5-18"

/* ---- quoting and encoding --------------------------------------------- */

/* The code point at s[*i]; -EINVAL for bad UTF-8 (overlong, surrogate). */
static int
utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *ret)
{
	uint32_t	cp;
	size_t		n, k;

	if (s[*i] < 0x80) {
		*ret = s[(*i)++];
		return 0;
	}
	if ((s[*i] & 0xe0) == 0xc0) {
		n = 1;
		cp = s[*i] & 0x1f;
	} else if ((s[*i] & 0xf0) == 0xe0) {
		n = 2;
		cp = s[*i] & 0x0f;
	} else if ((s[*i] & 0xf8) == 0xf0) {
		n = 3;
		cp = s[*i] & 0x07;
	} else
		return -EINVAL;
	if (*i + n >= len)
		return -EINVAL;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -EINVAL;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -EINVAL;
	*i += n + 1;
	*ret = cp;
	return 0;
}

/* ' and the Unicode single quotes PowerShell's tokenizer also accepts. */
static int
ps_single_quote(uint32_t cp)
{
	return cp == 0x27 || (cp >= 0x2018 && cp <= 0x201b);
}

int
ssh_win_quote(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, at;
	uint32_t		 cp;
	int			 r;

	if ((r = buf_addc(b, '\'')) != 0)
		return r;
	while (i < len) {
		at = i;
		if ((r = utf8_next(u, len, &i, &cp)) != 0)
			return r;
		if (cp == 0)
			return -EINVAL;
		/* A doubled quote is one literal quote of that kind. */
		if (ps_single_quote(cp) &&
		    (r = buf_add(b, s + at, i - at)) != 0)
			return r;
		if ((r = buf_add(b, s + at, i - at)) != 0)
			return r;
	}
	return buf_addc(b, '\'');
}

int
ssh_win_cmdline(const char *script, char **ret)
{
	static const char	 pfx[] = "powershell -NoProfile "
	    "-NonInteractive -EncodedCommand ";
	const unsigned char	*u = (const unsigned char *)script;
	size_t			 len = strlen(script), i = 0, n = 0;
	unsigned char		*w = NULL;
	uint32_t		 cp;
	char			*out = NULL;
	int			 r;

	/* At most two UTF-16 units (four bytes) per code point. */
	w = xmalloc(4 * len + 1);
	while (i < len) {
		if ((r = utf8_next(u, len, &i, &cp)) != 0)
			goto out;
		if (cp >= 0x10000) {
			uint32_t hi = 0xd800 + ((cp - 0x10000) >> 10);
			uint32_t lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);

			w[n++] = hi & 0xff;
			w[n++] = hi >> 8;
			w[n++] = lo & 0xff;
			w[n++] = lo >> 8;
		} else {
			w[n++] = cp & 0xff;
			w[n++] = cp >> 8;
		}
	}
	if (n / 2 > SSH_WIN_SCRIPT_MAX ||
	    sizeof(pfx) + 4 * ((n + 2) / 3) > SSH_WIN_CMD_MAX) {
		r = -E2BIG;
		goto out;
	}
	out = xmalloc(sizeof(pfx) + 4 * ((n + 2) / 3) + 1);
	memcpy(out, pfx, sizeof(pfx) - 1);
	(void)EVP_EncodeBlock((unsigned char *)out + sizeof(pfx) - 1, w,
	    (int)n);
	*ret = out;
	out = NULL;
	r = 0;
out:
	free(w);
	free(out);
	return r;
}

int
ssh_win_account_ok(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i = 0, nch = 0;
	uint32_t		 cp;
	int			 other = 0;

	if (s == NULL || (len = strlen(s)) == 0 || len > 4 *
	    SSH_WIN_ACCOUNT_MAX)
		return 0;
	while (i < len) {
		if (utf8_next(u, len, &i, &cp) != 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp < 0xa0) || (cp < 0x80 &&
		    strchr("\"/\\[]:;|=,+*?<>", (int)cp) != NULL))
			return 0;
		other |= cp != '.' && cp != ' ';
		nch++;
	}
	return other && nch <= SSH_WIN_ACCOUNT_MAX;
}

/* ---- scripts ---------------------------------------------------------- */

static const char win_pre[] =
    "$ErrorActionPreference = 'Stop'\n"
    "$ProgressPreference = 'SilentlyContinue'\n"
    "try {\n";

static const char win_post[] =
    "} catch {\n"
    "\t[Console]::Error.WriteLine($_.Exception.Message)\n"
    "\texit 1\n"
    "}\n";

/* $u: the one local account named $n, compared as Windows does. */
static const char win_user[] =
    "\t$u = @(Get-LocalUser | Where-Object { $_.Name -eq $n })\n"
    "\tif ($u.Count -ne 1) {\n"
    "\t\t[Console]::Error.WriteLine('no such local account')\n"
    "\t\texit 2\n"
    "\t}\n"
    "\t$u = $u[0]\n";

static const char win_user_read[] =
    "\t'enabled=' + $u.Enabled\n"
    "\t'sid=' + $u.SID.Value\n"
    "\tif ($u.PasswordLastSet) {\n"
    "\t\t'pwlastset=' + "
    "$u.PasswordLastSet.ToUniversalTime().ToString('o')\n"
    "\t} else {\n"
    "\t\t'pwlastset='\n"
    "\t}\n";

/* One character at a time: the password never becomes a string. */
static const char win_set_password[] =
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
    "\t$p.Dispose()\n";

static const char win_ak_read[] =
    "\t$m = @(Get-LocalGroupMember -SID '" SID_ADMINS "' | "
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
    "\t}\n";

/*
 * The ACL is set on the temporary file before it replaces the old one,
 * so the file sshd reads never has a looser one.  ReplaceFile keeps the
 * replaced file's DACL, hence the second icacls and the removal of any
 * other entry: only Administrators and SYSTEM remain.
 */
static const char win_ak_write[] =
    "\t$b = [Convert]::FromBase64String([Console]::In.ReadToEnd().Trim())\n"
    "\t$t = $f + '.cordon-' + [IO.Path]::GetRandomFileName()\n"
    "\ttry {\n"
    "\t\t[IO.File]::WriteAllBytes($t, $b)\n"
    "\t\t& icacls.exe $t /inheritance:r /grant '*" SID_ADMINS ":F' "
    "/grant '*" SID_SYSTEM ":F' | Out-Null\n"
    "\t\tif ($LASTEXITCODE -ne 0) { throw 'icacls failed on the new "
    "file' }\n"
    "\t\tif (Test-Path -LiteralPath $f) {\n"
    "\t\t\t[IO.File]::Replace($t, $f, [NullString]::Value)\n"
    "\t\t} else {\n"
    "\t\t\t[IO.File]::Move($t, $f)\n"
    "\t\t}\n"
    "\t\t& icacls.exe $f /inheritance:r /grant '*" SID_ADMINS ":F' "
    "/grant '*" SID_SYSTEM ":F' | Out-Null\n"
    "\t\tif ($LASTEXITCODE -ne 0) { throw 'icacls failed' }\n"
    "\t\tforeach ($r in (Get-Acl -LiteralPath $f).GetAccessRules($true, "
    "$true, [Security.Principal.SecurityIdentifier])) {\n"
    "\t\t\t$s = $r.IdentityReference.Value\n"
    "\t\t\tif ($s -ne '" SID_ADMINS "' -and $s -ne '" SID_SYSTEM "') {\n"
    "\t\t\t\t& icacls.exe $f /remove ('*' + $s) | Out-Null\n"
    "\t\t\t\tif ($LASTEXITCODE -ne 0) { throw 'icacls could not remove "
    "an entry' }\n"
    "\t\t\t}\n"
    "\t\t}\n"
    "\t} finally {\n"
    "\t\tif (Test-Path -LiteralPath $t) { Remove-Item -LiteralPath $t "
    "-Force }\n"
    "\t}\n";

static const char win_ak_remove[] =
    "\tif (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f "
    "-Force }\n";

/*
 * pre, "$var = 'value'" lines (NULL-terminated pairs), the account
 * lookup when user, body, post.
 */
static int
script(char **ret, int user, const char *body, const char *const *vars)
{
	struct buf	b;
	int		r;

	buf_init(&b, 4 * SSH_WIN_SCRIPT_MAX);
	r = buf_adds(&b, win_pre);
	for (; r == 0 && vars && vars[0]; vars += 2)
		if ((r = buf_printf(&b, "\t$%s = ", vars[0])) != 0 ||
		    (r = ssh_win_quote(&b, vars[1], strlen(vars[1]))) != 0 ||
		    (r = buf_addc(&b, '\n')) != 0)
			break;
	if (r == 0 && user)
		r = buf_adds(&b, win_user);
	if (r == 0 && (r = buf_adds(&b, body)) == 0)
		r = buf_adds(&b, win_post);
	if (r == 0)
		*ret = buf_steal(&b);
	buf_free(&b);
	return r;
}

int
ssh_win_script_user_read(const char *acct, char **ret)
{
	const char	*v[] = { "n", acct, NULL };

	return script(ret, 1, win_user_read, v);
}

int
ssh_win_script_set_password(const char *acct, char **ret)
{
	const char	*v[] = { "n", acct, NULL };

	return script(ret, 1, win_set_password, v);
}

int
ssh_win_script_set_enabled(const char *acct, int enable, char **ret)
{
	const char	*v[] = { "n", acct, NULL };

	return script(ret, 1, enable ? "\tEnable-LocalUser -InputObject $u\n" :
	    "\tDisable-LocalUser -InputObject $u\n", v);
}

int
ssh_win_script_ak_read(const char *acct, char **ret)
{
	const char	*v[] = { "n", acct, "f", SSH_WIN_AK_PATH, NULL };

	return script(ret, 1, win_ak_read, v);
}

int
ssh_win_script_ak_write(char **ret)
{
	const char	*v[] = { "f", SSH_WIN_AK_PATH, NULL };

	return script(ret, 0, win_ak_write, v);
}

int
ssh_win_script_ak_remove(char **ret)
{
	const char	*v[] = { "f", SSH_WIN_AK_PATH, NULL };

	return script(ret, 0, win_ak_remove, v);
}
