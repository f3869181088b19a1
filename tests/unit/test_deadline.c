/*
 * test_deadline: deadline rules as config data (agent/deadline.c): the
 * shipped NIS2 and California sets load through config_load(), every kind
 * of mistake in a set file is refused with its file:line, calendar months
 * clamp the day, and each rule's state follows the record.
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

#include "../../agent/config.h"
#include "../../agent/deadline.h"
#include "../../agent/util.h"

struct fx {
	char	 dir[64];
	char	*conf;
	char	 err[CONFIG_ERR_MAX];
};

static void
put(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Copies the shipped set into the fixture's rules/. */
static void
ship(struct fx *x, const char *set)
{
	char	 *src = xasprintf("config/rules/%s.conf", set);
	char	 *dst = xasprintf("%s/rules/%s.conf", x->dir, set);
	char	  buf[16384];
	FILE	 *f = fopen(src, "r");
	size_t	  n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_true(n > 0 && n < sizeof(buf) - 1);
	buf[n] = '\0';
	(void)fclose(f);
	put(dst, buf);
	free(src);
	free(dst);
}

static int
setup(void **state)
{
	struct fx	*x = xcalloc(1, sizeof(*x));
	char		*rd;

	(void)snprintf(x->dir, sizeof(x->dir), "/tmp/cordon-dl.XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		return -1;
	rd = xasprintf("%s/rules", x->dir);
	if (mkdir(rd, 0700) != 0)
		return -1;
	free(rd);
	x->conf = xasprintf("%s/cordon.conf", x->dir);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*x = *state;
	char		*cmd[] = { "nis2", "california", "bad", NULL };
	char		*p;
	size_t		 i;

	for (i = 0; cmd[i]; i++) {
		p = xasprintf("%s/rules/%s.conf", x->dir, cmd[i]);
		(void)unlink(p);
		free(p);
	}
	p = xasprintf("%s/rules", x->dir);
	(void)rmdir(p);
	free(p);
	(void)unlink(x->conf);
	(void)rmdir(x->dir);
	free(x->conf);
	free(x);
	return 0;
}

/* Line 5 names the sets. */
static int
load(struct fx *x, const char *sets, struct config **ret)
{
	char	*t = xasprintf(
	    "agent: { socket = \"%s/s\"; store = \"%s/db\"; };\n"	/* 1 */
	    "customers = (\n"						/* 2 */
	    "\t{\n"							/* 3 */
	    "\t\tname = \"acme\";\n"					/* 4 */
	    "\t\tdeadlines = [ %s ];\n"					/* 5 */
	    "\t}\n"							/* 6 */
	    ");\n", x->dir, x->dir, sets);
	int	 r;

	put(x->conf, t);
	free(t);
	*ret = NULL;
	x->err[0] = '\0';
	r = config_load(x->conf, ret, x->err, sizeof(x->err));
	return r;
}

static void
test_deadline_shipped_sets_load(void **state)
{
	struct fx		*x = *state;
	struct config		*c;
	const struct deadlines	*d;

	ship(x, "nis2");
	ship(x, "california");
	assert_int_equal(load(x, "\"nis2\", \"california\"", &c), 0);
	d = &c->customers[0].deadlines;
	assert_int_equal(d->nrules, 5);
	assert_int_equal(d->nfields, 4);
	assert_true(deadlines_has_field(d, "nis2_early_warning_at"));
	assert_true(deadlines_has_field(d, "ca_ag_notified_at"));
	assert_false(deadlines_has_field(d, "authority_notified_at"));
	assert_int_equal(d->rules[0].within, 24 * 3600);
	assert_int_equal(d->rules[2].months, 1);
	assert_int_equal(d->rules[2].within, 1);
	assert_string_equal(d->rules[4].when_field, "subjects_count");
	assert_int_equal(d->rules[4].when_op, DL_GT);
	assert_int_equal(d->rules[4].when_num, 500);
	config_free(c);
	/* No deadlines: nothing beyond Art. 33. */
	assert_int_equal(load(x, "", &c), 0);
	assert_int_equal(c->customers[0].deadlines.nrules, 0);
	config_free(c);
}

/* Each bad set must fail with "<dir>/rules/bad.conf:<line>: <what>". */
static void
test_deadline_errors_name_file_and_line(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*what;
	} bad[] = {
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\";\n"
		  "within = \"3 weeks\"; done_when = \"authority_notified_at\";"
		  " }\n);\n", 3, "bad duration '3 weeks'" },
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\"; within = "
		  "\"24h\";\n done_when = \"no_such_at\"; }\n);\n", 3,
		  "unknown field 'no_such_at'" },
		{ "rules = (\n{ name = \"x\";\n from = \"description\"; within = "
		  "\"24h\"; done_when = \"authority_notified_at\"; }\n);\n", 3,
		  "'from' must be a time field" },
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\"; within = "
		  "\"24h\"; done_when = \"authority_notified_at\";\n"
		  "when = \"subjects_count ~ 5\"; }\n);\n", 3,
		  "expected one of" },
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\"; within = "
		  "\"24h\"; done_when = \"authority_notified_at\";\n"
		  "when = \"risk > high\"; }\n);\n", 3,
		  "only == and != compare it" },
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\"; within = "
		  "\"24h\"; done_when = \"authority_notified_at\";\n"
		  "when = \"risk == extreme\"; }\n);\n", 3,
		  "must be one of none|risk|high" },
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\"; within = "
		  "\"24h\"; done_when = \"authority_notified_at\";\n"
		  "when = \"subjects_count > lots\"; }\n);\n", 3,
		  "is not an integer" },
		{ "rules = (\n{ name = \"x\"; from = \"aware_at\"; within = "
		  "\"24h\";\n  done_when = \"authority_notified_at\"; "
		  "within_days = 3; }\n);\n", 3, "unknown setting "
		  "'within_days'" },
		{ "fields = [ \"x_at\" ];\n\nfieldz = 1;\n", 3,
		  "unknown setting 'fieldz'" },
		{ "\nfields = [ \"Bad\" ];\nrules = ();\n", 2,
		  "lowercase name ending in \"_at\"" },
		{ "\n\nrules = ();\n", 3, "non-empty list" },
		{ "rules = ( { name = \"x\" \n", 2, "syntax error" },
	};
	struct fx	*x = *state;
	struct config	*c;
	char		*path, *want;
	size_t		 i, nbad = 0;

	path = xasprintf("%s/rules/bad.conf", x->dir);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		put(path, bad[i].text);
		want = xasprintf("%s:%d: ", path, bad[i].line);
		if (load(x, "\"bad\"", &c) != -EINVAL ||
		    strncmp(x->err, want, strlen(want)) != 0 ||
		    strstr(x->err, bad[i].what) == NULL) {
			print_error("case %zu: got '%s', want '%s...%s'\n", i,
			    x->err, want, bad[i].what);
			nbad++;
		}
		assert_null(c);
		free(want);
	}
	free(path);
	assert_int_equal(nbad, 0);
	/* A set that is not there, and one named twice: the config's line. */
	want = xasprintf("%s:5: ", x->conf);
	assert_int_equal(load(x, "\"nosuch\"", &c), -EINVAL);
	assert_true(strncmp(x->err, want, strlen(want)) == 0);
	assert_non_null(strstr(x->err, "cannot read"));
	ship(x, "nis2");
	assert_int_equal(load(x, "\"nis2\", \"nis2\"", &c), -EINVAL);
	assert_non_null(strstr(x->err, "named twice"));
	assert_int_equal(load(x, "\"../nis2\"", &c), -EINVAL);
	assert_true(strncmp(x->err, want, strlen(want)) == 0);
	free(want);
}

