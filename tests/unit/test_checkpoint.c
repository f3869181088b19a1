/*
 * test_checkpoint: signed checkpoints (agent/checkpoint.c) -- the exact
 * text, the parser that accepts only that text, per-customer Ed25519 keys
 * on disk (created 0600 in a 0700 directory, reloaded unchanged, refused
 * when loose), signatures that fail on any change, and a fingerprint that
 * is the SHA-256 of the DER SubjectPublicKeyInfo.  Also the journal's
 * chain file (journal_export_chain), which lets a bundle be checked with
 * sha256sum: each line is "prev hash canonical" and must agree with the
 * export line for line.
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

#include <openssl/x509.h>

#include "../../agent/checkpoint.h"
#include "../../agent/hash.h"
#include "../../agent/journal.h"
#include "../../agent/store.h"
#include "../../agent/util.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
	char	dir[64];
	char	keys[96];
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_checkpoint.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->keys, sizeof(f->keys), "%s/keys", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	const char	*names[] = { "acme.key", "acme.pub", "beta.key",
	    "beta.pub", NULL };
	size_t		 i;

	for (i = 0; names[i]; i++) {
		char p[256];

		(void)snprintf(p, sizeof(p), "%s/%s", f->keys, names[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->keys);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_checkpoint_text_exact(void **state)
{
	char	t[CHECKPOINT_TEXT_MAX];
	int	n;

	(void)state;
	n = checkpoint_text("acme", 42, H1, H2, t, sizeof(t));
	assert_int_equal(n, (int)strlen(t));
	assert_string_equal(t, "cordon-journal/acme\n42\n" H1 "\nprev " H2
	    "\n");
	/* The first checkpoint chains from 64 zeros, like the journal. */
	assert_true(checkpoint_text("acme", 0, Z64, NULL, t, sizeof(t)) > 0);
	assert_string_equal(t, "cordon-journal/acme\n0\n" Z64 "\nprev " Z64
	    "\n");
	/* Nothing that would change the line structure gets in. */
	assert_int_equal(checkpoint_text("ac\nme", 1, H1, NULL, t,
	    sizeof(t)), -EINVAL);
	assert_int_equal(checkpoint_text("", 1, H1, NULL, t, sizeof(t)),
	    -EINVAL);
	assert_int_equal(checkpoint_text("acme", -1, H1, NULL, t, sizeof(t)),
	    -EINVAL);
	assert_int_equal(checkpoint_text("acme", 1, "ABC", NULL, t,
	    sizeof(t)), -EINVAL);
	assert_int_equal(checkpoint_text("acme", 1, H1, NULL, t, 20),
	    -ENAMETOOLONG);
}

static void
test_checkpoint_parse_only_exact(void **state)
{
	char		 t[CHECKPOINT_TEXT_MAX], cust[CHECKPOINT_CUSTOMER_MAX + 1];
	char		 head[HASH_HEX_LEN + 1], prev[HASH_HEX_LEN + 1];
	int64_t		 size = 0;
	int		 n;
	const char	*bad[] = {
		"cordon-journal/acme\n042\n" H1 "\nprev " H2 "\n",
		"cordon-journal/acme\n42\n" H1 "\nprev " H2,
		"cordon-journal/acme\n42\n" H1 "\n",
		"cordon-journal/acme\n42\n" H1 "\nprev " H2 "\n\n",
		"cordon-journal/acme\n-4\n" H1 "\nprev " H2 "\n",
		"cordon-journal/\n42\n" H1 "\nprev " H2 "\n",
		"other/acme\n42\n" H1 "\nprev " H2 "\n",
		"cordon-journal/acme\n42\n" H1 "\nprv  " H2 "\n",
		NULL,
	};
	size_t		 i;

	(void)state;
	n = checkpoint_text("acme", 42, H1, H2, t, sizeof(t));
	assert_int_equal(checkpoint_parse(t, (size_t)n, cust, &size, head,
	    prev), 0);
	assert_string_equal(cust, "acme");
	assert_int_equal(size, 42);
	assert_string_equal(head, H1);
	assert_string_equal(prev, H2);
	for (i = 0; bad[i]; i++)
		if (checkpoint_parse(bad[i], strlen(bad[i]), cust, &size,
		    head, prev) != -EBADMSG)
			fail_msg("parsed: '%s'", bad[i]);
}

