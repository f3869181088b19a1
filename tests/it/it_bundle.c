/*
 * it_bundle: the audit bundle end to end.  A real agent journals an
 * incident, a lock and its approval; `cordon journal export --bundle`
 * writes the bundle; scripts/verify-bundle.sh (standard tools only) and
 * `cordon journal verify DIR` both accept it, and both reject copies that
 * were edited, reordered, truncated (newest entries removed) or re-signed
 * with another key (the last by the key fingerprint).  Also: periodic
 * checkpoints chain, and a loose key file stops the agent from starting.
 * Per-incident bundles (`journal export --incident ID DIR`, other entries
 * redacted to their hashes, a signed manifest) verify the same way and
 * fail the same tampering, plus redacting a full entry; every register
 * state change is checkpointed at once.
 */
#include <dirent.h>
#include <pwd.h>
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

#include "harness.h"

#define PORT		38931
#define FP_LEN		71		/* "SHA256:" + 64 hex */
#define LINES_MAX	4096
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int
group_setup(void **state)
{
	return it_group_setup(state, PORT);
}

static int
group_teardown(void **state)
{
	return it_group_teardown(state);
}

static int
setup(void **state)
{
	return it_test_setup(*state, NULL);
}

static int
teardown(void **state)
{
	return it_test_teardown(*state);
}

/* The fingerprint the agent logged for acme at start, into fp. */
static void
logged_fp(struct it_env *e, char fp[FP_LEN + 1])
{
	static const char	 key[] =
	    "checkpoint key for customer 'acme': ";
	char			*log, *p;
	size_t			 len;

	assert_int_equal(it_read_file(e->log, &log, &len), 0);
	if ((p = strstr(log, key)) == NULL)
		fail_msg("the agent did not log the key fingerprint: %s", log);
	p += strlen(key);
	assert_memory_equal(p, "SHA256:", 7);
	memcpy(fp, p, FP_LEN);
	fp[FP_LEN] = '\0';
	free(log);
}

/* A lock of alice, queued by the operator and approved by a lead. */
static void
journal_some(struct it_env *e, char inc[32])
{
	int64_t	id = 0;
	size_t	n;
	char	ref[32];

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, "alice", &id,
	    1, &n), 0);
	assert_int_equal(n, 1);
	(void)snprintf(ref, sizeof(ref), "A%lld", (long long)id);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
}

/* A directory the auditor may write into; its path in buf. */
static const char *
aud_dir(struct it_env *e, char buf[IT_PATH_MAX])
{
	struct passwd	*pw = getpwnam(IT_AUD);

	assert_non_null(pw);
	(void)it_tpath(e, "aud", buf);
	assert_int_equal(mkdir(buf, 0700), 0);
	assert_int_equal(chown(buf, pw->pw_uid, pw->pw_gid), 0);
	return buf;
}

static const char *
sub(const char *dir, const char *name, char buf[IT_PATH_MAX])
{
	int	n = snprintf(buf, IT_PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < IT_PATH_MAX);
	return buf;
}

/* Runs scripts/verify-bundle.sh DIR [FP]; returns its exit code. */
static int
script_verify(struct it_env *e, const char *dir, const char *fp)
{
	char		 sh[IT_PATH_MAX];
	const char	*argv[] = { "sh", sh, dir, fp, NULL };

	(void)sub(e->scripts, "verify-bundle.sh", sh);
	return it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S);
}

static int
cordon_verify(struct it_env *e, const char *dir, const char *fp)
{
	if (fp != NULL)
		return it_cordon(e, IT_ROOT, "journal", "verify", dir,
		    "--key-fp", fp, NULL);
	return it_cordon(e, IT_ROOT, "journal", "verify", dir, NULL);
}

/* Both verifiers must reject dir. */
static void
assert_both_fail(struct it_env *e, const char *dir, const char *fp,
    const char *what)
{
	int	r;

	if ((r = script_verify(e, dir, fp)) != 1)
		fail_msg("%s: verify-bundle.sh exited %d, not 1: %s%s", what,
		    r, e->out, e->err);
	if (!it_err_has(e, "verify-bundle: FAILED"))
		fail_msg("%s: verify-bundle.sh gave no reason: %s", what,
		    e->err);
	if ((r = cordon_verify(e, dir, fp)) != 1)
		fail_msg("%s: cordon journal verify exited %d, not 1: %s%s",
		    what, r, e->out, e->err);
	if (!it_err_has(e, "verify FAILED"))
		fail_msg("%s: no reason given: %s", what, e->err);
}

