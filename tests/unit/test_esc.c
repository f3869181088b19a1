/*
 * test_esc: one escaper per destination (agent/esc.c) and the bounded
 * buffer under them.
 *
 * The LDAP and URL escapers are checked against exact expected text; the
 * shell escaper is checked by handing its output to a real /bin/sh, since
 * what matters is what the shell makes of it, not how it looks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/esc.h"
#include "../../agent/util.h"

#define ESC_TEST_MAX	4096
#define SH_OUT_MAX	4096

/* Escapes s with fn into a fresh string; returns the escaper's result. */
static int
esc_with(int (*fn)(struct buf *, const char *), const char *s, char **ret)
{
	struct buf	b;
	int		r;

	buf_init(&b, ESC_TEST_MAX);
	if ((r = fn(&b, s)) != 0) {
		buf_free(&b);
		*ret = NULL;
		return r;
	}
	*ret = buf_steal(&b);
	return 0;
}

static void
expect_esc(int (*fn)(struct buf *, const char *), const char *in,
    const char *want)
{
	char	*out = NULL;

	assert_int_equal(esc_with(fn, in, &out), 0);
	assert_string_equal(out, want);
	free(out);
}

static void
test_esc_ldap_filter_injection(void **state)
{
	(void)state;
	/* The classic filter injection must come out as a literal value. */
	expect_esc(esc_ldap_filter, "*)(uid=*", "\\2a\\29\\28uid=\\2a");
	expect_esc(esc_ldap_filter, "alice", "alice");
	expect_esc(esc_ldap_filter, "", "");
	expect_esc(esc_ldap_filter, "a\\b", "a\\5cb");
	expect_esc(esc_ldap_filter, "x)(|(objectClass=*)",
	    "x\\29\\28|\\28objectClass=\\2a\\29");
	/* Characters special elsewhere but not in a filter value stay. */
	expect_esc(esc_ldap_filter, "a b,c=d+e&f|g!h",
	    "a b,c=d+e&f|g!h");
}

static void
test_esc_ldap_filter_controls_and_non_ascii(void **state)
{
	(void)state;
	expect_esc(esc_ldap_filter, "\x01", "\\01");
	expect_esc(esc_ldap_filter, "a\tb\nc", "a\\09b\\0ac");
	expect_esc(esc_ldap_filter, "\x1f\x7f", "\\1f\\7f");
	/* UTF-8 is escaped byte by byte, in lowercase hex. */
	expect_esc(esc_ldap_filter, "caf\xc3\xa9", "caf\\c3\\a9");
	expect_esc(esc_ldap_filter, "\xff", "\\ff");
}

static void
test_esc_ldap_filter_every_byte(void **state)
{
	char	in[2], want[8], *out;
	int	c;

	(void)state;
	/* Exactly the RFC 4515 set, controls and >= 0x7f are escaped. */
	for (c = 1; c < 256; c++) {
		in[0] = (char)c;
		in[1] = '\0';
		if (c == '*' || c == '(' || c == ')' || c == '\\' ||
		    c < 0x20 || c >= 0x7f)
			(void)snprintf(want, sizeof(want), "\\%02x", c);
		else
			(void)snprintf(want, sizeof(want), "%c", c);
		assert_int_equal(esc_with(esc_ldap_filter, in, &out), 0);
		if (strcmp(out, want) != 0)
			fail_msg("byte 0x%02x: got '%s', want '%s'", c, out,
			    want);
		free(out);
	}
}

static void
test_esc_ldap_dn_specials(void **state)
{
	(void)state;
	expect_esc(esc_ldap_dn, "bob,ou=x", "bob\\,ou\\=x");
	expect_esc(esc_ldap_dn, "a+b", "a\\+b");
	expect_esc(esc_ldap_dn, "say \"hi\"", "say \\\"hi\\\"");
	expect_esc(esc_ldap_dn, "back\\slash", "back\\\\slash");
	expect_esc(esc_ldap_dn, "<a>;b", "\\<a\\>\\;b");
	expect_esc(esc_ldap_dn, "plain", "plain");
	/* A filter's specials mean nothing in a DN. */
	expect_esc(esc_ldap_dn, "*()", "*()");
	expect_esc(esc_ldap_dn, "a\x01" "b", "a\\01b");
	expect_esc(esc_ldap_dn, "caf\xc3\xa9", "caf\xc3\xa9");
}

static void
test_esc_ldap_dn_leading_trailing(void **state)
{
	(void)state;
	expect_esc(esc_ldap_dn, " lead", "\\ lead");
	expect_esc(esc_ldap_dn, "#hash", "\\#hash");
	/* '#' is only special in first position, space only at the ends. */
	expect_esc(esc_ldap_dn, "a#b c", "a#b c");
	expect_esc(esc_ldap_dn, "trail ", "trail\\ ");
	expect_esc(esc_ldap_dn, " ", "\\ ");
	expect_esc(esc_ldap_dn, "  ", "\\ \\ ");
	expect_esc(esc_ldap_dn, "   ", "\\  \\ ");
}

static void
test_esc_ldap_dn_empty_refused(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, ESC_TEST_MAX);
	assert_int_equal(esc_ldap_dn(&b, ""), -EINVAL);
	/* Nothing was written for the refused value. */
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/*
 * Runs /bin/sh -c "printf %s WORD" and returns what it printed, so the
 * test sees the word exactly as a shell parses it.
 */
