/*
 * snap_restic: a restic repository on the host (snap.h), Debian's 0.14.
 *
 * Settings: repository (a path or restic URL), restic_password_file (a
 * file on the host: the password never crosses the wire) and root, the
 * absolute path that was backed up.  Only snapshots whose paths include
 * root are listed, by short id; the full 64-digit id names one too.  A path is restored with `restic restore ID --target
 * TMP --include ROOT/REL --verify` (ID:subpath is refused by 0.14), then
 * moved from TMP to the destination after realpath agrees that nothing on
 * the way is a symlink.  --include takes glob patterns, so paths holding
 * * ? [ or \ are refused by the driver (no_glob).
 *
 * cordon only reads the repository, so every command runs with --no-lock:
 * a repository kept on read-only media (the kind ransomware cannot
 * reach) would otherwise fail after restic's ~45 s of lock retries.  A
 * concurrent prune could then remove data under a restore; restic's
 * --verify and the driver's manifest comparison catch that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../agent/util.h"
#include "snap.h"

static const char *const restic_keys[] = { "repository",
    "restic_password_file", "root", NULL };
static const char *const restic_paths[] = { "restic_password_file", "root",
    NULL };

/* $1 repo $2 password file $3 id $4 ROOT/REL $5 dest (absent). */
static const char fetch_sh[] =
    "set -e\n"
    "if [ -e \"$5\" ] || [ -L \"$5\" ]; then echo 'destination exists' "
    ">&2; exit 6; fi\n"
    SNAP_PART_LOCK("\"$5\"")
    "rm -rf -- \"$5.part\"\n"
    "mkdir -m 700 -- \"$5.part\"\n"
    "restic -q --no-cache --no-lock -r \"$1\" --password-file \"$2\" "
    "restore \"$3\" "
    "--target \"$5.part\" --include \"$4\" --verify >/dev/null\n"
    "t=$(realpath -e -- \"$5.part\")\n"
    "[ -e \"$t$4\" ] || { rm -rf -- \"$5.part\" \"$5.lock\"; "
    "echo 'not in the snapshot' >&2; exit 4; }\n"
    "p=$(realpath -e -- \"$t$4\")\n"
    "[ \"$p\" = \"$t$4\" ] || { rm -rf -- \"$5.part\" \"$5.lock\"; "
    "echo 'path goes through a symlink' >&2; exit 5; }\n"
    "mv -T -- \"$p\" \"$5\"\n"
    "rm -rf -- \"$5.part\"\n"
    SNAP_PART_UNLOCK("\"$5\"");

static int
restic_argv(struct sconn *c, const char *sub, const char *a1,
    const char *a2, const char *argv[13])
{
	size_t	i = 0;

	argv[i++] = "restic";
	argv[i++] = "--no-cache";
	argv[i++] = "--no-lock";
	argv[i++] = "-r";
	argv[i++] = ssh_opt_str(c->t, "repository");
	argv[i++] = "--password-file";
	argv[i++] = ssh_opt_str(c->t, "restic_password_file");
	argv[i++] = sub;
	argv[i++] = "--json";
	if (strcmp(sub, "ls") == 0)
		argv[i++] = "--recursive";
	if (a1)
		argv[i++] = a1;
	if (a2)
		argv[i++] = a2;
	argv[i] = NULL;
	return 0;
}

static int
has_root(json_t *paths, const char *root)
{
	size_t	 i;
	json_t	*p;

	json_array_foreach(paths, i, p)
		if (json_is_string(p) && strcmp(json_string_value(p),
		    root) == 0)
			return 1;
	return 0;
}

