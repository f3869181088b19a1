/*
 * it_register: the breach-register record through the real agent: field
 * updates journaled as old -> new, the Art. 33 clock and its refusal of a
 * late notification without reasons, the Art. 34 warning, `incident due`
 * exit codes, roles, and closing; deadline rules from config data
 * (the shipped NIS2 and California sets) in list, show and due.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../../agent/register.h"
#include "../../agent/util.h"
#include "harness.h"

#define PORT	38929

static int
group_setup(void **state)
{
	return it_group_setup(state, PORT);
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

/* An incident whose 72 hours ran out yesterday. */
static void
open_overdue(struct it_env *e, char id[32])
{
	int	y, n;

	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "old breach", "--aware-at",
	    "2026-01-05T08:00:00Z", NULL), 0);
	assert_int_equal(sscanf(e->out, "INC-%4d-%4d", &y, &n), 2);
	(void)snprintf(id, 32, "INC-%04d-%04d", y, n);
}

static void
test_register_update_journaled_old_new(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];
	json_t		*j, *ent, *ch;
	size_t		 i;
	int		 found = 0;

	assert_int_equal(it_incident_open(e, id), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=risk", "--set", "approx_subjects=1200", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=high", NULL), 0);
	assert_true(it_out_has(e, "Art. 34"));
	j = it_journal(e);
	assert_non_null(j);
	json_array_foreach(j, i, ent) {
		if (strcmp(json_string_value(json_object_get(ent, "event")),
		    "incident_updated") != 0)
			continue;
		ch = json_object_get(json_object_get(json_object_get(ent,
		    "payload"), "changes"), "risk");
		if (ch && json_is_string(json_object_get(ch, "old"))) {
			assert_string_equal(json_string_value(
			    json_object_get(ch, "old")), "risk");
			assert_string_equal(json_string_value(
			    json_object_get(ch, "new")), "high");
			found = 1;
		}
	}
	json_decref(j);
	assert_true(found);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id,
	    "--json", NULL), 0);
	j = it_out_json(e);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(j, "incident"), "record"), "approx_subjects")),
	    1200);
	json_decref(j);
	/* Bad values are usage errors; an auditor may not write. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=extreme", NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "no_such_field=1", NULL), 2);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "detected_at=2026-02-30T00:00:00Z", NULL), 2);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "update", id,
	    "--set", "risk=none", NULL), 3);
}

static void
test_register_late_notification_needs_reasons(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];

	open_overdue(e, id);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 1);
	assert_true(it_out_has(e, id));
	assert_true(it_out_has(e, "OVERDUE"));
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=now", NULL), 3);
	assert_true(it_err_has(e, "reasons_for_delay"));
	assert_true(it_journal_count(e, "refused", 0) >= 1);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=now", "--set",
	    "reasons_for_delay=forensics took three days", NULL), 0);
	/* Notified: nothing is due any more. */
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 0);
	assert_false(it_out_has(e, id));
}

static void
test_register_close_needs_lead(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];

	assert_int_equal(it_incident_open(e, id), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_decision=not_notify", "--set",
	    "authority_reasoning=no personal data involved", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "close", id, NULL),
	    3);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", id, NULL),
	    0);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", id, NULL),
	    2);
	assert_int_equal(it_journal_count(e, "incident_closed", 0), 1);
}

/* Opens an incident aware since aware ("now" if NULL) into id. */
static void
open_at(struct it_env *e, const char *aware, char id[32])
{
	int	y, n;

	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "breach", "--aware-at", aware ? aware : "now",
	    NULL), 0);
	assert_int_equal(sscanf(e->out, "INC-%4d-%4d", &y, &n), 2);
	(void)snprintf(id, 32, "INC-%04d-%04d", y, n);
}

/*
 * The line of env->out that starts with id holds want, or want2 when
 * given, and not avoid.
 */
static void
row_has(const struct it_env *e, const char *id, const char *want,
    const char *want2, const char *avoid)
{
	const char	*p = e->out, *nl;
	char		 line[512];

	while (p != NULL && strncmp(p, id, strlen(id)) != 0)
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	if (p == NULL)
		fail_msg("no row for %s in:\n%s", id, e->out);
	nl = strchr(p, '\n');
	(void)snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - p) :
	    (int)strlen(p), p);
	if (strstr(line, want) == NULL && (want2 == NULL ||
	    strstr(line, want2) == NULL))
		fail_msg("row of %s lacks '%s': %s", id, want, line);
	if (avoid != NULL && strstr(line, avoid) != NULL)
		fail_msg("row of %s has '%s': %s", id, avoid, line);
}