static void
copy_file(const char *src, const char *dst)
{
	char	*data;
	size_t	 len;

	assert_int_equal(it_read_file(src, &data, &len), 0);
	assert_int_equal(it_write_file(dst, data, len, 0644), 0);
	free(data);
}

/* Copies a bundle (its files and checkpoints/) into a new dst. */
static void
copy_bundle(const char *src, const char *dst)
{
	char		 a[IT_PATH_MAX], b[IT_PATH_MAX], sa[IT_PATH_MAX];
	char		 sb[IT_PATH_MAX];
	const char	*subdir[] = { "", "checkpoints" };
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	size_t		 i;

	assert_int_equal(mkdir(dst, 0755), 0);
	assert_int_equal(mkdir(sub(dst, "checkpoints", b), 0755), 0);
	for (i = 0; i < 2; i++) {
		(void)sub(src, subdir[i], sa);
		(void)sub(dst, subdir[i], sb);
		assert_non_null(d = opendir(sa));
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			(void)sub(sa, de->d_name, a);
			assert_int_equal(lstat(a, &st), 0);
			if (S_ISREG(st.st_mode))
				copy_file(a, sub(sb, de->d_name, b));
		}
		(void)closedir(d);
	}
}

static size_t
split_lines(char *text, char **lines, size_t max)
{
	size_t	 n = 0;
	char	*p = text, *nl;

	while (*p && n < max) {
		lines[n++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

static void
write_lines(const char *path, char **lines, size_t n)
{
	FILE	*f = fopen(path, "w");
	size_t	 i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		assert_true(fprintf(f, "%s\n", lines[i]) > 0);
	assert_int_equal(fclose(f), 0);
}

/* Changes one letter inside a string of the line's payload. */
static void
alter_payload(char *line)
{
	char	*p = strstr(line, "\"payload\":{");
	int	 in_str = 0;

	assert_non_null(p);
	for (p += strlen("\"payload\":{"); *p; p++) {
		if (*p == '"' && p[-1] != '\\') {
			in_str = !in_str;
			continue;
		}
		if (in_str && *p >= 'a' && *p <= 'y' && p[-1] != '\\') {
			(*p)++;
			return;
		}
	}
	fail_msg("no letter to alter in '%s'", line);
}

/*
 * Rewrites dir/journal.jsonl and dir/chain.txt through fn, which gets
 * both files' lines (the same count) and returns the count to write.
 */
static void
rewrite(const char *dir, size_t (*fn)(char **, char **, size_t))
{
	static char	*jl[LINES_MAX], *cl[LINES_MAX];
	char		 pj[IT_PATH_MAX], pc[IT_PATH_MAX], *tj, *tc;
	size_t		 nj, nc, len;

	assert_int_equal(it_read_file(sub(dir, "journal.jsonl", pj), &tj,
	    &len), 0);
	assert_int_equal(it_read_file(sub(dir, "chain.txt", pc), &tc, &len),
	    0);
	nj = split_lines(tj, jl, LINES_MAX);
	nc = split_lines(tc, cl, LINES_MAX);
	assert_int_equal(nj, nc);
	assert_true(nj >= 6);
	nj = fn(jl, cl, nj);
	write_lines(pj, jl, nj);
	write_lines(pc, cl, nj);
	free(tj);
	free(tc);
}

static size_t
edit_both(char **jl, char **cl, size_t n)
{
	alter_payload(jl[n / 2]);
	alter_payload(cl[n / 2]);
	return n;
}

static size_t
edit_journal_only(char **jl, char **cl, size_t n)
{
	(void)cl;
	alter_payload(jl[n / 2]);
	return n;
}

static size_t
swap_two(char **jl, char **cl, size_t n)
{
	char	*t;

	t = jl[n / 2];
	jl[n / 2] = jl[n / 2 + 1];
	jl[n / 2 + 1] = t;
	t = cl[n / 2];
	cl[n / 2] = cl[n / 2 + 1];
	cl[n / 2 + 1] = t;
	return n;
}

static size_t
drop_newest(char **jl, char **cl, size_t n)
{
	(void)jl;
	(void)cl;
	return n - 2;
}

/* Signs text with key into sig by openssl, as an attacker would. */
static void
openssl_sign(struct it_env *e, const char *key, const char *text,
    const char *sig)
{
	const char	*argv[] = { "openssl", "pkeyutl", "-sign", "-inkey",
	    key, "-rawin", "-in", text, "-out", sig, NULL };

	assert_int_equal(it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S),
	    0);
}

/* Removes the newest stored checkpoint (its .txt and .sig) from dir. */
static void
drop_newest_checkpoint(const char *dir)
{
	char		 cdir[IT_PATH_MAX], last[256] = "", p[IT_PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	size_t		 n;

	assert_non_null(d = opendir(sub(dir, "checkpoints", cdir)));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n > 4 && strcmp(de->d_name + n - 4, ".txt") == 0 &&
		    strcmp(de->d_name, last) > 0)
			(void)snprintf(last, sizeof(last), "%s", de->d_name);
	}
	(void)closedir(d);
	assert_true(last[0] != '\0');
	assert_int_equal(unlink(sub(cdir, last, p)), 0);
	memcpy(p + strlen(p) - 3, "sig", 3);
	assert_int_equal(unlink(p), 0);
}

/* Replaces the bundle's key and every signature with a new key's. */
static void
resign(struct it_env *e, const char *dir)
{
	char		 key[IT_PATH_MAX], pub[IT_PATH_MAX], t[IT_PATH_MAX];
	char		 s[IT_PATH_MAX], cdir[IT_PATH_MAX];
	const char	*gen[] = { "openssl", "genpkey", "-algorithm", "ed25519",
	    "-out", key, NULL };
	const char	*pubout[] = { "openssl", "pkey", "-in", key, "-pubout",
	    "-out", pub, NULL };
	struct dirent	*de;
	DIR		*d;
	size_t		 n;

	(void)it_tpath(e, "other.key", key);
	(void)unlink(key);
	assert_int_equal(it_runv(e, IT_ROOT, NULL, gen, IT_CMD_TIMEOUT_S), 0);
	(void)sub(dir, "pubkey.pem", pub);
	assert_int_equal(it_runv(e, IT_ROOT, NULL, pubout, IT_CMD_TIMEOUT_S),
	    0);
	openssl_sign(e, key, sub(dir, "checkpoint.txt", t),
	    sub(dir, "checkpoint.sig", s));
	assert_non_null(d = opendir(sub(dir, "checkpoints", cdir)));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".txt") != 0)
			continue;
		(void)sub(cdir, de->d_name, t);
		(void)sub(cdir, de->d_name, s);
		memcpy(s + strlen(s) - 3, "sig", 3);
		openssl_sign(e, key, t, s);
	}
	(void)closedir(d);
}