static void
test_checkpoint_key_create_reload(void **state)
{
	struct fixture	*f = *state;
	EVP_PKEY	*k = NULL, *k2 = NULL;
	const char	*why = NULL;
	char		 fp[CHECKPOINT_FP_LEN + 1], fp2[CHECKPOINT_FP_LEN + 1];
	char		 p[256], der_hex[HASH_HEX_LEN + 1];
	unsigned char	*der = NULL;
	struct stat	 st;
	int		 created = 0, n;

	assert_int_equal(checkpoint_key_open(f->keys, "acme", &k, &created,
	    &why), 0);
	assert_int_equal(created, 1);
	assert_int_equal(EVP_PKEY_get_id(k), EVP_PKEY_ED25519);
	assert_int_equal(stat(f->keys, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	(void)snprintf(p, sizeof(p), "%s/acme.key", f->keys);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	(void)snprintf(p, sizeof(p), "%s/acme.pub", f->keys);
	assert_int_equal(stat(p, &st), 0);

	/* The fingerprint is SHA-256 over the DER SubjectPublicKeyInfo. */
	assert_int_equal(checkpoint_key_fp(k, fp), 0);
	assert_int_equal(strlen(fp), CHECKPOINT_FP_LEN);
	assert_memory_equal(fp, "SHA256:", 7);
	assert_true((n = i2d_PUBKEY(k, &der)) > 0);
	sha256_hex(der, (size_t)n, der_hex);
	OPENSSL_free(der);
	assert_string_equal(fp + 7, der_hex);

	/* Opened again: the same key, not a new one. */
	assert_int_equal(checkpoint_key_open(f->keys, "acme", &k2, &created,
	    &why), 0);
	assert_int_equal(created, 0);
	assert_int_equal(checkpoint_key_fp(k2, fp2), 0);
	assert_string_equal(fp, fp2);
	EVP_PKEY_free(k2);
	k2 = NULL;

	/* Another customer, another key. */
	assert_int_equal(checkpoint_key_open(f->keys, "beta", &k2, &created,
	    &why), 0);
	assert_int_equal(checkpoint_key_fp(k2, fp2), 0);
	assert_string_not_equal(fp, fp2);
	EVP_PKEY_free(k2);
	k2 = NULL;

	/* A key others may read is refused, as ssh refuses one. */
	(void)snprintf(p, sizeof(p), "%s/acme.key", f->keys);
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(checkpoint_key_open(f->keys, "acme", &k2, &created,
	    &why), -EPERM);
	assert_non_null(why);
	assert_null(k2);
	assert_int_equal(chmod(p, 0600), 0);
	/* So is a directory others may enter. */
	assert_int_equal(chmod(f->keys, 0755), 0);
	assert_int_equal(checkpoint_key_open(f->keys, "acme", &k2, &created,
	    &why), -EPERM);
	assert_int_equal(chmod(f->keys, 0700), 0);
	EVP_PKEY_free(k);
}

static void
test_checkpoint_key_name_safe(void **state)
{
	char	n[80];

	(void)state;
	assert_int_equal(checkpoint_key_name("acme-1.x_y", n, sizeof(n)), 0);
	assert_string_equal(n, "acme-1.x_y");
	/* Anything that could walk out of keys_dir becomes a hash. */
	assert_int_equal(checkpoint_key_name("../etc", n, sizeof(n)), 0);
	assert_memory_equal(n, "sha256-", 7);
	assert_int_equal(strlen(n), 7 + 32);
	assert_int_equal(checkpoint_key_name(".hidden", n, sizeof(n)), 0);
	assert_memory_equal(n, "sha256-", 7);
	assert_int_equal(checkpoint_key_name("a b", n, sizeof(n)), 0);
	assert_memory_equal(n, "sha256-", 7);
}

static void
test_checkpoint_sign_verify(void **state)
{
	struct fixture	*f = *state;
	EVP_PKEY	*k = NULL, *other = NULL, *pub = NULL, *junk = NULL;
	const char	*why;
	unsigned char	 sig[CHECKPOINT_SIG_LEN];
	char		 t[CHECKPOINT_TEXT_MAX], *pem = NULL;
	char		 fp[CHECKPOINT_FP_LEN + 1], fp2[CHECKPOINT_FP_LEN + 1];
	size_t		 plen;
	int		 n, created;

	assert_int_equal(checkpoint_key_open(f->keys, "acme", &k, &created,
	    &why), 0);
	assert_int_equal(checkpoint_key_open(f->keys, "beta", &other,
	    &created, &why), 0);
	n = checkpoint_text("acme", 7, H1, NULL, t, sizeof(t));
	assert_true(n > 0);
	assert_int_equal(checkpoint_sign(k, t, (size_t)n, sig), 0);
	assert_int_equal(checkpoint_verify(k, t, (size_t)n, sig,
	    sizeof(sig)), 0);

	/* The public key alone verifies, as an auditor has it. */
	assert_int_equal(checkpoint_pubkey_pem(k, &pem, &plen), 0);
	assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
	assert_int_equal(checkpoint_pubkey_read(pem, plen, &pub), 0);
	assert_int_equal(checkpoint_verify(pub, t, (size_t)n, sig,
	    sizeof(sig)), 0);
	assert_int_equal(checkpoint_key_fp(pub, fp), 0);
	assert_int_equal(checkpoint_key_fp(k, fp2), 0);
	assert_string_equal(fp, fp2);

	/* One byte of the text, of the signature, or another key: no. */
	t[n - 2] ^= 1;
	assert_int_equal(checkpoint_verify(pub, t, (size_t)n, sig,
	    sizeof(sig)), -EBADMSG);
	t[n - 2] ^= 1;
	sig[10] ^= 0x40;
	assert_int_equal(checkpoint_verify(pub, t, (size_t)n, sig,
	    sizeof(sig)), -EBADMSG);
	sig[10] ^= 0x40;
	assert_int_equal(checkpoint_verify(other, t, (size_t)n, sig,
	    sizeof(sig)), -EBADMSG);
	assert_int_equal(checkpoint_verify(pub, t, (size_t)n, sig,
	    sizeof(sig) - 1), -EBADMSG);
	/* Not a key at all. */
	assert_int_equal(checkpoint_pubkey_read("junk", 4, &junk), -EBADMSG);
	assert_null(junk);

	free(pem);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
}

/* Reads the whole stream f into a new string. */
static char *
slurp(FILE *f)
{
	char	*p;
	long	 n;

	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) > 0);
	rewind(f);
	p = xmalloc((size_t)n + 1);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	return p;
}

