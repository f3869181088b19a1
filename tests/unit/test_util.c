/*
 * test_util: durations, times (agent/util.c) and secrets read from files
 * (agent/secret.c).
 *
 * Expected epoch values were computed independently (Python's
 * calendar.timegm), not with the code under test.
 */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/secret.h"
#include "../../agent/util.h"

struct fixture {
	char	dir[64];
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/cordon-util-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static const char *files[] = { "pw", "pw-link", "big", "sub" };

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*p;
	size_t		 i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		p = xasprintf("%s/%s", f->dir, files[i]);
		if (unlink(p) != 0)
			(void)rmdir(p);
		free(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* Writes n bytes of d to dir/name with mode; returns the path. */
static char *
write_secret(const struct fixture *f, const char *name, const void *d,
    size_t n, mode_t mode)
{
	char	*p = xasprintf("%s/%s", f->dir, name);
	int	 fd;

	(void)unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, d, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	return p;
}

static void
test_util_parse_duration_valid(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 want;
	} ok[] = {
		{ "90s", 90 }, { "15m", 900 }, { "4h", 14400 },
		{ "2d", 172800 }, { "10", 10 }, { "0", 0 }, { "0s", 0 },
		{ "1d", 86400 },
	};
	int64_t	v;
	size_t	i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		v = -1;
		assert_int_equal(parse_duration(ok[i].in, &v), 0);
		assert_int_equal(v, ok[i].want);
	}
}

