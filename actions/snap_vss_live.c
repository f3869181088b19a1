/*
 * snap_vss_live: the vss back end's live-side scripts and their parsing
 * (snap_vss_live.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/util.h"
#include "snap_vss.h"
#include "snap_vss_live.h"

#define VSS_LIVE_MAX	(16 * 1024)
#define VSS_STAGED_SFX	".cordon-restore-A"
#define VSS_HASH_LEN	64

static const char head[] =
    "$ErrorActionPreference = 'Stop'\n"
    "[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false\n";

/* Shared functions: fail, exists, is a reparse point. */
static const char fn_base[] =
    "function E($m, $c) { [Console]::Error.WriteLine($m); exit $c }\n"
    "function Ex($p) { [IO.Directory]::Exists($p) -or "
    "[IO.File]::Exists($p) }\n"
    "function Rp($p) { ([IO.File]::GetAttributes($p) -band 1024) -ne 0 }\n";

/*
 * Wk: from $c down the components of $w, refusing a reparse point; a
 * missing one is exit 4, except the last when $l.
 */
static const char fn_walk[] =
    "function Wk($c, $w, $l) { $a = $w.Split('\\')\n"
    " for ($i = 0; $i -lt $a.Length; $i++) { $c += '\\' + $a[$i]\n"
    "  if (-not (Ex $c)) { if ($l -and $i -eq $a.Length - 1) { return }\n"
    "   E 'a folder on the way does not exist' 4 }\n"
    "  if (Rp $c) { E 'path goes through a junction or symbolic link' 5 }"
    " } }\n";

/* W: the manifest lines of $p, SHA-256 when $h (F: one file's line). */
static const char fn_tree[] =
    "function F($i, $n, $h) { $x = '-'\n"
    " if ($h) { $s = $i.OpenRead()\n"
    "  try { $x = (Get-FileHash -InputStream $s -Algorithm SHA256).Hash }"
    " finally { $s.Dispose() } }\n"
    " 'f|' + $i.Length + '|' + $x + '|' + $n }\n"
    "function W($p, $h) {\n"
    " if ([IO.File]::Exists($p)) { $i = New-Object IO.FileInfo $p\n"
    "  F $i $i.Name $h; return }\n"
    " $q = New-Object Collections.Queue; $q.Enqueue('')\n"
    " while ($q.Count) { $r = $q.Dequeue()\n"
    "  foreach ($i in (New-Object IO.DirectoryInfo ($p + $r))."
    "GetFileSystemInfos()) {\n"
    "   $n = $r + '\\' + $i.Name; $m = $n.Substring(1)\n"
    "   if ($i.Attributes -band 1024) { 'o|' + $m }\n"
    "   elseif ($i -is [IO.DirectoryInfo]) { 'd|' + $m; $q.Enqueue($n) }\n"
    "   else { F $i $m $h } } } }\n";

static const char body_inspect[] =
    "if (-not [IO.Directory]::Exists($root)) { E 'root does not exist' 3 }\n"
    "Wk $drv $below 1\n"
    "$live = $drv + '\\' + $below\n"
    "$d = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "
    "(\"DeviceID='\" + $drv + \"'\")\n"
    "'exists=' + [int](Ex $live)\n"
    "'avail=' + $d.FreeSpace\n"
    "'staged=' + [int](Ex ($live + $sfx))\n";

static const char body_probe[] =
    "Wk $dev $below 0\n"
    "$c = $dev + '\\' + $below\n"
    "$b = 0; $o = 0\n"
    "foreach ($l in (W $c 0)) { if ($l[0] -eq 'f') { "
    "$b += [long]$l.Split('|')[1] } elseif ($l[0] -eq 'o') { $o++ } }\n"
    "'dir=' + [int][IO.Directory]::Exists($c)\n"
    "'bytes=' + $b\n"
    "'links=' + $o\n";

static const char body_manifest[] =
    "if (-not (Ex $p)) { E 'not a file or directory' 4 }\n"
    "if (Rp $p) { E 'is a junction or symbolic link' 5 }\n"
    "W $p 1\n";

