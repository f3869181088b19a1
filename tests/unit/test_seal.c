/*
 * test_seal: what seal_cms() writes, the standard tool opens.
 *
 * Keys and certificates are made by the openssl command-line tool in a
 * temp dir; the envelope is opened by `openssl cms -decrypt` (not by
 * cordon's code) and must give back exactly the bytes sealed, NUL and
 * newline included.  The wrong key must not open it, a tampered envelope
 * must not open either (AES-GCM), and the fingerprint must be the one
 * `openssl x509 -fingerprint -sha256` prints.  Bad certificates are
 * refused with the file name in the message.
 */
#include <ctype.h>
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

#include "../../agent/seal.h"
#include "../../agent/util.h"

#define P_MAX	512

struct fx {
	char	dir[64];
	char	p[8][P_MAX];
};

enum { RSA_KEY, RSA_CERT, EC_KEY, EC_CERT, OTHER_KEY, OTHER_CERT, SMALL_KEY,
	SMALL_CERT };

static const char *const names[] = { "rsa.key", "rsa.pem", "ec.key",
	"ec.pem", "other.key", "other.pem", "small.key", "small.pem" };

/* Runs argv with stdout to out (NULL: /dev/null); the exit status. */
static int
run(const char *const *argv, const char *out)
{
	pid_t	pid;
	int	st, fd;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT |
		    O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		if ((fd = open("/dev/null", O_WRONLY)) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
mkcert(const char *key, const char *cert, const char *alg)
{
	const char	*rsa[] = { "openssl", "req", "-x509", "-newkey", alg,
	    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj",
	    "/CN=dpo", NULL };
	const char	*ecg[] = { "openssl", "genpkey", "-algorithm", "EC",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key, NULL };
	const char	*ecc[] = { "openssl", "req", "-x509", "-new", "-key",
	    key, "-out", cert, "-days", "2", "-subj", "/CN=dpo-ec", NULL };

	if (strcmp(alg, "ec") != 0)
		return run(rsa, NULL);
	return run(ecg, NULL) == 0 ? run(ecc, NULL) : -1;
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	size_t		 i;

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-seal-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	for (i = 0; i < 8; i++)
		(void)snprintf(f->p[i], P_MAX, "%s/%s", f->dir, names[i]);
	if (mkcert(f->p[RSA_KEY], f->p[RSA_CERT], "rsa:3072") != 0 ||
	    mkcert(f->p[EC_KEY], f->p[EC_CERT], "ec") != 0 ||
	    mkcert(f->p[OTHER_KEY], f->p[OTHER_CERT], "rsa:2048") != 0 ||
	    mkcert(f->p[SMALL_KEY], f->p[SMALL_CERT], "rsa:1024") != 0) {
		(void)fprintf(stderr, "openssl could not make test keys\n");
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	char		 p[P_MAX];
	const char	*extra[] = { "sealed.pem", "opened", "bad.pem",
	    "junk.pem", "fp" };
	size_t		 i;

	for (i = 0; i < 8; i++)
		(void)unlink(f->p[i]);
	for (i = 0; i < ARRAY_SIZE(extra); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", f->dir, extra[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static const char *
fpath(struct fx *f, const char *name, char buf[P_MAX])
{
	(void)snprintf(buf, P_MAX, "%s/%s", f->dir, name);
	return buf;
}

/* Seals data to cert, writes the PEM, decrypts with key: 0 and the
 * bytes in *ret (caller frees), or openssl's exit status. */
static int
roundtrip(struct fx *f, const char *cert, const char *key, const char *data,
    size_t len, char **ret, size_t *ret_len)
{
	char		 sealed[P_MAX], opened[P_MAX], fp[SEAL_FP_LEN];
	char		 err[256], *pem = NULL;
	size_t		 plen = 0;
	const char	*argv[] = { "openssl", "cms", "-decrypt", "-in", sealed,
	    "-inform", "PEM", "-inkey", key, "-recip", cert, "-out", opened,
	    NULL };
	int		 r;

	assert_int_equal(seal_cms(cert, data, len, &pem, &plen, fp, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(pem), plen);
	assert_true(strncmp(pem, "-----BEGIN CMS-----\n", 20) == 0);
	assert_int_equal(strlen(fp), 64);
	/* The plaintext does not show through. */
	assert_null(memmem(pem, plen, "Tr0ub4dor", 9));
	assert_int_equal(write_file_atomic(fpath(f, "sealed.pem", sealed),
	    pem, plen, 0600), 0);
	free(pem);
	(void)unlink(fpath(f, "opened", opened));
	if ((r = run(argv, NULL)) != 0)
		return r;
	assert_int_equal(read_file(opened, 4096, ret, ret_len), 0);
	return 0;
}

static void
test_seal_rsa_opened_by_openssl(void **state)
{
	struct fx	*f = *state;
	static const char data[] = "Tr0ub4dor&3 'x' \"y\" $(z)\n\0tail";
	char		*got = NULL, sealed[P_MAX], dump[P_MAX];
	const char	*argv[] = { "openssl", "cms", "-cmsout", "-print",
	    "-in", fpath(f, "sealed.pem", sealed), "-inform", "PEM", NULL };
	size_t		 n = 0;

	assert_int_equal(roundtrip(f, f->p[RSA_CERT], f->p[RSA_KEY], data,
	    sizeof(data) - 1, &got, &n), 0);
	assert_int_equal(n, sizeof(data) - 1);
	assert_memory_equal(got, data, n);
	free(got);
	/* What it is: AES-256-GCM AuthEnvelopedData, key by RSA-OAEP. */
	assert_int_equal(run(argv, fpath(f, "fp", dump)), 0);
	assert_int_equal(read_file(dump, 1 << 20, &got, &n), 0);
	assert_non_null(strstr(got, "authEnvelopedData"));
	assert_non_null(strstr(got, "rsaesOaep"));
	assert_non_null(strstr(got, "aes-256-gcm"));
	free(got);
}

static void
test_seal_ec_opened_by_openssl(void **state)
{
	struct fx	*f = *state;
	static const char data[] = "Tr0ub4dor-ec-24-characters";
	char		*got = NULL;
	size_t		 n = 0;

	assert_int_equal(roundtrip(f, f->p[EC_CERT], f->p[EC_KEY], data,
	    sizeof(data) - 1, &got, &n), 0);
	assert_int_equal(n, sizeof(data) - 1);
	assert_memory_equal(got, data, n);
	free(got);
}

static void
test_seal_wrong_key_and_tamper_fail(void **state)
{
	struct fx	*f = *state;
	char		 sealed[P_MAX], bad[P_MAX], *pem = NULL, *got = NULL;
	char		 fp[SEAL_FP_LEN], err[256], *b64;
	size_t		 plen = 0, n = 0;
	const char	*argv[] = { "openssl", "cms", "-decrypt", "-in", bad,
	    "-inform", "PEM", "-inkey", f->p[RSA_KEY], "-recip",
	    f->p[RSA_CERT], NULL };

	/* Another recipient's key opens nothing. */
	assert_int_not_equal(roundtrip(f, f->p[RSA_CERT], f->p[OTHER_KEY],
	    "Tr0ub4dor", 9, &got, &n), 0);
	assert_null(got);
	/* One flipped ciphertext byte: GCM's tag refuses it. */
	assert_int_equal(read_file(fpath(f, "sealed.pem", sealed), 65536,
	    &pem, &plen), 0);
	/* A character near the end of the base64, before the last line. */
	b64 = pem + plen - 40;
	*b64 = *b64 == 'A' ? 'B' : 'A';
	assert_int_equal(write_file_atomic(fpath(f, "bad.pem", bad), pem,
	    plen, 0600), 0);
	free(pem);
	assert_int_not_equal(run(argv, NULL), 0);
	(void)fp;
	(void)err;
}

static void
test_seal_fingerprint_matches_openssl(void **state)
{
	struct fx	*f = *state;
	char		 fp[SEAL_FP_LEN], err[256], out[P_MAX], *t = NULL;
	char		 want[SEAL_FP_LEN], *p;
	const char	*argv[] = { "openssl", "x509", "-in", f->p[RSA_CERT],
	    "-noout", "-fingerprint", "-sha256", NULL };
	size_t		 n = 0, k = 0;

	assert_int_equal(seal_cert_check(f->p[RSA_CERT], fp, err,
	    sizeof(err)), 0);
	assert_int_equal(run(argv, fpath(f, "fp", out)), 0);
	assert_int_equal(read_file(out, 4096, &t, &n), 0);
	assert_non_null(p = strchr(t, '='));
	for (p++; *p && *p != '\n' && k < 64; p++)
		if (*p != ':')
			want[k++] = (char)tolower((unsigned char)*p);
	want[k] = '\0';
	assert_string_equal(fp, want);
	free(t);
}

static void
test_seal_bad_certs_refused(void **state)
{
	struct fx	*f = *state;
	char		 err[256], junk[P_MAX], *pem = NULL, fp[SEAL_FP_LEN];
	size_t		 n = 0;

	assert_int_equal(seal_cert_check(fpath(f, "missing.pem", junk),
	    NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing.pem"));
	/* A private key is not a certificate. */
	assert_int_equal(seal_cert_check(f->p[RSA_KEY], NULL, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no PEM X.509 certificate"));
	assert_int_equal(write_file_atomic(fpath(f, "junk.pem", junk),
	    "hello\n", 6, 0644), 0);
	assert_int_equal(seal_cert_check(junk, NULL, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(seal_cert_check(f->p[SMALL_CERT], NULL, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2048"));
	assert_int_equal(seal_cms(junk, "x", 1, &pem, &n, fp, err,
	    sizeof(err)), -EINVAL);
	assert_null(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_rsa_opened_by_openssl),
		cmocka_unit_test(test_seal_ec_opened_by_openssl),
		cmocka_unit_test(test_seal_wrong_key_and_tamper_fail),
		cmocka_unit_test(test_seal_fingerprint_matches_openssl),
		cmocka_unit_test(test_seal_bad_certs_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