/*
 * The Art. 33 column of `incident list` and the due line of `show`:
 * time left while due, OVERDUE only when nobody answered the deadline,
 * and what met it otherwise.
 */
static void
test_register_list_time_left_follows_notification(void **state)
{
	struct it_env	*e = *state;
	char		 due[32], over[32], ontime[32], late[32], none[32];
	json_t		*j, *inc;
	size_t		 i;
	int		 seen = 0;

	open_at(e, NULL, due);
	open_at(e, "2026-01-05T08:00:00Z", over);
	open_at(e, "2026-01-05T08:00:00Z", ontime);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", ontime,
	    "--set", "authority_notified_at=2026-01-07T08:00:00Z", NULL), 0);
	open_at(e, "2026-01-05T08:00:00Z", late);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", late,
	    "--set", "authority_notified_at=2026-01-09T08:00:00Z", "--set",
	    "reasons_for_delay=scope unclear until forensics ended", NULL),
	    0);
	open_at(e, "2026-01-05T08:00:00Z", none);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", none,
	    "--set", "authority_decision=not_notify", "--set",
	    "authority_reasoning=encrypted, key safe", NULL), 0);

	assert_int_equal(it_cordon(e, IT_AUD, "incident", "list", NULL), 0);
	/* "now" has whole seconds: a minute may not have gone yet. */
	row_has(e, due, " 72h00m ", " 71h5", "OVERDUE");
	row_has(e, over, "OVERDUE", NULL, NULL);
	row_has(e, ontime, " notified ", NULL, "OVERDUE");
	row_has(e, late, " notified late ", NULL, "OVERDUE");
	row_has(e, none, " met ", NULL, "OVERDUE");

	assert_int_equal(it_cordon(e, IT_AUD, "incident", "list", "--json",
	    NULL), 0);
	assert_non_null(j = it_out_json(e));
	json_array_foreach(json_object_get(j, "incidents"), i, inc) {
		const char *id = json_string_value(json_object_get(inc, "id"));
		const char *st = json_string_value(json_object_get(inc,
		    "authority_state"));

		assert_non_null(st);
		if (strcmp(id, due) == 0)
			assert_string_equal(st, "due");
		else if (strcmp(id, over) == 0)
			assert_string_equal(st, "overdue");
		else if (strcmp(id, ontime) == 0)
			assert_string_equal(st, "notified");
		else if (strcmp(id, late) == 0)
			assert_string_equal(st, "notified_late");
		else if (strcmp(id, none) == 0)
			assert_string_equal(st, "not_notify");
		else
			continue;
		seen++;
	}
	json_decref(j);
	assert_int_equal(seen, 5);

	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", ontime,
	    NULL), 0);
	assert_true(it_out_has(e, "2026-01-08T08:00:00Z (notified)"));
	assert_false(it_out_has(e, "(past)"));
	assert_false(it_out_has(e, "WARNING: Art. 33"));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", over, NULL),
	    0);
	assert_true(it_out_has(e, "2026-01-08T08:00:00Z (OVERDUE)"));
	assert_true(it_out_has(e, "WARNING: Art. 33"));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", due, NULL),
	    0);
	assert_true(it_out_has(e, "m left)"));
}

/*
 * The Art. 33 clock cannot be moved or silenced: no time field takes a
 * time to come; the late-notification rule holds whatever field moves;
 * closing needs an authority decision and does not hide a deadline.
 */
