/*
 * snap_vss_be: the snapshot back end "vss", Windows Volume Shadow Copies
 * over SSH (snap.h).
 *
 * Settings: volume (the drive whose shadow copies are read, "C:\") and
 * root (an absolute folder on that volume, "C:\Data"); the runbook's
 * path is relative to root.  sudo does not apply: the login must be an
 * administrator.  Every command is one PowerShell script run as
 * `powershell.exe ... -EncodedCommand` on one exec channel (ssh_run_line:
 * nothing is quoted for a POSIX shell, cmd.exe sees only base64), its
 * command line at most SSH_WIN_CMD_MAX characters (cmd.exe's limit).
 *
 * Staging only: restoring in place would overwrite live files on
 * Windows, with locks, ACLs and alternate streams the copy-and-swap
 * cannot carry, so the driver refuses in_place here (no_in_place), and no
 * volume is ever reverted.  The live side is snap_vss_live.h's scripts;
 * listing and copying are snap_vss.h's.  A snapshot is found again by its
 * id (the list is read each time: a shadow copy's device can change
 * after a reboot, its ID cannot).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/util.h"
#include "snap.h"
#include "snap_vss.h"
#include "snap_vss_live.h"
#include "ssh_win_ps.h"

#define VSS_ERR_MAX	200

static const char *const vss_keys[] = { "volume", "root", NULL };
static const char *const vss_paths[] = { NULL };

/*
 * Runs the script *textp (freed here) made by a generator that returned
 * sr (why its reason); 0 when it exited 0 (res holds its output; the
 * caller frees res in every case), -EPROTO with err "what exited N:
 * first stderr line", -EIO/-ETIMEDOUT broken, else the generator's error.
 */
static int
vss_run(struct sconn *c, const char *what, int sr, const char *why,
    char **textp, struct ssh_res *res, char *err, size_t errlen)
{
	char	 line[VSS_ERR_MAX], *cmd = NULL, *text = *textp;
	size_t	 k;
	int	 r;

	*textp = NULL;
	buf_init(&res->out, SSH_OUT_MAX);
	buf_init(&res->err, SSH_OUT_MAX);
	res->status = -1;
	if ((r = sr) != 0) {
		(void)snprintf(err, errlen, "%s: the path %s", what, why);
		goto out;
	}
	if ((r = vss_encoded_cmd(text, &cmd)) != 0 ||
	    strlen(cmd) > SSH_WIN_CMD_MAX) {
		(void)snprintf(err, errlen, "%s: the script for this path is "
		    "too long for a Windows command line", what);
		r = r ? r : -E2BIG;
		goto out;
	}
	ssh_res_free(res);
	if ((r = ssh_run_line(c, cmd, NULL, 0, res)) != 0) {
		(void)snprintf(err, errlen, "%s: %s", what, strerror(-r));
		goto out;
	}
	if (res->status != 0) {
		/* PowerShell ends lines with CRLF: the CR is no character
		 * of the message. */
		ssh_res_errline(res, line, sizeof(line));
		if ((k = strlen(line)) > 0 && res->err.p[k - 1] == '\r')
			line[k - 1] = '\0';
		(void)snprintf(err, errlen, "%s exited %d%s%s", what,
		    res->status, *line ? ": " : "", line);
		r = -EPROTO;
	}
out:
	free(cmd);
	free(text);
	return r;
}