/*
 * `keys show` prints the fingerprint the agent logged and the key a
 * bundle carries; both verifiers say loudly when they were not given it.
 */
static void
test_keys_show_and_unchecked_key(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], fp[FP_LEN + 1], aud[IT_PATH_MAX];
	char		 b[IT_PATH_MAX], p[IT_PATH_MAX], want[IT_PATH_MAX];
	char		*pem;
	size_t		 len;
	json_t		*j, *k;

	logged_fp(e, fp);
	journal_some(e, inc);
	(void)sub(aud_dir(e, aud), "bundle", b);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, NULL), 0);
	assert_int_equal(it_read_file(sub(b, "pubkey.pem", p), &pem, &len),
	    0);

	assert_int_equal(it_cordon(e, IT_AUD, "keys", "show", NULL), 0);
	(void)snprintf(want, sizeof(want), "fingerprint  %s\n", fp);
	assert_true(it_out_has(e, "customer     acme\n"));
	assert_true(it_out_has(e, want));
	assert_true(it_out_has(e, pem));
	assert_int_equal(it_cordon(e, IT_AUD, "keys", "show", "--customer",
	    "acme", "--json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	assert_int_equal(json_array_size(j), 1);
	k = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(k, "customer")),
	    "acme");
	assert_string_equal(json_string_value(json_object_get(k,
	    "fingerprint")), fp);
	assert_string_equal(json_string_value(json_object_get(k,
	    "public_key")), pem);
	json_decref(j);
	free(pem);
	assert_int_equal(it_cordon(e, IT_AUD, "keys", "show", "--customer",
	    "nosuch", NULL), 2);
	assert_int_equal(it_cordon(e, IT_NOBODY, "keys", "show", NULL), 3);
	assert_int_equal(it_cordon(e, IT_NOBODY, "keys", "show", "--customer",
	    "acme", NULL), 3);
	assert_int_equal(it_cordon(e, IT_AUD, "keys", "list", NULL), 2);

	/* Without the fingerprint the verifiers pass, and say what is not
	 * checked; with it, they do not. */
	assert_int_equal(script_verify(e, b, NULL), 0);
	assert_true(it_out_has(e, "signing key NOT checked: pass"));
	assert_int_equal(script_verify(e, b, fp), 0);
	assert_false(it_out_has(e, "NOT checked"));
	assert_int_equal(cordon_verify(e, b, NULL), 0);
	assert_true(it_out_has(e, "signing key NOT checked: pass --key-fp"));
	assert_int_equal(cordon_verify(e, b, fp), 0);
	assert_false(it_out_has(e, "NOT checked"));
}