static const char body_remove[] =
    "if ($p -notmatch '\\.cordon-restore-A[0-9]+$') { "
    "E 'not a staging copy' 7 }\n"
    "if (-not (Ex $p)) { exit 0 }\n"
    "if (Rp $p) { E 'is a junction or symbolic link' 5 }\n"
    "foreach ($l in (W $p 0)) { if ($l[0] -eq 'o') { E 'holds a junction "
    "or symbolic link: remove it by hand' 5 } }\n"
    "Remove-Item -LiteralPath $p -Recurse -Force\n";

int
vss_root_ok(const char *volume, const char *root, const char **why)
{
	const char	*rwhy;
	char		 tmp[SNAP_PATH_MAX];
	size_t		 n;

	*why = "'volume' must be a drive root such as \"C:\\\\\"";
	if (volume == NULL || !vss_drive_ok(volume, strlen(volume)))
		return 0;
	*why = "'root' must be an absolute folder on the volume, such as "
	    "\"C:\\\\Data\", without '..', wildcards or control characters";
	if (root == NULL || (n = strlen(root)) < 3 || !vss_drive_ok(root, 3) ||
	    toupper((unsigned char)root[0]) !=
	    toupper((unsigned char)volume[0]) || n >= SNAP_PATH_MAX / 2)
		return 0;
	return n == 3 || vss_rel_norm(root + 3, n - 3, tmp, sizeof(tmp),
	    &rwhy) == 0;
}

int
vss_where(const char *root, const char *rel, struct vss_where *w,
    const char **why)
{
	char	rp[SNAP_PATH_MAX];
	size_t	n = strlen(root);
	int	r;

	memset(w, 0, sizeof(*w));
	*why = "is not on the volume";
	if (n < 3 || !vss_drive_ok(root, 3))
		return -EINVAL;
	w->drive[0] = (char)toupper((unsigned char)root[0]);
	w->drive[1] = ':';
	rp[0] = '\0';
	if (n > 3 && (r = vss_rel_norm(root + 3, n - 3, rp, sizeof(rp),
	    why)) != 0)
		return r;
	*why = "is too long";
	if (snap_fmt(w->root, sizeof(w->root), "%s%s%s", w->drive,
	    rp[0] ? "\\" : "", rp) != 0 ||
	    snap_fmt(w->below, sizeof(w->below), "%s%s%s", rp,
	    rp[0] ? "\\" : "", rel) != 0)
		return -ENAMETOOLONG;
	return 0;
}

int
vss_abs_ok(const char *p)
{
	char		 tmp[SNAP_PATH_MAX];
	const char	*why, *bs;
	size_t		 n = strlen(p);

	if (n > 3 && vss_drive_ok(p, 3))
		return vss_rel_norm(p + 3, n - 3, tmp, sizeof(tmp), &why) == 0;
	/* \\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN\REL */
	if (n < 4 || strncmp(p, "\\\\?\\", 4) != 0 ||
	    (bs = strchr(p + 4, '\\')) == NULL ||
	    (bs = strchr(bs + 1, '\\')) == NULL ||
	    (bs = strchr(bs + 1, '\\')) == NULL)
		return 0;
	return vss_dev_ok(p, (size_t)(bs - p)) && vss_rel_norm(bs + 1,
	    strlen(bs + 1), tmp, sizeof(tmp), &why) == 0;
}

int
vss_staged_ok(const char *p)
{
	const char	*s = strstr(p, VSS_STAGED_SFX), *q;

	if (!vss_abs_ok(p))
		return 0;
	/* The last occurrence, then only digits. */
	while (s && (q = strstr(s + 1, VSS_STAGED_SFX)) != NULL)
		s = q;
	if (s == NULL || s[sizeof(VSS_STAGED_SFX) - 1] == '\0')
		return 0;
	for (q = s + sizeof(VSS_STAGED_SFX) - 1; *q; q++)
		if (*q < '0' || *q > '9')
			return 0;
	return 1;
}