static int
vss_check(const struct target *t, char *err, size_t errlen)
{
	const char	*why;

	if (json_is_true(json_object_get(t->opts, "sudo"))) {
		(void)snprintf(err, errlen, "'sudo' does not apply to a "
		    "Windows host: log in as an administrator");
		return -EINVAL;
	}
	if (!vss_root_ok(ssh_opt_str(t, "volume"), ssh_opt_str(t, "root"),
	    &why)) {
		(void)snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	return 0;
}

/* Every shadow copy of the volume, as printed. */
static int
copies(struct sconn *c, struct vss_copy **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	const char	*vol = ssh_opt_str(c->t, "volume"), *why = "";
	struct ssh_res	 res;
	char		*text = NULL;
	int		 r;

	r = vss_list_script(vol, strlen(vol), &text, &why);
	if ((r = vss_run(c, "list shadow copies", r, why, &text, &res, err,
	    errlen)) == 0)
		r = vss_parse_list(res.out.p, res.out.len, ret, ret_n, err,
		    errlen);
	ssh_res_free(&res);
	return r;
}

static int
vss_list(struct sconn *c, struct snap **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	struct vss_copy	*v = NULL;
	struct snap	*s;
	size_t		 n = 0, i, k;
	int		 r;

	if ((r = copies(c, &v, &n, err, errlen)) != 0)
		return r;
	s = xcalloc(n ? n : 1, sizeof(*s));
	for (i = 0; i < n; i++) {
		s[i] = v[i].s;
		/* vssadmin prints the ID in lower case, WMI in upper: a
		 * runbook may name it either way. */
		for (k = 0; s[i].id[k]; k++)
			s[i].full[k] = (char)tolower((unsigned char)
			    s[i].id[k]);
		if (strcmp(s[i].full, s[i].id) == 0)
			s[i].full[0] = '\0';
	}
	free(v);
	*ret = s;
	*ret_n = n;
	return 0;
}

/* The shadow copy with id s->id. */
static int
find(struct sconn *c, const struct snap *s, struct vss_copy *ret,
    char *err, size_t errlen)
{
	struct vss_copy	*v = NULL;
	size_t		 n = 0, i;
	int		 r;

	if ((r = copies(c, &v, &n, err, errlen)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].s.id, s->id) == 0) {
			*ret = v[i];
			free(v);
			return 0;
		}
	free(v);
	(void)snprintf(err, errlen, "no shadow copy %s", s->id);
	return -ESRCH;
}

static int
where(struct sconn *c, const char *rel, struct vss_where *w, char *err,
    size_t errlen)
{
	const char	*why;
	int		 r;

	if ((r = vss_where(ssh_opt_str(c->t, "root"), rel, w, &why)) != 0)
		(void)snprintf(err, errlen, "the path %s", why);
	return r;
}

/* Whether rel is a directory in the copy, and its size. */
static int
probe_copy(struct sconn *c, const struct vss_copy *vc, const char *rel,
    int *is_dir, long long *bytes, char *err, size_t errlen)
{
	struct vss_where w;
	struct ssh_res	 res;
	const char	*why = "";
	char		*text = NULL;
	long long	 d = 0, links = 0;
	int		 r;

	if ((r = where(c, rel, &w, err, errlen)) != 0)
		return r;
	r = vss_probe_script(vc->dev, w.below, &text, &why);
	r = vss_run(c, "probe", r, why, &text, &res, err, errlen);
	if (r == -EPROTO && res.status == 4)
		r = -ENOENT;
	else if (r == 0 && (vss_parse_kv(res.out.p, res.out.len, "dir",
	    &d) != 0 || vss_parse_kv(res.out.p, res.out.len, "bytes",
	    bytes) != 0 || vss_parse_kv(res.out.p, res.out.len, "links",
	    &links) != 0)) {
		(void)snprintf(err, errlen, "probe: unexpected answer");
		r = -EPROTO;
	} else if (r == 0 && links > 0) {
		/* Better refused before copying than failed at verify. */
		(void)snprintf(err, errlen, "'%.200s' in shadow copy %s holds "
		    "%lld junction(s) or symbolic link(s), which robocopy /XJ "
		    "does not copy: restore the folders beside them instead",
		    rel, vc->s.id, links);
		r = -EMLINK;
	}
	*is_dir = d != 0;
	ssh_res_free(&res);
	return r;
}

static int
vss_probe(struct sconn *c, const struct snap *s, const char *rel,
    long long *ret_bytes, char *err, size_t errlen)
{
	struct vss_copy	vc;
	int		r, d;

	if ((r = find(c, s, &vc, err, errlen)) != 0)
		return r;
	return probe_copy(c, &vc, rel, &d, ret_bytes, err, errlen);
}

static int
vss_fetch(struct sconn *c, const struct snap *s, const char *rel,
    const char *dest, char *err, size_t errlen)
{
	struct vss_where w;
	struct vss_copy	 vc;
	struct ssh_res	 res;
	const char	*why = "";
	char		*text = NULL;
	long long	 bytes;
	int		 r, d;

	if ((r = find(c, s, &vc, err, errlen)) != 0 ||
	    (r = probe_copy(c, &vc, rel, &d, &bytes, err, errlen)) != 0 ||
	    (r = where(c, rel, &w, err, errlen)) != 0)
		return r;
	r = vss_restore_script(&vc, w.below, strlen(w.below), dest,
	    strlen(dest), d, &text, &why);
	r = vss_run(c, "robocopy", r, why, &text, &res, err, errlen);
	ssh_res_free(&res);
	return r;
}