/* dir is 0700 and everything in it 0600 (0700 for directories). */
static void
assert_private(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	char		 p[IT_PATH_MAX];
	DIR		*d;
	size_t		 n = 0;

	assert_int_equal(lstat(dir, &st), 0);
	if ((st.st_mode & 07777) != 0700)
		fail_msg("%s: mode %o, not 700", dir, st.st_mode & 07777);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		assert_int_equal(lstat(sub(dir, de->d_name, p), &st), 0);
		if (S_ISDIR(st.st_mode))
			assert_private(p);
		else if ((st.st_mode & 07777) != 0600)
			fail_msg("%s: mode %o, not 600", p, st.st_mode & 07777);
		n++;
	}
	assert_int_equal(closedir(d), 0);
	assert_true(n > 0);
}

/* verify-bundle.sh DIR FP KNOWN and journal verify --known-checkpoint. */
static void
verify_known(struct it_env *e, const char *dir, const char *known, int want,
    const char *why)
{
	char		 sh[IT_PATH_MAX];
	const char	*argv[] = { "sh", sh, dir, "", known, NULL };
	int		 r;

	(void)sub(e->scripts, "verify-bundle.sh", sh);
	if ((r = it_runv(e, IT_ROOT, NULL, argv, IT_CMD_TIMEOUT_S)) != want)
		fail_msg("verify-bundle.sh %s %s exited %d, not %d: %s%s",
		    dir, known, r, want, e->out, e->err);
	if (why != NULL && !it_err_has(e, why))
		fail_msg("verify-bundle.sh: no '%s': %s", why, e->err);
	if (want == 0)
		assert_true(it_out_has(e, "reaches the known checkpoint"));
	if ((r = it_cordon(e, IT_ROOT, "journal", "verify", dir,
	    "--known-checkpoint", known, NULL)) != want)
		fail_msg("journal verify %s --known-checkpoint %s exited %d, "
		    "not %d: %s%s", dir, known, r, want, e->out, e->err);
	if (why != NULL && !it_err_has(e, why))
		fail_msg("journal verify: no '%s': %s", why, e->err);
}

/*
 * A bundle cut back to an earlier checkpoint verifies on its own; given
 * a later checkpoint the auditor holds, both verifiers refuse it.
 */
static void
test_known_checkpoint_shows_cut_back(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], aud[IT_PATH_MAX], b1[IT_PATH_MAX];
	char		 b2[IT_PATH_MAX], k1[IT_PATH_MAX], k2[IT_PATH_MAX];
	char		 forged[IT_PATH_MAX], *text, *nl;
	size_t		 len;

	journal_some(e, inc);
	(void)aud_dir(e, aud);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    sub(aud, "b1", b1), NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", inc,
	    "--set", "risk=high", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", inc,
	    "--set", "cause=phishing", NULL), 0);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    sub(aud, "b2", b2), NULL), 0);
	(void)sub(b1, "checkpoint.txt", k1);
	(void)sub(b2, "checkpoint.txt", k2);
	assert_private(b1);

	/* The older bundle is intact on its own terms. */
	assert_int_equal(script_verify(e, b1, NULL), 0);
	assert_int_equal(cordon_verify(e, b1, NULL), 0);
	verify_known(e, b2, k1, 0, NULL);
	verify_known(e, b2, k2, 0, NULL);
	verify_known(e, b1, k1, 0, NULL);
	verify_known(e, b1, k2, 1, "cut back to an earlier checkpoint");

	/* A known checkpoint whose head is not the bundle's entry. */
	assert_int_equal(it_read_file(k1, &text, &len), 0);
	assert_non_null(nl = strchr(text, '\n'));
	assert_non_null(nl = strchr(nl + 1, '\n'));
	nl[1] = nl[1] == 'a' ? 'b' : 'a';
	(void)it_tpath(e, "forged.txt", forged);
	assert_int_equal(it_write_file(forged, text, len, 0644), 0);
	free(text);
	verify_known(e, b2, forged, 1, "the journal was rewritten");
}