/* head, $name = 'value' per pair (NULL-ended), functions, body. */
static int
script(char **ret, const char *const *vars, const char *fns1,
    const char *fns2, const char *body, const char **why)
{
	struct buf	b;
	size_t		i;
	int		r;

	buf_init(&b, VSS_LIVE_MAX);
	if ((r = buf_adds(&b, head)) != 0)
		goto out;
	for (i = 0; vars[i]; i += 2)
		if ((r = buf_printf(&b, "$%s = ", vars[i])) != 0 ||
		    (r = vss_ps_literal(&b, vars[i + 1],
		    strlen(vars[i + 1]))) != 0 || (r = buf_addc(&b,
		    '\n')) != 0) {
			*why = "holds characters that cannot be quoted";
			goto out;
		}
	if ((r = buf_adds(&b, fn_base)) != 0 || (fns1 && (r = buf_adds(&b,
	    fns1)) != 0) || (fns2 && (r = buf_adds(&b, fns2)) != 0) ||
	    (r = buf_adds(&b, body)) != 0)
		goto out;
	*ret = buf_steal(&b);
	return 0;
out:
	if (r == -E2BIG)
		*why = "is too long";
	buf_free(&b);
	return r;
}

int
vss_inspect_script(const struct vss_where *w, const char *sfx, char **ret,
    const char **why)
{
	/* "C:" alone is the drive's current folder to .NET: "C:\\". */
	char		 dr[4] = { w->drive[0], ':', '\\', '\0' };
	const char	*v[] = { "root", w->root[2] ? w->root : dr, "drv",
	    w->drive, "below", w->below, "sfx", sfx, NULL };
	char		 tmp[SNAP_PATH_MAX];

	if (!vss_drive_ok(w->drive, 2) || vss_rel_norm(w->below,
	    strlen(w->below), tmp, sizeof(tmp), why) != 0 ||
	    strcmp(tmp, w->below) != 0 || strncmp(w->root, w->drive, 2) != 0) {
		*why = "is not a canonical path on the volume";
		return -EINVAL;
	}
	return script(ret, v, fn_walk, NULL, body_inspect, why);
}

int
vss_probe_script(const char *dev, const char *below, char **ret,
    const char **why)
{
	const char	*v[] = { "dev", dev, "below", below, NULL };
	char		 tmp[SNAP_PATH_MAX];

	if (!vss_dev_ok(dev, strlen(dev))) {
		*why = "is not a shadow copy device";
		return -EINVAL;
	}
	if (vss_rel_norm(below, strlen(below), tmp, sizeof(tmp), why) != 0 ||
	    strcmp(tmp, below) != 0) {
		*why = "is not a canonical path inside the shadow copy";
		return -EINVAL;
	}
	return script(ret, v, fn_walk, fn_tree, body_probe, why);
}

int
vss_manifest_script(const char *path, char **ret, const char **why)
{
	const char	*v[] = { "p", path, NULL };

	if (!vss_abs_ok(path)) {
		*why = "is not an absolute path on a volume or shadow copy";
		return -EINVAL;
	}
	return script(ret, v, fn_tree, NULL, body_manifest, why);
}

int
vss_remove_script(const char *path, char **ret, const char **why)
{
	const char	*v[] = { "p", path, NULL };

	if (!vss_staged_ok(path) || strncmp(path, "\\\\", 2) == 0) {
		*why = "is not a staging copy this driver made";
		return -EINVAL;
	}
	return script(ret, v, fn_tree, NULL, body_remove, why);
}

/* The next line of [*p, end) without its CR/LF; 0 at the end. */
static int
line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char	*nl;
	size_t		 n;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	n = (size_t)((nl ? nl : end) - *p);
	*ret = *p;
	if (n > 0 && (*p)[n - 1] == '\r')
		n--;
	*ret_len = n;
	*p = nl ? nl + 1 : end;
	return 1;
}

int
vss_parse_kv(const char *out, size_t len, const char *key, long long *ret)
{
	const char	*p = out, *l;
	size_t		 n, kl = strlen(key), i;
	long long	 v;

	while (line(&p, out + len, &l, &n))
		if (n > kl + 1 && memcmp(l, key, kl) == 0 && l[kl] == '=') {
			if (n - kl - 1 > 18)
				return -EPROTO;
			for (v = 0, i = kl + 1; i < n; i++) {
				if (l[i] < '0' || l[i] > '9')
					return -EPROTO;
				v = v * 10 + (l[i] - '0');
			}
			*ret = v;
			return 0;
		}
	return -EPROTO;
}