/* Synchronous in the contract, but the device is only known by listing. */
static int
vss_src_path(struct sconn *c, const struct snap *s, const char *rel,
    char *buf, size_t len)
{
	struct vss_where w;
	struct vss_copy	 vc;
	char		 err[VSS_ERR_MAX];
	int		 r;

	if ((r = find(c, s, &vc, err, sizeof(err))) != 0 ||
	    (r = where(c, rel, &w, err, sizeof(err))) != 0)
		return r;
	return snap_fmt(buf, len, "%s\\%s", vc.dev, w.below);
}

static int
vss_path_fix(char *rel, size_t len, const char **why)
{
	char	out[SNAP_PATH_MAX];
	int	r;

	if ((r = vss_rel_norm(rel, strlen(rel), out, sizeof(out), why)) != 0)
		return r;
	return snap_fmt(rel, len, "%s", out);
}

static int
vss_inspect(struct sconn *c, const char *rel, const char *sfx,
    struct snap_live *l, char *err, size_t errlen)
{
	struct vss_where w;
	struct ssh_res	 res;
	const char	*why = "";
	char		*text = NULL;
	long long	 e, g;
	int		 r;

	memset(l, 0, sizeof(*l));
	if ((r = where(c, rel, &w, err, errlen)) != 0)
		return r;
	r = vss_inspect_script(&w, sfx, &text, &why);
	if ((r = vss_run(c, "inspect path", r, why, &text, &res, err,
	    errlen)) == 0) {
		if (vss_parse_kv(res.out.p, res.out.len, "exists", &e) != 0 ||
		    vss_parse_kv(res.out.p, res.out.len, "avail",
		    &l->avail) != 0 || vss_parse_kv(res.out.p, res.out.len,
		    "staged", &g) != 0 || snap_fmt(l->root, sizeof(l->root),
		    "%s", w.root) != 0) {
			(void)snprintf(err, errlen, "inspect path: unexpected "
			    "answer");
			r = -EPROTO;
		}
		/* size is the live copy's, needed only for in_place. */
		l->exists = e != 0;
		l->is_staged = g != 0;
	}
	ssh_res_free(&res);
	return r;
}

static int
vss_manifest(struct sconn *c, const char *path, char **ret,
    size_t *ret_len, char *err, size_t errlen)
{
	struct ssh_res	 res;
	const char	*why = "";
	char		*text = NULL;
	int		 r;

	r = vss_manifest_script(path, &text, &why);
	if ((r = vss_run(c, "manifest", r, why, &text, &res, err,
	    errlen)) == 0)
		r = vss_parse_manifest(res.out.p, res.out.len, ret, ret_len,
		    err, errlen);
	ssh_res_free(&res);
	return r;
}

static int
vss_remove(struct sconn *c, const char *path, char *err, size_t errlen)
{
	struct ssh_res	 res;
	const char	*why = "";
	char		*text = NULL;
	int		 r;

	r = vss_remove_script(path, &text, &why);
	r = vss_run(c, "remove staging", r, why, &text, &res, err, errlen);
	ssh_res_free(&res);
	return r;
}

static const struct snap_live_ops vss_live = {
	.sep = '\\',
	.no_in_place = "a Windows shadow copy is restored to staging only: "
	    "cordon never reverts a volume nor overwrites live files there; "
	    "use mode = \"staging\" and move the copy by hand",
	.path_fix = vss_path_fix,
	.inspect = vss_inspect,
	.manifest = vss_manifest,
	.remove_staged = vss_remove,
};

const struct snap_be snap_be_vss = {
	.name = "vss",
	.keys = vss_keys,
	.required = vss_keys,
	.path_keys = vss_paths,
	.check = vss_check,
	.list = vss_list,
	.probe = vss_probe,
	.fetch = vss_fetch,
	.src_path = vss_src_path,
	.live = &vss_live,
};