static FILE *
stream_of(const char *s)
{
	FILE	*f = tmpfile();

	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	rewind(f);
	return f;
}

static int
verify_texts(const char *jl, const char *ch, int64_t *count)
{
	FILE	*a = stream_of(jl), *b = stream_of(ch);
	char	 head[HASH_HEX_LEN + 1], err[256];
	int	 r;

	r = journal_verify_chain(a, b, count, head, err, sizeof(err));
	(void)fclose(a);
	(void)fclose(b);
	return r;
}

static void
test_journal_chain_file_agrees(void **state)
{
	struct fixture	*f = *state;
	struct store	*s = NULL;
	char		 err[256], db[128], *jl, *ch, *p, h[HASH_HEX_LEN + 1];
	char		 line[4096], *sp, *sp2;
	FILE		*a, *b;
	int64_t		 count = 0;
	int		 i;

	(void)snprintf(db, sizeof(db), "%s/cordon.db", f->dir);
	assert_int_equal(store_open(db, &s, err, sizeof(err)), 0);
	assert_int_equal(store_begin(s), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(journal_append(s, "alice(1001)", "INC-1", i,
		    "queued", json_pack("{s:s,s:i}", "note", "a \"q\" \\ b",
		    "n", i)), 0);
	assert_int_equal(store_commit(s), 0);
	assert_non_null(a = tmpfile());
	assert_non_null(b = tmpfile());
	assert_int_equal(journal_export_chain(s, a, b), 0);
	jl = slurp(a);
	ch = slurp(b);
	(void)fclose(a);
	(void)fclose(b);
	store_close(s);

	assert_int_equal(verify_texts(jl, ch, &count), 0);
	assert_int_equal(count, 3);
	/* Line one: 64 zeros, its hash, and the bytes that were hashed. */
	assert_non_null(sp = strchr(ch, '\n'));
	assert_true((size_t)(sp - ch) < sizeof(line));
	memcpy(line, ch, (size_t)(sp - ch));
	line[sp - ch] = '\0';
	assert_memory_equal(line, Z64 " ", 65);
	sp2 = line + 65 + HASH_HEX_LEN + 1;
	sha256_hex2(Z64, sp2, h);
	assert_memory_equal(line + 65, h, HASH_HEX_LEN);

	/* One byte of the chain file, or a line too many: refused. */
	p = xstrdup(ch);
	p[strlen(p) - 3] ^= 1;
	assert_int_equal(verify_texts(jl, p, &count), -EBADMSG);
	free(p);
	p = xasprintf("%s%s", ch, "x y z\n");
	assert_int_equal(verify_texts(jl, p, &count), -EBADMSG);
	free(p);
	free(jl);
	free(ch);
	(void)snprintf(line, sizeof(line), "%s-wal", db);
	(void)unlink(line);
	(void)snprintf(line, sizeof(line), "%s-shm", db);
	(void)unlink(line);
	(void)unlink(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkpoint_text_exact),
		cmocka_unit_test(test_checkpoint_parse_only_exact),
		cmocka_unit_test(test_checkpoint_key_name_safe),
		cmocka_unit_test_setup_teardown(
		    test_checkpoint_key_create_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_sign_verify,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_journal_chain_file_agrees, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
