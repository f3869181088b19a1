/*
 * test_secret_fp: secret fingerprints are keyed once the vault is set up
 * (HMAC-SHA-256 with the agent's own key from the vault directory), the
 * key file is made once and guarded; and a password policy below
 * SSH_PW_BITS_MIN bits is refused when the config loads, with file:line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../actions/ssh_conn.h"
#include "../../agent/config.h"
#include "../../agent/secret.h"
#include "../../agent/util.h"
#include "../../agent/vault.h"

struct fixture {
	char	dir[64];
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-fp-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

/* Removes the fixture dir two levels deep (the vaults live in it). */
static void
rm_tree(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			(void)unlink(p);
		free(p);
	}
	(void)closedir(d);
	(void)rmdir(dir);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(vault_init(NULL), 0);
	rm_tree(f->dir);
	free(f);
	return 0;
}

/* The expected keyed fingerprint, computed here with OpenSSL. */
static void
hmac_fp(const char *keyfile, const char *data, char out[24])
{
	unsigned char	 key[SECRET_FP_KEY_LEN], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*t;
	size_t		 i;
	FILE		*fp;

	assert_non_null(fp = fopen(keyfile, "r"));
	t = xcalloc(1, 256);
	assert_non_null(fgets(t, 256, fp));
	(void)fclose(fp);
	assert_int_equal(strlen(t), 2 * SECRET_FP_KEY_LEN + 1);
	for (i = 0; i < SECRET_FP_KEY_LEN; i++) {
		unsigned int b;

		assert_int_equal(sscanf(t + 2 * i, "%2x", &b), 1);
		key[i] = (unsigned char)b;
	}
	free(t);
	assert_non_null(HMAC(EVP_sha256(), key, sizeof(key),
	    (const unsigned char *)data, strlen(data), md, &mdlen));
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 8; i++)
		(void)snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	out[23] = '\0';
}