static void
test_register_clock_cannot_be_moved(void **state)
{
	static const char *const fields[] = { "aware_at",
	    "authority_notified_at", "subjects_notified_at", "detected_at",
	    "authority_followup_at" };
	struct it_env	*e = *state;
	char		 id[32], old[32], soon[32], later[32], set[96];
	size_t		 i;

	fmt_time(time(NULL) + 60, soon);		/* within the skew */
	fmt_time(time(NULL) + 2 * 3600, later);
	open_at(e, NULL, id);
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		(void)snprintf(set, sizeof(set), "%s=%s", fields[i], later);
		assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
		    "--set", set, NULL), 2);
		assert_true(it_err_has(e, "in the future"));
	}
	(void)snprintf(set, sizeof(set), "detected_at=%s", soon);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", set, NULL), 0);

	/* Notified in time; moving aware_at back makes it late. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=now", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "aware_at=2026-01-05T08:00:00Z", NULL), 3);
	assert_true(it_err_has(e, "reasons_for_delay"));
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "aware_at=2026-01-05T08:00:00Z", "--set",
	    "reasons_for_delay=found in an old log", NULL), 0);
	/* Nor may the reasons go afterwards. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "reasons_for_delay=", NULL), 3);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=none", NULL), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", id, NULL),
	    0);

	/* Closing needs the authority question answered. */
	open_overdue(e, old);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", old, NULL),
	    3);
	assert_true(it_err_has(e, "authority"));
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", old,
	    "--set", "authority_decision=not_notify", NULL), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", old, NULL),
	    3);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 0);
	assert_false(it_out_has(e, old));
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", old,
	    "--set", "authority_reasoning=no personal data", NULL), 0);
	assert_int_equal(it_cordon(e, IT_LEAD, "incident", "close", old, NULL),
	    0);
	/* Closed, then the decision withdrawn: still due, still overdue. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", old,
	    "--set", "authority_decision=", NULL), 0);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 1);
	assert_true(it_out_has(e, old));
	assert_true(it_out_has(e, "OVERDUE"));
}

/*
 * A title reaches terminals, logs and reports: no control characters
 * but line breaks and tabs, as for register values.
 */
static void
test_register_title_control_chars_refused(void **state)
{
	static const char *const bad[] = { "evil \x1b]0;owned\x07 title",
	    "cr\rover", "nul-ish\x01", "del\x7f" };
	struct it_env	*e = *state;
	size_t		 i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(it_cordon(e, IT_OP, "incident", "open",
		    "--customer", "acme", "--title", bad[i], NULL), 2);
		assert_true(it_err_has(e, "control character"));
	}
	assert_int_equal(it_journal_count(e, "incident_opened", 0), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "M\xc3\xbcller's laptop\n\tsecond line",
	    NULL), 0);
}

#define NFIELDS_MAX	128

/* Round 0, 1: two distinct values per field type; *want the stored JSON. */
static char *
field_value(const struct field *f, int round, json_t **want)
{
	const char	*c = f->choices, *bar;
	char		*v;

	switch (f->type) {
	case F_TEXT:
		v = xasprintf("%s r%d: a, \"b\"; \xc3\xbc\nline 2", f->name,
		    round);
		*want = json_string(v);
		return v;
	case F_TIME:
		*want = json_string(round ? "2026-03-02T09:00:00Z" :
		    "2026-03-01T09:00:00Z");
		return xstrdup(round ? "2026-03-02T10:00[Europe/Berlin]" :
		    "2026-03-01T10:00:00+01:00");
	case F_BOOL:
		*want = json_boolean(!round);
		return xstrdup(round ? "false" : "true");
	case F_INT:
		*want = json_integer(42 + round);
		return xasprintf("%d", 42 + round);
	case F_ENUM:
		if (round) {	/* the last choice */
			while ((bar = strchr(c, '|')) != NULL)
				c = bar + 1;
			v = xstrdup(c);
		} else
			v = xstrndup(c, strcspn(c, "|"));
		*want = json_string(v);
		return v;
	}
	return NULL;
}

/*
 * Sets every register field (round 0, 1) or clears it (2), BATCH fields
 * an update (the harness caps a command's arguments).
 */
#define BATCH	8

static int
set_all(struct it_env *e, const char *id, int round, json_t *want)
{
	const char		*args[4 + 2 * BATCH + 1];
	char			*vals[BATCH];
	const struct field	*f = register_fields;
	json_t			*w = NULL;
	size_t			 n, k, i;
	int			 updates = 0;

	while (f->name) {
		n = k = 0;
		args[n++] = "incident";
		args[n++] = "update";
		args[n++] = id;
		for (; f->name && k < BATCH; f++) {
			if (round == 2) {
				vals[k] = xasprintf("%s=", f->name);
				w = json_null();
			} else {
				char *v = field_value(f, round, &w);

				vals[k] = xasprintf("%s=%s", f->name, v);
				free(v);
			}
			(void)json_object_set_new(want, f->name, w);
			args[n++] = "--set";
			args[n++] = vals[k++];
		}
		args[n] = NULL;
		if (it_cordonv(e, IT_OP, NULL, args, IT_CMD_TIMEOUT_S) != 0)
			fail_msg("update round %d: exit %d: %s", round,
			    e->status, e->err);
		for (i = 0; i < k; i++)
			free(vals[i]);
		updates++;
	}
	return updates;
}