static time_t
T(const char *s)
{
	time_t	t;

	assert_int_equal(parse_time(s, &t), 0);
	return t;
}

static void
test_deadline_calendar_months_clamp(void **state)
{
	static const struct { const char *from; int n; const char *want; }
	    c[] = {
		{ "2026-01-31T10:00:00Z", 1, "2026-02-28T10:00:00Z" },
		{ "2024-01-31T10:00:00Z", 1, "2024-02-29T10:00:00Z" },
		{ "2026-03-31T23:30:00Z", 1, "2026-04-30T23:30:00Z" },
		{ "2026-12-31T00:00:00Z", 2, "2027-02-28T00:00:00Z" },
		{ "2026-11-15T12:00:00Z", 1, "2026-12-15T12:00:00Z" },
		{ "2026-12-15T12:00:00Z", 1, "2027-01-15T12:00:00Z" },
		{ "2026-05-31T08:00:00Z", 13, "2027-06-30T08:00:00Z" },
	};
	time_t	t;
	char	s[32];
	size_t	i;
	int64_t	w;
	int	m;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		assert_int_equal(deadline_add_months(T(c[i].from), c[i].n,
		    &t), 0);
		fmt_time(t, s);
		assert_string_equal(s, c[i].want);
	}
	assert_int_equal(deadline_within_parse("1 month", &w, &m), 0);
	assert_true(m == 1 && w == 1);
	assert_int_equal(deadline_within_parse("2months", &w, &m), 0);
	assert_true(m == 1 && w == 2);
	assert_int_equal(deadline_within_parse("72h", &w, &m), 0);
	assert_true(m == 0 && w == 72 * 3600);
	assert_int_equal(deadline_within_parse("15d", &w, &m), 0);
	assert_true(m == 0 && w == 15 * 86400);
	assert_int_equal(deadline_within_parse("0h", &w, &m), -EINVAL);
	assert_int_equal(deadline_within_parse("-1d", &w, &m), -EINVAL);
	assert_int_equal(deadline_within_parse("3w", &w, &m), -EINVAL);
	assert_int_equal(deadline_within_parse("h", &w, &m), -EINVAL);
	assert_int_equal(deadline_within_parse("999 months", &w, &m),
	    -EINVAL);
}