static void
test_util_parse_duration_invalid(void **state)
{
	static const char *bad[] = {
		"-1", "-1h", "4x", "h", "", "4hh", "4 h", "1.5h", "4H", "s",
		"99999999999999999999",
	};
	int64_t	v;
	size_t	i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 12345;
		if (parse_duration(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		/* Untouched on failure. */
		assert_int_equal(v, 12345);
	}
	/* Fits in int64 as a number but not once multiplied. */
	v = 12345;
	assert_int_equal(parse_duration("9223372036854775807d", &v), -ERANGE);
	assert_int_equal(v, 12345);
}

static void
test_util_parse_time_valid(void **state)
{
	static const struct {
		const char	*in;
		time_t		 want;
	} ok[] = {
		{ "2026-11-26T06:36:41Z", 1795675001 },
		{ "2026-11-26T06:36Z", 1795674960 },
		{ "2026-01-02 03:04", 1767323040 },
		{ "2026-01-02 03:04:05", 1767323045 },
		{ "2026-01-02", 1767312000 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T12:00:00Z", 1709208000 },
	};
	time_t	t;
	size_t	i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		t = -1;
		assert_int_equal(parse_time(ok[i].in, &t), 0);
		if (t != ok[i].want)
			fail_msg("'%s': got %lld, want %lld", ok[i].in,
			    (long long)t, (long long)ok[i].want);
	}
}

static void
test_util_parse_time_now(void **state)
{
	time_t	before, after, t = 0;

	(void)state;
	before = time(NULL);
	assert_int_equal(parse_time("now", &t), 0);
	after = time(NULL);
	assert_true(t >= before && t <= after);
}

static void
test_util_parse_time_invalid(void **state)
{
	static const char *bad[] = {
		"", "yesterday", "NOW", "now ", "2026-11-26T06:36:41",
		"2026-11-26T06:36:41+02:00", "2026-11-26T06:36:41Zjunk",
		"2026-13-01", "2026-11-26 25:00", "2026-11-26T24:00:00Z",
		"2026/11/26", "26 Nov 2026", "1795675001", "2026-11-26T",
	};
	time_t	t;
	size_t	i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t = 777;
		if (parse_time(bad[i], &t) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(t, 777);
	}
}

static void
test_util_fmt_time_round_trip(void **state)
{
	static const time_t ts[] = {
		0, 1, 951782400, 1709208000, 1795675001, 2147483647,
		4102444799,
	};
	char	out[32];
	time_t	t;
	size_t	i;

	(void)state;
	fmt_time(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	fmt_time(1795675001, out);
	assert_string_equal(out, "2026-11-26T06:36:41Z");
	fmt_time(4102444799, out);
	assert_string_equal(out, "2099-12-31T23:59:59Z");
	for (i = 0; i < ARRAY_SIZE(ts); i++) {
		fmt_time(ts[i], out);
		assert_int_equal(strlen(out), 20);
		t = -1;
		assert_int_equal(parse_time(out, &t), 0);
		assert_int_equal(t, ts[i]);
	}
}

static void
test_util_secret_read_ok(void **state)
{
	struct fixture	*f = *state;
	struct secret	*s = NULL;
	const char	*why = "unset";
	char		*p, fp[24];

	p = write_secret(f, "pw", "abc\n", 4, 0600);
	assert_int_equal(secret_read_file(p, &s, &why), 0);
	assert_null(why);
	assert_non_null(s);
	/* One trailing newline is stripped: it is the editor's, not ours. */
	assert_int_equal(s->len, 3);
	assert_string_equal(s->s, "abc");
	secret_fp(s, fp);
	/* SHA-256("abc") begins ba7816bf8f01cfea. */
	assert_string_equal(fp, "sha256:ba7816bf8f01cfea");
	assert_int_equal(strlen(fp), 23);
	secret_free(s);
	free(p);

	/* Only one: a second newline is part of the secret. */
	p = write_secret(f, "pw", "abc\n\n", 5, 0400);
	assert_int_equal(secret_read_file(p, &s, &why), 0);
	assert_int_equal(s->len, 4);
	assert_memory_equal(s->s, "abc\n", 5);
	secret_free(s);
	free(p);

	/* No newline: read as is. */
	p = write_secret(f, "pw", "abc", 3, 0600);
	assert_int_equal(secret_read_file(p, &s, &why), 0);
	assert_int_equal(s->len, 3);
	secret_fp(s, fp);
	assert_string_equal(fp, "sha256:ba7816bf8f01cfea");
	secret_free(s);
	free(p);

	/* An empty file is an empty secret: SHA-256("") begins e3b0c442. */
	p = write_secret(f, "pw", "", 0, 0600);
	assert_int_equal(secret_read_file(p, &s, &why), 0);
	assert_int_equal(s->len, 0);
	assert_string_equal(s->s, "");
	secret_fp(s, fp);
	assert_string_equal(fp, "sha256:e3b0c44298fc1c14");
	secret_free(s);
	free(p);
	secret_free(NULL);
}

static void
test_util_secret_fp_differs(void **state)
{
	struct fixture	*f = *state;
	struct secret	*a = NULL, *b = NULL;
	const char	*why;
	char		*p, fa[24], fb[24];
	size_t		 i;

	p = write_secret(f, "pw", "hunter2\n", 8, 0600);
	assert_int_equal(secret_read_file(p, &a, &why), 0);
	free(p);
	p = write_secret(f, "pw", "hunter3\n", 8, 0600);
	assert_int_equal(secret_read_file(p, &b, &why), 0);
	free(p);
	secret_fp(a, fa);
	secret_fp(b, fb);
	assert_string_not_equal(fa, fb);
	assert_memory_equal(fa, "sha256:", 7);
	for (i = 7; i < 23; i++)
		assert_non_null(strchr("0123456789abcdef", fa[i]));
	/* The fingerprint never contains the secret. */
	assert_null(strstr(fa, "hunter2"));
	secret_free(a);
	secret_free(b);
}

static void
test_util_secret_loose_mode_refused(void **state)
{
	struct fixture	*f = *state;
	static const mode_t modes[] = { 0640, 0644, 0604, 0620, 0602, 0660 };
	struct secret	*s;
	const char	*why;
	char		*p;
	size_t		 i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		p = write_secret(f, "pw", "abc\n", 4, modes[i]);
		s = NULL;
		why = NULL;
		if (secret_read_file(p, &s, &why) != -EPERM)
			fail_msg("mode %o was accepted", (unsigned)modes[i]);
		assert_null(s);
		assert_non_null(why);
		assert_non_null(strstr(why, "group or others"));
		free(p);
	}
}

static void
test_util_secret_symlink_refused(void **state)
{
	struct fixture	*f = *state;
	struct secret	*s = NULL;
	const char	*why = NULL;
	char		*p, *l;
	int		 r;

	p = write_secret(f, "pw", "abc\n", 4, 0600);
	l = xasprintf("%s/pw-link", f->dir);
	assert_int_equal(symlink(p, l), 0);
	/* Refused even though the file it points to is fine. */
	r = secret_read_file(l, &s, &why);
	if (r != -ELOOP && r != -EPERM)
		fail_msg("symlink: got %d", r);
	assert_null(s);
	assert_non_null(why);
	free(p);
	free(l);
}

static void
test_util_secret_not_regular(void **state)
{
	struct fixture	*f = *state;
	struct secret	*s = NULL;
	const char	*why = NULL;
	char		*p = xasprintf("%s/sub", f->dir);

	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(secret_read_file(p, &s, &why), -EPERM);
	assert_null(s);
	assert_string_equal(why, "not a regular file");
	free(p);

	why = NULL;
	assert_int_equal(secret_read_file("/nonexistent/pw", &s, &why),
	    -ENOENT);
	assert_null(s);
	assert_non_null(why);
}

static void
test_util_secret_size_limit(void **state)
{
	struct fixture	*f = *state;
	struct secret	*s = NULL;
	const char	*why = NULL;
	char		*d = xmalloc(SECRET_MAX + 2), *p;

	memset(d, 'k', SECRET_MAX + 1);
	p = write_secret(f, "big", d, SECRET_MAX, 0600);
	assert_int_equal(secret_read_file(p, &s, &why), 0);
	assert_int_equal(s->len, SECRET_MAX);
	assert_int_equal(strlen(s->s), SECRET_MAX);
	secret_free(s);
	s = NULL;
	free(p);

	p = write_secret(f, "big", d, SECRET_MAX + 1, 0600);
	assert_int_equal(secret_read_file(p, &s, &why), -E2BIG);
	assert_null(s);
	assert_string_equal(why, "too long");
	free(p);
	free(d);
}

static void
test_util_read_file_bounded(void **state)
{
	struct fixture	*f = *state;
	char		*p, *out = NULL;
	size_t		 len = 0;

	p = write_secret(f, "big", "0123456789", 10, 0644);
	assert_int_equal(read_file(p, 10, &out, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(out, "0123456789");
	free(out);
	out = NULL;
	assert_int_equal(read_file(p, 9, &out, &len), -E2BIG);
	assert_null(out);
	free(p);
	assert_int_equal(read_file("/nonexistent/x", 10, &out, &len),
	    -ENOENT);
}

/* Every byte value round-trips; odd, too long, upper case are refused. */
static void
test_util_hex(void **state)
{
	unsigned char	b[256], back[256];
	char		t[2 * sizeof(b) + 1];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)i;
	hex_encode(b, sizeof(b), t);
	assert_int_equal(strlen(t), 2 * sizeof(b));
	assert_memory_equal(t, "000102", 6);
	assert_string_equal(t + 2 * 250, "fafbfcfdfeff");
	assert_int_equal(hex_decode(t, strlen(t), back, sizeof(back)),
	    (int)sizeof(b));
	assert_memory_equal(b, back, sizeof(b));
	assert_int_equal(hex_decode("", 0, back, 0), 0);
	assert_int_equal(hex_decode("abc", 3, back, sizeof(back)), -EINVAL);
	assert_int_equal(hex_decode("abcd", 4, back, 1), -EINVAL);
	assert_int_equal(hex_decode("AB", 2, back, sizeof(back)), -EINVAL);
	assert_int_equal(hex_decode("0g", 2, back, sizeof(back)), -EINVAL);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_parse_duration_valid),
		cmocka_unit_test(test_util_parse_duration_invalid),
		cmocka_unit_test(test_util_parse_time_valid),
		cmocka_unit_test(test_util_parse_time_now),
		cmocka_unit_test(test_util_parse_time_invalid),
		cmocka_unit_test(test_util_fmt_time_round_trip),
		T(test_util_secret_read_ok),
		T(test_util_secret_fp_differs),
		T(test_util_secret_loose_mode_refused),
		T(test_util_secret_symlink_refused),
		T(test_util_secret_not_regular),
		T(test_util_secret_size_limit),
		T(test_util_read_file_bounded),
		cmocka_unit_test(test_util_hex),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