static void
check_record(struct it_env *e, const char *id, const json_t *want)
{
	const struct field	*f;
	json_t			*j, *rec;
	char			*a, *b;

	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id,
	    "--json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	rec = json_object_get(json_object_get(j, "incident"), "record");
	for (f = register_fields; f->name; f++) {
		const json_t *got = json_object_get(rec, f->name);
		const json_t *w = json_object_get(want, f->name);

		if (got == NULL)
			got = json_null();
		if (!json_equal((json_t *)got, (json_t *)w)) {
			a = json_dumps(got, JSON_ENCODE_ANY);
			b = json_dumps(w, JSON_ENCODE_ANY);
			fail_msg("%s: stored %s, want %s", f->name, a, b);
		}
	}
	json_decref(j);
}

/* Every field of the register: set, read back, changed, cleared, and
 * each change journaled old -> new. */
static void
test_register_every_field_round_trip(void **state)
{
	struct it_env		*e = *state;
	const struct field	*f;
	char			 id[32];
	json_t			*want0 = json_object(), *want1 = json_object();
	json_t			*want2 = json_object(), *j, *ent, *ch;
	size_t			 i;
	int			 updates, found;

	assert_int_equal(it_incident_open(e, id), 0);
	updates = set_all(e, id, 0, want0);
	check_record(e, id, want0);
	updates += set_all(e, id, 1, want1);
	check_record(e, id, want1);
	/* Kept as given: an offset, a zone. */
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id, NULL),
	    0);
	assert_true(it_out_has(e, "contained_at          2026-03-02T09:00:00Z"
	    "  (given 2026-03-02T10:00:00+01:00[Europe/Berlin])"));
	/* Every field printed once, as stored. */
	for (f = register_fields; f->name; f++) {
		char	*v, *line;
		json_t	*w;

		if (f->type != F_TEXT && f->type != F_TIME) {
			v = field_value(f, 1, &w);
			line = xasprintf("  %-21s %s\n", f->name, v);
			if (!it_out_has(e, line))
				fail_msg("show does not print '%s'", line);
			free(line);
			free(v);
			json_decref(w);
		}
	}
	updates += set_all(e, id, 2, want2);
	check_record(e, id, want2);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id, NULL),
	    0);
	assert_false(it_out_has(e, "(given"));

	/* The journal says old -> new for each field, each round. */
	assert_non_null(j = it_journal(e));
	for (f = register_fields; f->name; f++) {
		found = 0;
		json_array_foreach(j, i, ent) {
			if (strcmp(json_string_value(json_object_get(ent,
			    "event")), "incident_updated") != 0)
				continue;
			ch = json_object_get(json_object_get(json_object_get(
			    ent, "payload"), "changes"), f->name);
			if (ch == NULL)
				continue;
			/* Round 0 -> 1, then 1 -> cleared. */
			if (json_equal(json_object_get(ch, "old"),
			    json_object_get(want0, f->name)) &&
			    json_equal(json_object_get(ch, "new"),
			    json_object_get(want1, f->name)))
				found |= 1;
			if (json_equal(json_object_get(ch, "old"),
			    json_object_get(want1, f->name)) &&
			    json_is_null(json_object_get(ch, "new")))
				found |= 2;
		}
		if (found != 3)
			fail_msg("%s: changes not journaled old -> new (%d)",
			    f->name, found);
	}
	assert_int_equal(it_journal_count(e, "incident_updated", 0),
	    updates);
	json_decref(j);
	json_decref(want0);
	json_decref(want1);
	json_decref(want2);
}