static int
restic_list(struct sconn *c, struct snap **ret, size_t *ret_n, char *err,
    size_t errlen)
{
	const char	*argv[13], *id, *full, *tm;
	struct ssh_res	 res;
	struct snap	*v = NULL;
	json_t		*j = NULL, *e;
	json_error_t	 je;
	size_t		 i, n = 0;
	time_t		 t;
	int		 r;

	(void)restic_argv(c, "snapshots", NULL, NULL, argv);
	if ((r = snap_run(c, "restic snapshots", argv, &res, err,
	    errlen)) != 0)
		goto out;
	if ((j = json_loadb(res.out.p, res.out.len, 0, &je)) == NULL ||
	    !json_is_array(j)) {
		(void)snprintf(err, errlen, "restic snapshots: not a JSON "
		    "array");
		r = -EPROTO;
		goto out;
	}
	if (json_array_size(j) > SNAP_LIST_MAX) {
		(void)snprintf(err, errlen, "more than %d snapshots",
		    SNAP_LIST_MAX);
		r = -E2BIG;
		goto out;
	}
	v = xcalloc(json_array_size(j) + 1, sizeof(*v));
	json_array_foreach(j, i, e) {
		id = json_string_value(json_object_get(e, "short_id"));
		full = json_string_value(json_object_get(e, "id"));
		tm = json_string_value(json_object_get(e, "time"));
		if (id == NULL || tm == NULL || strlen(id) >= SNAP_ID_MAX ||
		    strspn(id, "0123456789abcdef") != strlen(id) ||
		    (full && (strlen(full) >= SNAP_ID_MAX ||
		    strspn(full, "0123456789abcdef") != strlen(full))) ||
		    !has_root(json_object_get(e, "paths"), ssh_opt_str(c->t,
		    "root")))
			continue;
		if (snap_parse_time(tm, &t) != 0) {
			(void)snprintf(err, errlen, "snapshot '%s': "
			    "unreadable time", id);
			r = -EPROTO;
			goto out;
		}
		(void)snprintf(v[n].id, sizeof(v[n].id), "%s", id);
		(void)snprintf(v[n].full, sizeof(v[n].full), "%s",
		    full ? full : "");
		v[n].at = t;
		v[n].readonly = -1;
		n++;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	r = 0;
out:
	json_decref(j);
	free(v);
	ssh_res_free(&res);
	return r;
}

/*
 * `restic ls --json --recursive ID ROOT/REL`: one JSON object per line.
 * Without --recursive, 0.14 lists a directory one level deep only, and
 * the files in its subdirectories went uncounted.
 */
static int
restic_probe(struct sconn *c, const struct snap *s, const char *rel,
    long long *ret_bytes, char *err, size_t errlen)
{
	char		 full[SNAP_PATH_MAX];
	const char	*argv[13], *path;
	struct ssh_res	 res;
	json_t		*o;
	char		*p, *nl;
	long long	 sum = 0;
	int		 found = 0, r;

	if ((r = snap_fmt(full, sizeof(full), "%s/%s", ssh_opt_str(c->t,
	    "root"), rel)) != 0)
		return r;
	(void)restic_argv(c, "ls", s->id, full, argv);
	if ((r = snap_run(c, "restic ls", argv, &res, err, errlen)) != 0)
		goto out;
	for (p = res.out.p; p && *p; p = nl ? nl + 1 : NULL) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		if ((o = json_loads(p, 0, NULL)) == NULL)
			continue;
		path = json_string_value(json_object_get(o, "path"));
		if (path && strcmp(path, full) == 0)
			found = 1;
		if (path && json_is_integer(json_object_get(o, "size")))
			sum += (long long)json_integer_value(
			    json_object_get(o, "size"));
		json_decref(o);
	}
	if (!found) {
		(void)snprintf(err, errlen, "not in the snapshot");
		r = -ENOENT;
		goto out;
	}
	*ret_bytes = sum;
	r = 0;
out:
	ssh_res_free(&res);
	return r;
}

static int
restic_fetch(struct sconn *c, const struct snap *s, const char *rel,
    const char *dest, char *err, size_t errlen)
{
	char		 full[SNAP_PATH_MAX];
	const char	*args[] = { ssh_opt_str(c->t, "repository"),
	    ssh_opt_str(c->t, "restic_password_file"), s->id, full, dest,
	    NULL };
	struct ssh_res	 res;
	int		 r;

	if ((r = snap_fmt(full, sizeof(full), "%s/%s", ssh_opt_str(c->t,
	    "root"), rel)) != 0)
		return r;
	r = snap_sh(c, "restic restore", fetch_sh, args, &res, err, errlen);
	ssh_res_free(&res);
	return r;
}

static int
restic_src_path(struct sconn *c, const struct snap *s, const char *rel,
    char *buf, size_t len)
{
	(void)c;
	(void)s;
	(void)rel;
	(void)buf;
	(void)len;
	return -ENOTSUP;
}

const struct snap_be snap_be_restic = {
	.name = "restic",
	.keys = restic_keys,
	.required = restic_keys,
	.path_keys = restic_paths,
	.no_glob = 1,
	.list = restic_list,
	.probe = restic_probe,
	.fetch = restic_fetch,
	.src_path = restic_src_path,
};