static const json_t *
rule(const json_t *a, const char *name)
{
	const json_t	*e;
	size_t		 i;

	json_array_foreach(a, i, e)
		if (strstr(json_string_value(json_object_get(e, "name")),
		    name))
			return e;
	fail_msg("no rule '%s'", name);
	return NULL;
}

static const char *
S(const json_t *e, const char *k)
{
	const char	*v = json_string_value(json_object_get(e, k));

	return v ? v : "(null)";
}

static void
test_deadline_states_follow_the_record(void **state)
{
	struct fx	*x = *state;
	struct config	*c;
	json_t		*rec, *a;
	time_t		 now = T("2026-03-02T12:00:00Z");
	const json_t	*e;

	ship(x, "nis2");
	ship(x, "california");
	assert_int_equal(load(x, "\"nis2\", \"california\"", &c), 0);
	rec = json_pack("{s:s,s:s}", "aware_at", "2026-03-01T06:00:00Z",
	    "opened_at", "2026-03-01T07:00:00Z");
	a = deadlines_eval(&c->customers[0].deadlines, rec, now);
	e = rule(a, "early warning");
	assert_string_equal(S(e, "state"), "open");
	assert_string_equal(S(e, "due"), "2026-03-02T06:00:00Z");
	assert_true(json_is_true(json_object_get(e, "overdue")));
	assert_int_equal(json_integer_value(json_object_get(e,
	    "seconds_left")), -6 * 3600);
	e = rule(a, "incident notification");
	assert_string_equal(S(e, "due"), "2026-03-04T06:00:00Z");
	assert_false(json_is_true(json_object_get(e, "overdue")));
	assert_string_equal(S(rule(a, "final report"), "state"), "waiting");
	assert_string_equal(S(rule(a, "residents"), "due"),
	    "2026-03-31T06:00:00Z");
	assert_string_equal(S(rule(a, "Attorney"), "state"),
	    "not_applicable");
	json_decref(a);
	/* Done, then the final report runs a calendar month from it. */
	(void)json_object_set_new(rec, "nis2_early_warning_at",
	    json_string("2026-03-01T20:00:00Z"));
	(void)json_object_set_new(rec, "nis2_notification_at",
	    json_string("2026-01-31T09:00:00Z"));
	(void)json_object_set_new(rec, "subjects_count", json_integer(500));
	(void)json_object_set_new(rec, "subjects_notified_at",
	    json_string("2026-03-02T09:00:00Z"));
	a = deadlines_eval(&c->customers[0].deadlines, rec, now);
	assert_string_equal(S(rule(a, "early warning"), "state"), "done");
	assert_false(json_is_true(json_object_get(rule(a, "early warning"),
	    "late")));
	e = rule(a, "final report");
	assert_string_equal(S(e, "state"), "open");
	assert_string_equal(S(e, "due"), "2026-02-28T09:00:00Z");
	assert_string_equal(S(rule(a, "residents"), "state"), "done");
	/* 500 is not more than 500. */
	assert_string_equal(S(rule(a, "Attorney"), "state"),
	    "not_applicable");
	json_decref(a);
	/* Met an hour after the deadline: done, but late. */
	(void)json_object_set_new(rec, "nis2_early_warning_at",
	    json_string("2026-03-02T07:00:00Z"));
	(void)json_object_set_new(rec, "subjects_count", json_integer(501));
	a = deadlines_eval(&c->customers[0].deadlines, rec, now);
	e = rule(a, "Attorney");
	assert_string_equal(S(e, "state"), "open");
	assert_string_equal(S(e, "due"), "2026-03-17T09:00:00Z");
	e = rule(a, "early warning");
	assert_string_equal(S(e, "state"), "done");
	assert_true(json_is_true(json_object_get(e, "late")));
	json_decref(a);
	json_decref(rec);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_deadline_shipped_sets_load, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_deadline_errors_name_file_and_line, setup, teardown),
		cmocka_unit_test(test_deadline_calendar_months_clamp),
		cmocka_unit_test_setup_teardown(
		    test_deadline_states_follow_the_record, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