static void
test_secret_fp_keyed(void **state)
{
	struct fixture	*f = *state;
	struct secret	 abc = { (char *)"abc", 3 };
	struct stat	 st;
	char		*v1 = xasprintf("%s/v1", f->dir);
	char		*v2 = xasprintf("%s/v2", f->dir);
	char		*k1 = xasprintf("%s/" VAULT_FP_KEY, v1);
	char		*k2 = xasprintf("%s/" VAULT_FP_KEY, v2);
	char		 fp[24], fp2[24], want[24];
	char		 labels[VAULT_LABELS][VAULT_LABEL_MAX + 1];

	/* No key: plain SHA-256, as before (SHA-256("abc") = ba7816bf...). */
	secret_fp(&abc, fp);
	assert_string_equal(fp, "sha256:ba7816bf8f01cfea");

	/* The first vault_init makes the key: owner-only, 64 hex digits. */
	assert_int_equal(vault_init(v1), 0);
	assert_int_equal(lstat(k1, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	hmac_fp(k1, "abc", want);
	secret_fp(&abc, fp);
	assert_string_equal(fp, want);
	assert_string_not_equal(fp, "sha256:ba7816bf8f01cfea");
	/* vault_put reports the same keyed fingerprint callers journal. */
	assert_int_equal(vault_put(7, "password", "abc", 3, fp2), 0);
	assert_string_equal(fp2, want);
	/* The key file is no secret of any action. */
	assert_int_equal(vault_labels(7, labels), 1);
	assert_string_equal(labels[0], "password");

	/* Kept: a second init of the same vault fingerprints alike. */
	assert_int_equal(vault_init(v1), 0);
	secret_fp(&abc, fp2);
	assert_string_equal(fp2, want);

	/* Another agent's vault: another key, another fingerprint. */
	assert_int_equal(vault_init(v2), 0);
	secret_fp(&abc, fp2);
	assert_string_not_equal(fp2, want);
	hmac_fp(k2, "abc", want);
	assert_string_equal(fp2, want);

	/* A key others can read is refused, and so is a damaged one. */
	assert_int_equal(chmod(k2, 0644), 0);
	assert_int_equal(vault_init(v2), -EPERM);
	assert_null(vault_dir());
	assert_int_equal(write_file_atomic(k2, "xyz\n", 4, 0600), 0);
	assert_int_equal(vault_init(v2), -EINVAL);
	/* Failed init: back to no key. */
	secret_fp(&abc, fp);
	assert_string_equal(fp, "sha256:ba7816bf8f01cfea");
	free(v1);
	free(v2);
	free(k1);
	free(k2);
}

static void
test_secret_fp_policy(void **state)
{
	struct fixture	*f = *state;
	struct target	 t = { 0 };
	char		 err[256];

	(void)f;
	t.opts = json_object();
	/* Defaults: 24 of 71 characters, 147 bits. */
	assert_int_equal(ssh_pw_policy_check(&t, 24, err, sizeof(err)), 0);
	/* 12 characters of 2 distinct ones: 12 bits. */
	(void)json_object_set_new(t.opts, "password_length", json_integer(12));
	(void)json_object_set_new(t.opts, "password_alphabet",
	    json_string("ab"));
	assert_int_equal(ssh_pw_policy_check(&t, 24, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "too weak"));
	assert_non_null(strstr(err, "12 bits"));
	/* 80 of 2: exactly 80 bits, enough. */
	(void)json_object_set_new(t.opts, "password_length", json_integer(80));
	assert_int_equal(ssh_pw_policy_check(&t, 24, err, sizeof(err)), 0);
	/* 12 of the default 71: 73.8 bits, too few; 14 give 86. */
	(void)json_object_del(t.opts, "password_alphabet");
	(void)json_object_set_new(t.opts, "password_length", json_integer(12));
	assert_int_equal(ssh_pw_policy_check(&t, 24, err, sizeof(err)),
	    -EINVAL);
	(void)json_object_set_new(t.opts, "password_length", json_integer(14));
	assert_int_equal(ssh_pw_policy_check(&t, 24, err, sizeof(err)), 0);
	json_decref(t.opts);
}

/* The config loader names the target's line. */
static void
test_secret_fp_policy_config(void **state)
{
	struct fixture	*f = *state;
	struct config	*cfg = NULL;
	char		*path = xasprintf("%s/cordon.conf", f->dir);
	char		*kf = xasprintf("%s/key", f->dir);
	char		*kh = xasprintf("%s/known_hosts", f->dir);
	char		*text, *want, err[1024];
	ssh_key		 k = NULL;
	size_t		 i;
	static const char *const pol[] = {
		"password_length = 12; password_alphabet = \"ab\";",
		"password_length = 12;",
		"password_length = 40; password_alphabet = \"abcd\";",
	};

	assert_int_equal(write_file_atomic(kh, "", 0, 0644), 0);
	assert_int_equal(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k),
	    SSH_OK);
	assert_int_equal(ssh_pki_export_privkey_file(k, NULL, NULL, NULL, kf),
	    SSH_OK);
	ssh_key_free(k);
	assert_int_equal(chmod(kf, 0600), 0);
	for (i = 0; i < ARRAY_SIZE(pol); i++) {
		text = xasprintf(
		    "agent: {\n"					/* 1 */
		    "\tsocket = \"%s/s.sock\";\n"			/* 2 */
		    "\tstore = \"%s/s.db\";\n"				/* 3 */
		    "};\n"						/* 4 */
		    "customers = ( {\n"					/* 5 */
		    "\tname = \"acme\";\n"				/* 6 */
		    "\troles = ( { user = \"irene\"; role = \"lead\"; } );\n"
		    "\ttargets = (\n"					/* 8 */
		    "\t\t{ name = \"web1\"; type = \"ssh\"; host = "	/* 9 */
		    "\"10.0.0.1\"; user = \"cordon\"; key_file = \"%s\"; "
		    "known_hosts = \"%s\"; %s }\n"
		    "\t);\n"
		    "} );\n", f->dir, f->dir, kf, kh, pol[i]);
		assert_int_equal(write_file_atomic(path, text, strlen(text),
		    0600), 0);
		free(text);
		err[0] = '\0';
		if (i < 2) {
			assert_int_equal(config_load(path, &cfg, err,
			    sizeof(err)), -EINVAL);
			assert_null(cfg);
			want = xasprintf("%s:9: ", path);
			if (strncmp(err, want, strlen(want)) != 0 ||
			    strstr(err, "password policy too weak") == NULL)
				fail_msg("err '%s'", err);
			free(want);
		} else {
			/* 40 of 4: exactly 80 bits. */
			if (config_load(path, &cfg, err, sizeof(err)) != 0)
				fail_msg("config_load: %s", err);
			config_free(cfg);
			cfg = NULL;
		}
	}
	free(path);
	free(kf);
	free(kh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_secret_fp_keyed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_secret_fp_policy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_secret_fp_policy_config,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
