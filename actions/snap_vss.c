/*
 * snap_vss: Windows shadow-copy commands and their parsing (snap_vss.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../agent/util.h"
#include "snap_vss.h"

#define VSS_SCRIPT_MAX	(16 * 1024)
#define VSS_PREFIX	"powershell.exe -NoProfile -NonInteractive " \
			"-ExecutionPolicy Bypass -EncodedCommand "
#define VSS_DEV_PREFIX	"\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy"

/* One UTF-8 sequence at s (n bytes left): its code point and length. */
static int
utf8_next(const unsigned char *s, size_t n, unsigned *cp, size_t *len)
{
	size_t	k, i;
	unsigned c;

	if (s[0] < 0x80) {
		*cp = s[0];
		*len = 1;
		return 0;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		k = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		k = 4;
		c = s[0] & 0x07;
	} else
		return -EINVAL;
	if (n < k)
		return -EINVAL;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EINVAL;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF are not text. */
	if ((k == 2 && c < 0x80) || (k == 3 && c < 0x800) ||
	    (k == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -EINVAL;
	*cp = c;
	*len = k;
	return 0;
}

int
vss_ps_literal(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, k;
	unsigned		 cp;
	int			 r;

	if ((r = buf_addc(b, '\'')) != 0)
		return r;
	for (i = 0; i < len; i += k) {
		if (utf8_next(p + i, len - i, &cp, &k) != 0 || cp < 0x20 ||
		    cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return -EINVAL;
		/* PowerShell ends a literal at any of these quotes. */
		if (cp == '\'' || (cp >= 0x2018 && cp <= 0x201b))
			if ((r = buf_add(b, p + i, k)) != 0)
				return r;
		if ((r = buf_add(b, p + i, k)) != 0)
			return r;
	}
	return buf_addc(b, '\'');
}

int
vss_encoded_cmd(const char *script, char **ret)
{
	const unsigned char	*p = (const unsigned char *)script;
	size_t			 n = strlen(script), i, k, u = 0;
	unsigned char		*w;
	unsigned		 cp;
	char			*out;

	if (n > VSS_SCRIPT_MAX)
		return -E2BIG;
	w = xmalloc(4 * n + 4);
	for (i = 0; i < n; i += k) {
		if (utf8_next(p + i, n - i, &cp, &k) != 0) {
			free(w);
			return -EINVAL;
		}
		if (cp >= 0x10000) {
			unsigned hi = 0xd800 + ((cp - 0x10000) >> 10);
			unsigned lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);

			w[u++] = hi & 0xff;
			w[u++] = hi >> 8;
			cp = lo;
		}
		w[u++] = cp & 0xff;
		w[u++] = cp >> 8;
	}
	out = xmalloc(sizeof(VSS_PREFIX) + 4 * ((u + 2) / 3) + 1);
	memcpy(out, VSS_PREFIX, sizeof(VSS_PREFIX) - 1);
	(void)EVP_EncodeBlock((unsigned char *)out + sizeof(VSS_PREFIX) - 1,
	    w, (int)u);
	free(w);
	*ret = out;
	return 0;
}

int
vss_decode_cmd(const char *cmdline, char **ret)
{
	const char	*b64;
	unsigned char	*w;
	size_t		 n, i, o = 0;
	int		 len, pad = 0;
	char		*out;

	if (strncmp(cmdline, VSS_PREFIX, sizeof(VSS_PREFIX) - 1) != 0)
		return -EINVAL;
	b64 = cmdline + sizeof(VSS_PREFIX) - 1;
	n = strlen(b64);
	if (n == 0 || n % 4 != 0 || n > 4 * VSS_SCRIPT_MAX)
		return -EINVAL;
	pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
	w = xmalloc(n);
	if ((len = EVP_DecodeBlock(w, (const unsigned char *)b64,
	    (int)n)) < 0 || (len - pad) % 2 != 0) {
		free(w);
		return -EINVAL;
	}
	len -= pad;
	out = xmalloc((size_t)len * 2 + 1);
	for (i = 0; i + 1 < (size_t)len; i += 2) {
		unsigned c = w[i] | (unsigned)w[i + 1] << 8;

		if (c >= 0xd800 && c <= 0xdbff && i + 3 < (size_t)len) {
			unsigned lo = w[i + 2] | (unsigned)w[i + 3] << 8;

			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		if (c < 0x80)
			out[o++] = (char)c;
		else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | c >> 18);
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = '\0';
	free(w);
	*ret = out;
	return 0;
}

/*
 * A relative Windows path made canonical in out ('\' separated): no
 * empty result, no "..", no ':' (streams, drives), no wildcards (robocopy
 * reads its file argument as a pattern), no "<>|\"", no component ending
 * in '.' or ' ' (Windows drops those: two names, one file).
 */
int
vss_rel_norm(const char *in, size_t len, char *out, size_t outlen,
    const char **why)
{
	size_t	i = 0, o = 0, n;

	*why = "must be a relative path inside the volume";
	if (len == 0 || strlen(in) != len) {
		*why = len ? "holds a NUL byte" : "is empty";
		return -EINVAL;
	}
	if (in[0] == '/' || in[0] == '\\')
		return -EINVAL;
	while (i < len) {
		n = strcspn(in + i, "/\\");
		if (n == 2 && in[i] == '.' && in[i + 1] == '.') {
			*why = "holds '..'";
			return -EINVAL;
		}
		if (n > 255) {
			*why = "has a component longer than 255 bytes";
			return -EINVAL;
		}
		if (n > 0 && !(n == 1 && in[i] == '.')) {
			if (in[i + n - 1] == '.' || in[i + n - 1] == ' ') {
				*why = "has a name ending in '.' or ' '";
				return -EINVAL;
			}
			if (o + n + 2 > outlen)
				return -ENAMETOOLONG;
			if (o > 0)
				out[o++] = '\\';
			memcpy(out + o, in + i, n);
			o += n;
		}
		i += n;
		if (i < len)
			i++;
	}
	out[o] = '\0';
	for (i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    strchr(":*?\"<>|", out[i])) {
			*why = "holds a control character or one of :*?\"<>|";
			return -EINVAL;
		}
	if (o == 0) {
		*why = "names the volume root";
		return -EINVAL;
	}
	return 0;
}

int
vss_drive_ok(const char *s, size_t len)
{
	return len >= 2 && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' &&
	    s[0] <= 'z')) && s[1] == ':' && (len == 2 || (len == 3 &&
	    (s[2] == '\\' || s[2] == '/')));
}

/* $name = 'value' followed by a newline, into b. */
static int
ps_set(struct buf *b, const char *name, const char *v, size_t len)
{
	int	r;

	if ((r = buf_printf(b, "$%s = ", name)) != 0 ||
	    (r = vss_ps_literal(b, v, len)) != 0)
		return r;
	return buf_addc(b, '\n');
}

int
vss_list_script(const char *volume, size_t len, char **ret,
    const char **why)
{
	struct buf	b;
	char		root[4];
	int		r;

	*why = "must be a drive root such as C:\\";
	if (strlen(volume) != len || !vss_drive_ok(volume, len))
		return -EINVAL;
	(void)snprintf(root, sizeof(root), "%c:\\", volume[0]);
	buf_init(&b, VSS_SCRIPT_MAX);
	if ((r = buf_adds(&b, "$ErrorActionPreference = 'Stop'\n")) != 0 ||
	    (r = ps_set(&b, "root", root, 3)) != 0 ||
	    (r = buf_adds(&b,
	    "$vol = Get-CimInstance -ClassName Win32_Volume | "
	    "Where-Object { $_.Name -eq $root }\n"
	    "if ($null -eq $vol) { [Console]::Error.WriteLine("
	    "'no such volume'); exit 4 }\n"
	    "Get-CimInstance -ClassName Win32_ShadowCopy | "
	    "Where-Object { $_.VolumeName -eq $vol.DeviceID } | "
	    "ForEach-Object { '{0}|{1}|{2}' -f $_.ID, "
	    "$_.InstallDate.ToUniversalTime().ToString('u'), "
	    "$_.DeviceObject }\n")) != 0) {
		buf_free(&b);
		return r;
	}
	*ret = buf_steal(&b);
	return 0;
}

/* "{8-4-4-4-12 hex}" */
static int
guid_ok(const char *s, size_t n)
{
	static const char	shape[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	size_t			i;

	if (n != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'x' ? !strchr("0123456789abcdefABCDEF", s[i]) ||
		    s[i] == '\0' : s[i] != shape[i])
			return 0;
	return 1;
}

int
vss_dev_ok(const char *s, size_t n)
{
	size_t	k = sizeof(VSS_DEV_PREFIX) - 1, i;

	if (n <= k || n >= VSS_DEV_MAX || strncmp(s, VSS_DEV_PREFIX, k) != 0)
		return 0;
	for (i = k; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
vss_parse_list(const char *out, size_t len, struct vss_copy **ret,
    size_t *ret_n, char *err, size_t errlen)
{
	struct vss_copy	*v = NULL;
	const char	*p = out, *end = out + len, *nl, *b1, *b2;
	char		 tm[64];
	size_t		 n = 0, ll;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = (size_t)((nl ? nl : end) - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			goto next;
		if (n == SNAP_LIST_MAX) {
			(void)snprintf(err, errlen, "more than %d shadow "
			    "copies", SNAP_LIST_MAX);
			free(v);
			return -E2BIG;
		}
		b1 = memchr(p, '|', ll);
		b2 = b1 ? memchr(b1 + 1, '|', ll - (size_t)(b1 + 1 - p)) :
		    NULL;
		v = xreallocarray(v, n + 1, sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		if (b2 == NULL || !guid_ok(p, (size_t)(b1 - p)) ||
		    (size_t)(b2 - b1 - 1) >= sizeof(tm) ||
		    !vss_dev_ok(b2 + 1, ll - (size_t)(b2 + 1 - p))) {
			(void)snprintf(err, errlen, "unexpected line %zu in "
			    "the shadow copy list", n + 1);
			free(v);
			return -EPROTO;
		}
		memcpy(v[n].s.id, p, (size_t)(b1 - p));
		memcpy(tm, b1 + 1, (size_t)(b2 - b1 - 1));
		tm[b2 - b1 - 1] = '\0';
		memcpy(v[n].dev, b2 + 1, ll - (size_t)(b2 + 1 - p));
		if (snap_parse_time(tm, &v[n].s.at) != 0) {
			(void)snprintf(err, errlen, "shadow copy %s: "
			    "unreadable time", v[n].s.id);
			free(v);
			return -EPROTO;
		}
		v[n].s.readonly = 1;	/* shadow copies are read-only */
		n++;
next:
		p = nl ? nl + 1 : end;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/*
 * The copy goes to $dst.part first.  That name is predictable, so a
 * leftover one may be a junction someone planted: clearing it with
 * Remove-Item -Recurse as an administrator would delete its target.  It
 * is never removed here; the operator removes it after a look.  The new
 * one is made by this script, refused if it turned out a reparse point,
 * and limited to Administrators and SYSTEM (not inherited) before
 * anything is copied into it, so the staged copy is never readable by
 * more people than its parent folder lets in; robocopy /COPY:DATS keeps
 * each file's own ACL.
 */
#define VSS_PART_SH \
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

int
vss_restore_script(const struct vss_copy *c, const char *rel,
    size_t rel_len, const char *staging, size_t staging_len, int is_dir,
    char **ret, const char **why)
{
	char		 r1[SNAP_PATH_MAX], st[SNAP_PATH_MAX];
	char		 src[SNAP_PATH_MAX + VSS_DEV_MAX];
	const char	*name = NULL;
	struct buf	 b;
	char		*slash;
	int		 r;

	if (!vss_dev_ok(c->dev, strlen(c->dev))) {
		*why = "is not a shadow copy device";
		return -EINVAL;
	}
	if ((r = vss_rel_norm(rel, rel_len, r1, sizeof(r1), why)) != 0)
		return r;
	if (strlen(staging) != staging_len || staging_len < 4 ||
	    !vss_drive_ok(staging, 3) || vss_rel_norm(staging + 3,
	    staging_len - 3, st + 3, sizeof(st) - 3, why) != 0) {
		*why = "staging must be an absolute path such as D:\\restore "
		    "without '..', wildcards or control characters";
		return -EINVAL;
	}
	st[0] = staging[0];
	st[1] = ':';
	st[2] = '\\';
	/* A file: robocopy takes its folder and its name. */
	if (!is_dir && (slash = strrchr(r1, '\\')) != NULL) {
		*slash = '\0';
		name = slash + 1;
	} else if (!is_dir)
		name = r1;
	if (snap_fmt(src, sizeof(src), "%s%s%s", c->dev, name == r1 ? "" :
	    "\\", name == r1 ? "" : r1) != 0)
		return -ENAMETOOLONG;
	buf_init(&b, VSS_SCRIPT_MAX);
	if ((r = buf_adds(&b, "$ErrorActionPreference = 'Stop'\n")) != 0 ||
	    (r = ps_set(&b, "src", src, strlen(src))) != 0 ||
	    (r = ps_set(&b, "dst", st, strlen(st))) != 0 ||
	    (name && (r = ps_set(&b, "name", name, strlen(name))) != 0) ||
	    (r = buf_adds(&b,
	    "if (Test-Path -LiteralPath $dst) { [Console]::Error.WriteLine("
	    "'destination exists'); exit 6 }\n"
	    VSS_PART_SH)) != 0 ||
	    (r = buf_adds(&b, name ?
	    "& robocopy.exe $src $part $name /XJ /COPY:DATS /R:1 /W:1 /NP "
	    "/NJH /NJS /NFL /NDL\n" :
	    "& robocopy.exe $src $part /E /XJ /COPY:DATS /DCOPY:DAT /R:1 "
	    "/W:1 /NP /NJH /NJS /NFL /NDL\n")) != 0 ||
	    (r = buf_adds(&b, "if ($LASTEXITCODE -ge 8) { exit $LASTEXITCODE "
	    "}\nRename-Item -LiteralPath $part -NewName "
	    "([IO.Path]::GetFileName($dst))\nexit 0\n")) != 0) {
		buf_free(&b);
		*why = "holds characters that cannot be quoted";
		return r;
	}
	*ret = buf_steal(&b);
	return 0;
}