static char *
sh_printf(const char *word)
{
	char	 cmd[SH_OUT_MAX + 16], *out;
	size_t	 len = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 fds[2], status;

	assert_true(strlen(word) < SH_OUT_MAX);
	n = snprintf(cmd, sizeof(cmd), "printf %%s %s", word);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = { "sh", "-c", cmd, NULL };

		(void)close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(126);
		(void)close(fds[1]);
		execv("/bin/sh", argv);
		_exit(127);
	}
	(void)close(fds[1]);
	out = xmalloc(SH_OUT_MAX + 1);
	while (len < SH_OUT_MAX &&
	    (n = read(fds[0], out + len, SH_OUT_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		len += (size_t)n;
	}
	out[len] = '\0';
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return out;
}

static void
test_esc_shell_word_round_trip(void **state)
{
	static const char *words[] = {
		"plain", "it's", "'", "''", "'a'b'", "two words",
		"$(id)", "`id`", "$HOME", "${x:-y}", "\"dq\"", "back\\slash",
		"semi;colon|pipe&amp", "*?[a]", "~root", "-n", "--",
		"new\nline", "tab\there", "\x01\x7f", "caf\xc3\xa9", "!$#",
		"",
	};
	char	*esc, *out;
	size_t	 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(words); i++) {
		assert_int_equal(esc_with(esc_shell_word, words[i], &esc), 0);
		out = sh_printf(esc);
		if (strcmp(out, words[i]) != 0)
			fail_msg("word %zu: shell saw '%s' for '%s' (escaped "
			    "as %s)", i, out, words[i], esc);
		free(out);
		free(esc);
	}
}

static void
test_esc_shell_word_exact(void **state)
{
	(void)state;
	expect_esc(esc_shell_word, "abc", "'abc'");
	expect_esc(esc_shell_word, "", "''");
	expect_esc(esc_shell_word, "it's", "'it'\\''s'");
}

static void
test_esc_url(void **state)
{
	(void)state;
	expect_esc(esc_url, "AZaz09-._~", "AZaz09-._~");
	expect_esc(esc_url, "a b", "a%20b");
	expect_esc(esc_url, "a/b?c=d&e#f", "a%2fb%3fc%3dd%26e%23f");
	expect_esc(esc_url, "100%", "100%25");
	expect_esc(esc_url, "a+b", "a%2bb");
	expect_esc(esc_url, "caf\xc3\xa9", "caf%c3%a9");
	expect_esc(esc_url, "\x01\x7f", "%01%7f");
	expect_esc(esc_url, "", "");
}

static void
test_esc_buf_bounded(void **state)
{
	struct buf	b;

	(void)state;
	/* Each '*' needs three bytes: two fit into eight, the third not. */
	buf_init(&b, 8);
	assert_int_equal(esc_ldap_filter(&b, "****"), -E2BIG);
	assert_true(b.len <= 8);
	assert_int_equal(b.len, 6);
	assert_int_equal(strlen(b.p), b.len);
	assert_memory_equal(b.p, "\\2a\\2a", 6);
	buf_free(&b);

	/* Exactly at the max is fine. */
	buf_init(&b, 6);
	assert_int_equal(esc_ldap_filter(&b, "**"), 0);
	assert_string_equal(b.p, "\\2a\\2a");
	buf_free(&b);

	/* The raw value fits, its escaped form does not. */
	buf_init(&b, 5);
	assert_int_equal(esc_url(&b, "a b c"), -E2BIG);
	assert_true(b.len <= 5);
	buf_free(&b);

	buf_init(&b, 6);
	assert_int_equal(esc_shell_word(&b, "abcd"), 0);
	assert_string_equal(b.p, "'abcd'");
	assert_int_equal(esc_shell_word(&b, ""), -E2BIG);
	assert_int_equal(b.len, 6);
	buf_free(&b);

	buf_init(&b, 3);
	assert_int_equal(esc_ldap_dn(&b, "a,b"), -E2BIG);
	assert_true(b.len <= 3);
	buf_free(&b);
}

static void
test_esc_buf_add_limits(void **state)
{
	struct buf	b;
	char		big[300];

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(buf_adds(&b, "abcd"), 0);
	assert_int_equal(buf_addc(&b, 'e'), -E2BIG);
	assert_string_equal(b.p, "abcd");
	buf_free(&b);

	/* A length near SIZE_MAX must not wrap the bound check. */
	buf_init(&b, 4);
	assert_int_equal(buf_addc(&b, 'x'), 0);
	assert_int_equal(buf_add(&b, "y", SIZE_MAX), -E2BIG);
	assert_int_equal(buf_add(&b, "y", SIZE_MAX - 1), -E2BIG);
	assert_int_equal(b.len, 1);
	buf_free(&b);

	/* Growth past the first allocation keeps every byte. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, sizeof(big));
	assert_int_equal(buf_adds(&b, big), 0);
	assert_int_equal(b.len, sizeof(big) - 1);
	assert_string_equal(b.p, big);
	assert_int_equal(buf_adds(&b, "zz"), -E2BIG);
	buf_free(&b);

	/* An empty buffer steals as an empty string, never NULL. */
	buf_init(&b, 4);
	{
		char *s = buf_steal(&b);

		assert_non_null(s);
		assert_string_equal(s, "");
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esc_ldap_filter_injection),
		cmocka_unit_test(test_esc_ldap_filter_controls_and_non_ascii),
		cmocka_unit_test(test_esc_ldap_filter_every_byte),
		cmocka_unit_test(test_esc_ldap_dn_specials),
		cmocka_unit_test(test_esc_ldap_dn_leading_trailing),
		cmocka_unit_test(test_esc_ldap_dn_empty_refused),
		cmocka_unit_test(test_esc_shell_word_round_trip),
		cmocka_unit_test(test_esc_shell_word_exact),
		cmocka_unit_test(test_esc_url),
		cmocka_unit_test(test_esc_buf_bounded),
		cmocka_unit_test(test_esc_buf_add_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