/* Times given with offsets and IANA zones, across DST changes. */
static void
test_register_times_with_zones(void **state)
{
	struct it_env	*e = *state;
	char		 id[32];
	json_t		*j, *ent, *ch, *inc;
	size_t		 i;
	int		 y, n, found = 0;

	/* Berlin is on CET (+01) until the 29th: 72 h run into CEST. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", "zoned", "--aware-at",
	    "2026-03-27T12:00[Europe/Berlin]", NULL), 0);
	assert_true(it_out_has(e, "authority due by 2026-03-30T11:00:00Z"));
	assert_int_equal(sscanf(e->out, "INC-%4d-%4d", &y, &n), 2);
	(void)snprintf(id, sizeof(id), "INC-%04d-%04d", y, n);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id,
	    "--json", NULL), 0);
	j = it_out_json(e);
	assert_non_null(j);
	inc = json_object_get(j, "incident");
	assert_string_equal(json_string_value(json_object_get(inc,
	    "aware_at")), "2026-03-27T11:00:00Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(inc, "record"), "given"), "aware_at")),
	    "2026-03-27T12:00:00+01:00[Europe/Berlin]");
	json_decref(j);

	/* A gap and a fold are refused, nothing recorded. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "detected_at=2026-03-29T02:30[Europe/Berlin]", NULL), 2);
	assert_true(it_err_has(e, "does not exist in Europe/Berlin"));
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "contained_at=2026-10-25T02:30[Europe/Berlin]", NULL), 2);
	assert_true(it_err_has(e, "+02:00 (the first) or +01:00 (the "
	    "second)"));
	assert_int_equal(it_journal_count(e, "incident_updated", 0), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "contained_at=2026-10-25T02:30+01:00[Europe/Berlin]",
	    "--set", "detected_at=2026-03-27T03:30:00-07:00", "--set",
	    "occurred_from=2026-03-26T22:00[Asia/Kolkata]", NULL), 0);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", id, NULL),
	    0);
	assert_true(it_out_has(e, "2026-10-25T01:30:00Z  (given "
	    "2026-10-25T02:30:00+01:00[Europe/Berlin])"));
	assert_true(it_out_has(e, "2026-03-27T10:30:00Z  (given "
	    "2026-03-27T03:30:00-07:00)"));
	assert_true(it_out_has(e, "2026-03-26T16:30:00Z  (given "
	    "2026-03-26T22:00:00+05:30[Asia/Kolkata])"));
	assert_true(it_out_has(e, "aware at          2026-03-27T11:00:00Z  "
	    "(given 2026-03-27T12:00:00+01:00[Europe/Berlin])"));

	/* 13:30 CEST on the 30th is 11:30Z, past the 72 hours. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=2026-03-30T13:30[Europe/Berlin]",
	    NULL), 3);
	assert_true(it_err_has(e, "reasons_for_delay"));
	/* 12:59 CEST is 10:59Z: in time although 73 wall-clock hours on. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "authority_notified_at=2026-03-30T12:59[Europe/Berlin]",
	    NULL), 0);
	j = it_journal(e);
	assert_non_null(j);
	json_array_foreach(j, i, ent) {
		ch = json_object_get(json_object_get(json_object_get(ent,
		    "payload"), "changes"), "authority_notified_at");
		if (ch && strcmp(json_string_value(json_object_get(ch, "new")),
		    "2026-03-30T10:59:00Z") == 0 && strcmp(json_string_value(
		    json_object_get(ch, "new_given")),
		    "2026-03-30T12:59:00+02:00[Europe/Berlin]") == 0)
			found = 1;
	}
	json_decref(j);
	assert_true(found);
	/* A zone the tz database lacks. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "detected_at=2026-03-27T12:00[Europe/Atlantis]", NULL),
	    2);
	assert_true(it_err_has(e, "unknown time zone"));
}

/* The standard config plus deadlines = [ sets ], rules/ beside it. */
static int
setup_rules(void **state)
{
	static const char *const sets[] = { "nis2", "california" };
	struct it_env	*e = *state;
	char		 p[IT_PATH_MAX], src[IT_PATH_MAX], *text, *conf;
	char		*at;
	size_t		 len, i;

	if (it_ldap_reset(e) != 0 || it_test_dir(e) != 0 ||
	    it_config_write(e, e->conf, NULL) != 0 ||
	    it_read_file(e->conf, &text, &len) != 0)
		return -1;
	if ((at = strstr(text, "name = \"acme\";")) == NULL) {
		free(text);
		return -1;
	}
	at += strlen("name = \"acme\";");
	conf = xasprintf("%.*s deadlines = [ \"nis2\", \"california\" ];%s",
	    (int)(at - text), text, at);
	free(text);
	i = it_write_file(e->conf, conf, strlen(conf), 0600) != 0;
	free(conf);
	if (i || mkdir(it_tpath(e, "rules", p), 0700) != 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(sets); i++) {
		if (snprintf(src, sizeof(src), "%s/../config/rules/%s.conf",
		    e->scripts, sets[i]) >= (int)sizeof(src) ||
		    snprintf(p, sizeof(p), "%s/rules/%s.conf", e->tdir,
		    sets[i]) >= (int)sizeof(p) ||
		    it_read_file(src, &text, &len) != 0)
			return -1;
		if (it_write_file(p, text, len, 0600) != 0) {
			free(text);
			return -1;
		}
		free(text);
	}
	return it_agent_start(e, 0);
}

static const json_t *
dl_named(const json_t *a, const char *part)
{
	const json_t	*d;
	size_t		 i;

	json_array_foreach(a, i, d)
		if (strstr(json_string_value(json_object_get(d, "name")),
		    part))
			return d;
	fail_msg("no deadline '%s'", part);
	return NULL;
}

static void
test_register_deadline_rules(void **state)
{
	struct it_env	*e = *state;
	char		 id[32], old[32];
	json_t		*j, *ent, *ch;
	const json_t	*d;
	size_t		 i;
	int		 found = 0;

	/* Fresh: the NIS2 early warning is due in 24 h, nothing overdue. */
	assert_int_equal(it_incident_open(e, id), 0);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", "--hours",
	    "25", "--json", NULL), 0);
	assert_true(it_out_has(e, "NIS2 early warning"));
	assert_false(it_out_has(e, "NIS2 incident notification"));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", "--hours",
	    "23", NULL), 0);
	assert_false(it_out_has(e, id));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "list", NULL), 0);
	assert_true(it_out_has(e, "NIS2 early warning (24 h)"));
	assert_true(it_out_has(e, "California: notify residents"));

	/* Long past: every open rule is overdue and due exits 1. */
	open_overdue(e, old);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "due", NULL), 1);
	assert_true(it_out_has(e, "NIS2 early warning (24 h)  OVERDUE"));
	assert_true(it_out_has(e, "California: notify residents (30 days)  "
	    "OVERDUE"));
	assert_true(it_out_has(e, "GDPR Art. 33)  OVERDUE"));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", old,
	    "--json", NULL), 0);
	j = it_out_json(e);
	assert_non_null(j);
	d = dl_named(json_object_get(j, "deadlines"), "early warning");
	assert_string_equal(json_string_value(json_object_get(d, "due")),
	    "2026-01-06T08:00:00Z");
	assert_true(json_is_true(json_object_get(d, "overdue")));
	d = dl_named(json_object_get(j, "deadlines"), "final report");
	assert_string_equal(json_string_value(json_object_get(d, "state")),
	    "waiting");
	d = dl_named(json_object_get(j, "deadlines"), "Attorney");
	assert_string_equal(json_string_value(json_object_get(d, "state")),
	    "not_applicable");
	json_decref(j);

	/* Rule-declared fields are set like any other, and journaled. */
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", old,
	    "--set", "nis2_early_warning_at=2026-01-05T20:00:00Z", "--set",
	    "nis2_notification_at=2026-01-31T10:00:00Z", "--set",
	    "subjects_count=501", "--set",
	    "subjects_notified_at=2026-02-01T09:00:00Z", NULL), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", old,
	    "--set", "nis2_bogus_at=now", NULL), 2);
	assert_true(it_err_has(e, "unknown field 'nis2_bogus_at'"));
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", old,
	    "--json", NULL), 0);
	j = it_out_json(e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(dl_named(
	    json_object_get(j, "deadlines"), "early warning"), "state")),
	    "done");
	/* Jan 31 + 1 calendar month = Feb 28 (UTC, clamped). */
	assert_string_equal(json_string_value(json_object_get(dl_named(
	    json_object_get(j, "deadlines"), "final report"), "due")),
	    "2026-02-28T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(dl_named(
	    json_object_get(j, "deadlines"), "Attorney"), "due")),
	    "2026-02-16T09:00:00Z");
	json_decref(j);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "show", old, NULL),
	    0);
	assert_true(it_out_has(e, "nis2_early_warning_at "
	    "2026-01-05T20:00:00Z"));
	assert_true(it_out_has(e, "OVERDUE"));
	j = it_journal(e);
	assert_non_null(j);
	json_array_foreach(j, i, ent) {
		ch = json_object_get(json_object_get(json_object_get(ent,
		    "payload"), "changes"), "nis2_notification_at");
		if (ch && json_is_null(json_object_get(ch, "old")) &&
		    strcmp(json_string_value(json_object_get(ch, "new")),
		    "2026-01-31T10:00:00Z") == 0)
			found = 1;
	}
	json_decref(j);
	assert_true(found);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_register_title_control_chars_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_list_time_left_follows_notification, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_clock_cannot_be_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_update_journaled_old_new, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_late_notification_needs_reasons, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_close_needs_lead, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_deadline_rules, setup_rules, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_times_with_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_every_field_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    it_group_teardown);
}