static void
test_bundle_verify_and_tamper(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], fp[FP_LEN + 1], aud[IT_PATH_MAX];
	char		 b[IT_PATH_MAX], bad[IT_PATH_MAX], want[IT_PATH_MAX];
	static const struct {
		const char	*name;
		size_t		(*fn)(char **, char **, size_t);
	} tampers[] = {
		{ "edited", edit_both },
		{ "edited-journal-only", edit_journal_only },
		{ "reordered", swap_two },
		{ "truncated", drop_newest },
	};
	size_t		 i;

	logged_fp(e, fp);
	journal_some(e, inc);
	(void)sub(aud_dir(e, aud), "bundle", b);

	/* The whole chain is for those who may audit every customer; a
	 * refused export leaves no directory behind. */
	(void)it_tpath(e, "open", bad);
	assert_int_equal(mkdir(bad, 0777), 0);
	assert_int_equal(chmod(bad, 01777), 0);
	(void)sub(bad, "bundle", want);
	assert_int_equal(it_cordon(e, IT_NOBODY, "journal", "export",
	    "--bundle", want, NULL), 3);
	assert_int_equal(access(want, F_OK), -1);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, NULL), 0);
	(void)snprintf(want, sizeof(want), "signed by key %s", fp);
	if (!it_out_has(e, want))
		fail_msg("export does not name the logged key %s: %s", fp,
		    e->out);
	/* A bundle goes into a new directory, never over an old one. */
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, NULL), 2);
	assert_true(it_err_has(e, "already exists"));

	/* Intact: both verifiers agree, with and without the fingerprint. */
	if (script_verify(e, b, NULL) != 0)
		fail_msg("verify-bundle.sh: %s%s", e->out, e->err);
	(void)snprintf(want, sizeof(want), "key fingerprint: %s", fp);
	assert_true(it_out_has(e, want));
	assert_int_equal(script_verify(e, b, fp), 0);
	if (cordon_verify(e, b, NULL) != 0)
		fail_msg("cordon journal verify: %s%s", e->out, e->err);
	assert_true(it_out_has(e, ": ok, bundle for customer 'acme'"));
	(void)snprintf(want, sizeof(want), "signed by key %s", fp);
	assert_true(it_out_has(e, want));
	assert_int_equal(cordon_verify(e, b, fp), 0);
	/* The exact commands the README gives. */
	assert_int_equal(it_file_has(sub(b, "README.txt", bad),
	    "openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin"), 1);
	assert_int_equal(it_file_has(bad, fp), 1);
	/* The journal lines are the plain export's format. */
	assert_int_equal(it_cordon(e, IT_ROOT, "journal", "verify",
	    sub(b, "journal.jsonl", bad), NULL), 0);

	/* A wrong expected fingerprint fails both. */
	assert_both_fail(e, b, "SHA256:0000000000000000000000000000000000000"
	    "000000000000000000000000000", "wrong --key-fp");

	for (i = 0; i < ARRAY_SIZE(tampers); i++) {
		(void)it_tpath(e, tampers[i].name, bad);
		copy_bundle(b, bad);
		rewrite(bad, tampers[i].fn);
		assert_both_fail(e, bad, NULL, tampers[i].name);
		assert_both_fail(e, bad, fp, tampers[i].name);
	}

	/* The fresh checkpoint must be the newest of the stored ones. */
	(void)it_tpath(e, "history-cut", bad);
	copy_bundle(b, bad);
	drop_newest_checkpoint(bad);
	assert_both_fail(e, bad, fp, "newest stored checkpoint removed");

	/* Re-signed with another key: it verifies, but under another
	 * fingerprint, and fails as soon as the real one is expected. */
	(void)it_tpath(e, "resigned", bad);
	copy_bundle(b, bad);
	resign(e, bad);
	assert_int_equal(script_verify(e, bad, NULL), 0);
	assert_true(it_out_has(e, "key fingerprint: SHA256:"));
	(void)snprintf(want, sizeof(want), "key fingerprint: %s", fp);
	assert_false(it_out_has(e, want));
	assert_int_equal(cordon_verify(e, bad, NULL), 0);
	(void)snprintf(want, sizeof(want), "signed by key %s", fp);
	assert_false(it_out_has(e, want));
	assert_both_fail(e, bad, fp, "re-signed");

	/* Re-signed truncation: without the real key, still the key. */
	(void)it_tpath(e, "resigned-truncated", bad);
	copy_bundle(b, bad);
	rewrite(bad, drop_newest);
	resign(e, bad);
	assert_both_fail(e, bad, NULL, "truncated, re-signed");
	assert_both_fail(e, bad, fp, "truncated, re-signed");

	/* The untouched bundle still verifies. */
	assert_int_equal(script_verify(e, b, fp), 0);
	assert_int_equal(cordon_verify(e, b, fp), 0);
}

