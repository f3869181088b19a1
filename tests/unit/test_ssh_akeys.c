/*
 * test_ssh_akeys: the authorized_keys rules the Windows verbs share --
 * fingerprints found past options with quoted spaces, comments and junk
 * skipped, exactly the kept lines kept, base64 both ways, keep parsed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libssh/libssh.h>

#include "../../actions/ssh_akeys.h"
#include "../../actions/ssh_conn.h"
#include "../../agent/act.h"

static void
newkey(char **pub, char fp[128])
{
	ssh_key	k = NULL;

	assert_int_equal(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k), SSH_OK);
	assert_int_equal(ssh_pki_export_pubkey_base64(k, pub), SSH_OK);
	assert_int_equal(ssh_key_fp(k, fp, 128), 0);
	ssh_key_free(k);
}

static void
test_ssh_akeys_fps_and_kept(void **state)
{
	char	*p1 = NULL, *p2 = NULL, f1[128], f2[128], *text, *kept, *l2;
	size_t	 n = 0;
	json_t	*fps, *keep;

	(void)state;
	newkey(&p1, f1);
	newkey(&p2, f2);
	text = xasprintf("# managed by hand\n"
	    "from=\"127.0.0.1, ::1\",command=\"echo a b\" ssh-ed25519 %s one\n"
	    "\n"
	    "not a key line\n"
	    "ssh-ed25519 %s two", p1, p2);
	fps = ssh_akeys_fps(text, strlen(text));
	assert_int_equal(json_array_size(fps), 2);
	assert_string_equal(json_string_value(json_array_get(fps, 0)), f1);
	assert_string_equal(json_string_value(json_array_get(fps, 1)), f2);
	assert_true(ssh_akeys_has(fps, f2));
	assert_false(ssh_akeys_has(fps, "SHA256:nope"));
	keep = json_pack("[s]", f2);
	kept = ssh_akeys_kept(text, strlen(text), keep, &n);
	l2 = xasprintf("ssh-ed25519 %s two\n", p2);
	assert_int_equal(n, strlen(l2));
	assert_string_equal(kept, l2);
	free(kept);
	json_decref(keep);
	keep = json_array();
	kept = ssh_akeys_kept(text, strlen(text), keep, &n);
	assert_int_equal(n, 0);
	free(kept);
	json_decref(keep);
	json_decref(fps);
	free(l2);
	free(text);
	ssh_string_free_char(p1);
	ssh_string_free_char(p2);
}

static void
test_ssh_akeys_b64(void **state)
{
	static const char	 data[] = "a\0b\nc\xff";
	char			*b, *d = NULL;
	size_t			 n = 0;

	(void)state;
	b = ssh_b64_encode(data, sizeof(data) - 1);
	assert_int_equal(ssh_b64_decode(b, &d, &n), 0);
	assert_int_equal(n, sizeof(data) - 1);
	assert_memory_equal(d, data, n);
	free(d);
	free(b);
	b = ssh_b64_encode("", 0);
	assert_string_equal(b, "");
	assert_int_equal(ssh_b64_decode(b, &d, &n), 0);
	assert_int_equal(n, 0);
	free(d);
	free(b);
	assert_int_equal(ssh_b64_decode("abc", &d, &n), -EINVAL);
}

static int
keep_of(const char *v, enum ssh_keep_mode *km, json_t **list)
{
	struct act	*a = act_new();
	int		 r;

	a->params = v ? json_pack("{s:s}", "keep", v) : json_object();
	r = ssh_keep_parse(a, km, list);
	act_free(a);
	return r;
}

static void
test_ssh_akeys_keep_parse(void **state)
{
	static const char fp[] = "SHA256:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	enum ssh_keep_mode	 km;
	json_t			*l = NULL;
	char			*two;

	(void)state;
	assert_int_equal(keep_of(NULL, &km, &l), 0);
	assert_int_equal(km, SSH_KEEP_NEW);
	json_decref(l);
	assert_int_equal(keep_of("none", &km, &l), 0);
	assert_int_equal(km, SSH_KEEP_NONE);
	json_decref(l);
	two = xasprintf("%s, %s", fp, fp);
	assert_int_equal(keep_of(two, &km, &l), 0);
	assert_int_equal(km, SSH_KEEP_LIST);
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);
	free(two);
	l = NULL;
	assert_int_equal(keep_of("all", &km, &l), 1);
	assert_null(l);
	assert_int_equal(keep_of("SHA256:x;rm", &km, &l), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_akeys_fps_and_kept),
		cmocka_unit_test(test_ssh_akeys_b64),
		cmocka_unit_test(test_ssh_akeys_keep_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