static int
rec_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* "f SIZE HASH NAME" made from "f|SIZE|HASH|NAME"; NULL if not one. */
static char *
rec_of(const char *l, size_t n)
{
	const char	*b1, *b2;
	size_t		 i, k;
	char		*s;

	if (n < 3 || l[1] != '|' || memchr(l, '\0', n) != NULL)
		return NULL;
	if (l[0] == 'd' || l[0] == 'o') {
		if (memchr(l + 2, '|', n - 2) != NULL)
			return NULL;
		s = xmalloc(n + 1);
		memcpy(s, l, n);
		s[1] = ' ';
		s[n] = '\0';
		return s;
	}
	if (l[0] != 'f' || (b1 = memchr(l + 2, '|', n - 2)) == NULL ||
	    (b2 = memchr(b1 + 1, '|', n - (size_t)(b1 + 1 - l))) == NULL ||
	    b1 == l + 2 || b1 - l - 2 > 18 || (size_t)(b2 - b1 - 1) !=
	    VSS_HASH_LEN || b2 + 1 == l + n ||
	    memchr(b2 + 1, '|', n - (size_t)(b2 + 1 - l)) != NULL)
		return NULL;
	for (i = 2; l + i < b1; i++)
		if (l[i] < '0' || l[i] > '9')
			return NULL;
	for (k = 0; k < VSS_HASH_LEN; k++)
		if (!isxdigit((unsigned char)b1[1 + k]))
			return NULL;
	s = xmalloc(n + 1);
	memcpy(s, l, n);
	s[n] = '\0';
	s[1] = s[b1 - l] = s[b2 - l] = ' ';
	for (k = 0; k < VSS_HASH_LEN; k++)
		s[b1 - l + 1 + (ptrdiff_t)k] = (char)tolower((unsigned char)
		    s[b1 - l + 1 + (ptrdiff_t)k]);
	return s;
}

int
vss_parse_manifest(const char *out, size_t len, char **ret,
    size_t *ret_len, char *err, size_t errlen)
{
	const char	*p = out, *l;
	char		**v = NULL, *h;
	struct buf	 b;
	size_t		 n = 0, ll, i, k;
	int		 r = 0;

	buf_init(&b, 2 * len + 16);
	while (line(&p, out + len, &l, &ll)) {
		if (ll == 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		if ((v[n] = rec_of(l, ll)) == NULL) {
			(void)snprintf(err, errlen, "unexpected line %zu in "
			    "the manifest", n + 1);
			r = -EPROTO;
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), rec_cmp);
	/* Entries without hashes, "#", then "HASH  NAME" per file. */
	for (i = 0; i < n && r == 0; i++) {
		if (v[i][0] != 'f') {
			r = buf_add(&b, v[i], strlen(v[i]) + 1);
			continue;
		}
		h = strchr(v[i] + 2, ' ');
		if ((r = buf_add(&b, v[i], (size_t)(h - v[i]))) == 0)
			r = buf_add(&b, h + 1 + VSS_HASH_LEN,
			    strlen(h + 1 + VSS_HASH_LEN) + 1);
	}
	if (r == 0)
		r = buf_add(&b, "#", 2);
	for (i = 0; i < n && r == 0; i++) {
		if (v[i][0] != 'f')
			continue;
		h = strchr(v[i] + 2, ' ') + 1;
		k = strlen(h + VSS_HASH_LEN + 1);
		if ((r = buf_add(&b, h, VSS_HASH_LEN)) == 0 &&
		    (r = buf_add(&b, "  ", 2)) == 0)
			r = buf_add(&b, h + VSS_HASH_LEN + 1, k + 1);
	}
	if (r != 0) {
		(void)snprintf(err, errlen, "manifest too large");
		goto out;
	}
	*ret_len = b.len;
	*ret = buf_steal(&b);
out:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	buf_free(&b);
	return r;
}