/* Restarts the agent with extra lines in its agent group. */
static void
restart_with(struct it_env *e, const char *extra)
{
	char	*conf, *p, *n;
	size_t	 len;

	assert_int_equal(it_agent_stop(e), 0);
	assert_int_equal(it_read_file(e->conf, &conf, &len), 0);
	assert_non_null(p = strstr(conf, "agent: {\n"));
	p += strlen("agent: {\n");
	assert_true(asprintf(&n, "%.*s%s\n%s", (int)(p - conf), conf, extra,
	    p) > 0);
	assert_int_equal(it_write_file(e->conf, n, strlen(n), 0600), 0);
	free(n);
	free(conf);
	assert_int_equal(it_agent_start(e, 0), 0);
}

static int
count_checkpoints(const char *dir)
{
	char		 c[IT_PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;
	size_t		 l;

	assert_non_null(d = opendir(sub(dir, "checkpoints", c)));
	while ((de = readdir(d)) != NULL)
		if ((l = strlen(de->d_name)) > 4 &&
		    strcmp(de->d_name + l - 4, ".txt") == 0)
			n++;
	(void)closedir(d);
	return n;
}

static void
test_periodic_checkpoints_chain(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], aud[IT_PATH_MAX], b[IT_PATH_MAX];
	char		 fp[FP_LEN + 1], t[IT_PATH_MAX];
	int		 n;

	restart_with(e, "\tcheckpoint_every = 2;");
	logged_fp(e, fp);
	journal_some(e, inc);
	(void)sub(aud_dir(e, aud), "bundle", b);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, NULL), 0);
	/* One at start, one every two entries, and the fresh one. */
	n = count_checkpoints(b);
	if (n < 4)
		fail_msg("only %d checkpoints for a journal of this size", n);
	assert_int_equal(it_file_has(sub(b, "checkpoint.txt", t),
	    "cordon-journal/acme\n"), 1);
	if (script_verify(e, b, fp) != 0)
		fail_msg("verify-bundle.sh: %s%s", e->out, e->err);
	assert_int_equal(cordon_verify(e, b, fp), 0);
}

static void
test_loose_key_refused(void **state)
{
	struct it_env	*e = *state;
	char		 keys[IT_PATH_MAX], key[IT_PATH_MAX], fp[FP_LEN + 1];
	char		 fp2[FP_LEN + 1];

	logged_fp(e, fp);
	(void)sub(it_tpath(e, "keys", keys), "acme.key", key);
	assert_int_equal(it_file_has(key, "BEGIN PRIVATE KEY"), 1);
	assert_int_equal(it_agent_stop(e), 0);
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_not_equal(it_agent_start(e, 0), 0);
	assert_int_equal(it_file_has(e->log, "readable or writable by group "
	    "or others"), 1);
	/* Fixed, the agent starts with the same key. */
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(it_agent_start(e, 0), 0);
	logged_fp(e, fp2);
	assert_string_equal(fp, fp2);
}

/* Index of a full (not redacted) line at or after n / 2, else before. */
static size_t
full_line(char **cl, size_t n)
{
	size_t	i, l;

	for (i = n / 2; i < n; i++)
		if ((l = strlen(cl[i])) > 2 && strcmp(cl[i] + l - 2, " -"))
			return i;
	for (i = n / 2; i-- > 0;)
		if ((l = strlen(cl[i])) > 2 && strcmp(cl[i] + l - 2, " -"))
			return i;
	fail_msg("no full entry in the bundle");
	return 0;
}

static size_t
edit_full(char **jl, char **cl, size_t n)
{
	size_t	i = full_line(cl, n);

	alter_payload(jl[i]);
	alter_payload(cl[i]);
	return n;
}

/* Turns one of the incident's entries into the redacted form. */
static size_t
redact_full(char **jl, char **cl, size_t n)
{
	static char	jbuf[512], cbuf[512];
	size_t		i = full_line(cl, n);

	(void)snprintf(jbuf, sizeof(jbuf), "{\"hash\":\"%.64s\","
	    "\"prev_hash\":\"%.64s\",\"redacted\":true,\"seq\":%zu}",
	    cl[i] + 65, cl[i], i + 1);
	(void)snprintf(cbuf, sizeof(cbuf), "%.129s -", cl[i]);
	jl[i] = jbuf;
	cl[i] = cbuf;
	return n;
}

/* Writes an openssl-signed manifest.sig with the bundle's current key. */
static void
resign_manifest(struct it_env *e, const char *dir)
{
	char	key[IT_PATH_MAX], t[IT_PATH_MAX], s[IT_PATH_MAX];

	(void)it_tpath(e, "other.key", key);
	openssl_sign(e, key, sub(dir, "manifest.txt", t),
	    sub(dir, "manifest.sig", s));
}

static void
test_incident_bundle(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], other[32], fp[FP_LEN + 1], aud[IT_PATH_MAX];
	char		 b[IT_PATH_MAX], bad[IT_PATH_MAX], want[IT_PATH_MAX];
	char		 t[IT_PATH_MAX];
	static const struct {
		const char	*name;
		size_t		(*fn)(char **, char **, size_t);
	} tampers[] = {
		{ "i-edited", edit_full },
		{ "i-reordered", swap_two },
		{ "i-truncated", drop_newest },
		{ "i-redacted", redact_full },
	};
	size_t		 i;

	logged_fp(e, fp);
	journal_some(e, inc);
	/* Another incident's entries between and after this one's. */
	assert_int_equal(it_incident_open(e, other), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", other,
	    "--set", "description=secret other matter", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", inc,
	    "--set", "risk=risk", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", other,
	    "--set", "risk=high", NULL), 0);
	(void)sub(aud_dir(e, aud), "ib", b);

	/* No role for the incident's customer: refused, nothing left. */
	(void)it_tpath(e, "open", bad);
	assert_int_equal(mkdir(bad, 0777), 0);
	assert_int_equal(chmod(bad, 01777), 0);
	(void)sub(bad, "ib", want);
	assert_int_equal(it_cordon(e, IT_NOBODY, "journal", "export",
	    "--incident", inc, want, NULL), 3);
	assert_int_equal(access(want, F_OK), -1);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export",
	    "--incident", "INC-1999-0001", want, NULL), 2);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export",
	    "--incident", inc, b, NULL), 0);
	assert_true(it_out_has(e, "entries in full, the others redacted"));
	(void)snprintf(want, sizeof(want), "signed by key %s", fp);
	assert_true(it_out_has(e, want));

	/* What the other incident said is not in it; its hashes are. */
	assert_int_equal(it_file_has(sub(b, "journal.jsonl", t), other), 0);
	assert_int_equal(it_file_has(t, "secret other matter"), 0);
	assert_int_equal(it_file_has(t, "\"redacted\":true"), 1);
	assert_int_equal(it_file_has(t, inc), 1);
	assert_int_equal(it_file_has(sub(b, "chain.txt", t), other), 0);
	assert_int_equal(it_file_has(sub(b, "manifest.txt", t),
	    "cordon-bundle/acme\nincident "), 1);
	assert_int_equal(it_file_has(sub(b, "README.txt", t),
	    "-in manifest.txt -sigfile manifest.sig"), 1);

	if (script_verify(e, b, fp) != 0)
		fail_msg("verify-bundle.sh: %s%s", e->out, e->err);
	(void)snprintf(want, sizeof(want), "incident bundle: %s", inc);
	assert_true(it_out_has(e, want));
	assert_int_equal(script_verify(e, b, NULL), 0);
	if (cordon_verify(e, b, fp) != 0)
		fail_msg("cordon journal verify: %s%s", e->out, e->err);
	(void)snprintf(want, sizeof(want), "incident %s (other entries "
	    "redacted)", inc);
	assert_true(it_out_has(e, want));

	for (i = 0; i < ARRAY_SIZE(tampers); i++) {
		(void)it_tpath(e, tampers[i].name, bad);
		copy_bundle(b, bad);
		rewrite(bad, tampers[i].fn);
		assert_both_fail(e, bad, NULL, tampers[i].name);
		assert_both_fail(e, bad, fp, tampers[i].name);
	}
	/* Without its manifest, redacted entries fail the bundle. */
	(void)it_tpath(e, "i-no-manifest", bad);
	copy_bundle(b, bad);
	assert_int_equal(unlink(sub(bad, "manifest.txt", t)), 0);
	assert_int_equal(unlink(sub(bad, "manifest.sig", t)), 0);
	assert_both_fail(e, bad, fp, "manifest removed");
	/* Re-signed, manifest too: verifies only under another key. */
	(void)it_tpath(e, "i-resigned", bad);
	copy_bundle(b, bad);
	resign(e, bad);
	assert_both_fail(e, bad, NULL, "re-signed, old manifest.sig");
	resign_manifest(e, bad);
	assert_int_equal(script_verify(e, bad, NULL), 0);
	(void)snprintf(want, sizeof(want), "key fingerprint: %s", fp);
	assert_false(it_out_has(e, want));
	assert_int_equal(cordon_verify(e, bad, NULL), 0);
	assert_both_fail(e, bad, fp, "re-signed with another key");
	/* Redacting a full entry and re-signing: still the key. */
	(void)it_tpath(e, "i-redacted-resigned", bad);
	copy_bundle(b, bad);
	rewrite(bad, redact_full);
	resign(e, bad);
	resign_manifest(e, bad);
	assert_both_fail(e, bad, fp, "redacted and re-signed");
	/* The untouched bundle still verifies. */
	assert_int_equal(script_verify(e, b, fp), 0);
	assert_int_equal(cordon_verify(e, b, fp), 0);
}

/* Every register state change is signed at once: a stored checkpoint
 * ends exactly at each incident_* entry. */
static void
test_state_change_checkpoints(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], aud[IT_PATH_MAX], b[IT_PATH_MAX];
	char		 c[IT_PATH_MAX], p[IT_PATH_MAX], *txt, line[32];
	json_t		*j, *ent;
	struct dirent	*de;
	DIR		*d;
	size_t		 i, len, l;
	int		 sizes[LINES_MAX] = { 0 }, sz, nchanges = 0;

	assert_int_equal(it_incident_open(e, inc), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", inc,
	    "--set", "risk=high", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", inc,
	    "--set", "authority_notified_at=now", NULL), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", inc,
	    NULL), 0);
	(void)sub(aud_dir(e, aud), "bundle", b);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", "--bundle",
	    b, NULL), 0);
	assert_non_null(d = opendir(sub(b, "checkpoints", c)));
	while ((de = readdir(d)) != NULL) {
		if ((l = strlen(de->d_name)) < 5 ||
		    strcmp(de->d_name + l - 4, ".txt") != 0)
			continue;
		assert_int_equal(it_read_file(sub(c, de->d_name, p), &txt,
		    &len), 0);
		assert_int_equal(sscanf(txt, "%*[^\n]\n%d", &sz), 1);
		assert_true(sz >= 0 && sz < LINES_MAX);
		sizes[sz] = 1;
		free(txt);
	}
	(void)closedir(d);
	assert_non_null(j = it_journal(e));
	json_array_foreach(j, i, ent) {
		const char *ev = json_string_value(json_object_get(ent,
		    "event"));
		json_int_t seq = json_integer_value(json_object_get(ent,
		    "seq"));

		if (strncmp(ev, "incident_", 9) != 0)
			continue;
		nchanges++;
		(void)snprintf(line, sizeof(line), "%lld", (long long)seq);
		if (seq >= LINES_MAX || !sizes[seq])
			fail_msg("no checkpoint right after %s (seq %s)", ev,
			    line);
	}
	json_decref(j);
	assert_int_equal(nchanges, 4);
	assert_int_equal(script_verify(e, b, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_known_checkpoint_shows_cut_back, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_keys_show_and_unchecked_key, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_bundle_verify_and_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_periodic_checkpoints_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_key_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_incident_bundle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_state_change_checkpoints, setup, teardown),
	};

	return cmocka_run_group_tests_name("it_bundle", tests, group_setup,
	    group_teardown);
}
