/*
 * deadline: notification deadlines that are data, not code (NIS2,
 * California, ...), on top of the built-in GDPR Art. 33 clock.
 *
 * A rule set is a file of its own, rules/<set>.conf in the directory of
 * the agent's config (libconfig syntax, no @include), and a customer names
 * the sets that apply to it: `deadlines = [ "nis2", "california" ];`.
 * config/rules/ ships NIS2 and California.  A set file:
 *
 *   fields = [ "nis2_early_warning_at", ... ];	# extra time fields
 *   rules = (
 *     { name = "NIS2 early warning"; from = "aware_at"; within = "24h";
 *       done_when = "nis2_early_warning_at"; },
 *     { name = "California AG"; from = "subjects_notified_at";
 *       within = "15d"; when = "subjects_count > 500";
 *       done_when = "ca_ag_notified_at"; } );
 *
 * from: a time field (aware_at, opened_at, a register time field or a
 * declared field); the rule waits while it is unset.  within: "<n>h",
 * "<n>d" (elapsed time: 24 real hours a day, whatever DST does) or
 * "<n> month(s)" (calendar months in UTC, the day clamped to the month's
 * end: Jan 31 + 1 month = Feb 28, or 29 in a leap year).  when: optional
 * "FIELD OP VALUE", OP one of == != < <= > >= (the ordered ones for
 * integer fields only); an unset field makes it false.  done_when: the
 * field whose being set meets the deadline.  Declared fields become time
 * fields of the customer's incidents.  Errors are "file:line: message".
 */
#ifndef CORDON_DEADLINE_H
#define CORDON_DEADLINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <libconfig.h>

#define DEADLINE_MONTHS_MAX	120
#define DEADLINE_SECONDS_MAX	(10LL * 366 * 86400)

enum deadline_op { DL_NONE, DL_EQ, DL_NE, DL_LT, DL_LE, DL_GT, DL_GE };

struct deadline {
	char		*set;		/* rule set name */
	char		*name;
	char		*from;
	int64_t		 within;	/* seconds, or months when months */
	int		 months;
	char		*done_when;
	char		*when_field;	/* NULL: always applies */
	enum deadline_op when_op;
	char		*when_value;	/* as written (strings unquoted) */
	int64_t		 when_num;	/* for integer fields */
};

struct deadlines {
	struct deadline	 *rules;
	size_t		  nrules;
	char		**fields;	/* declared time fields */
	size_t		  nfields;
};

/*
 * Reads the rule sets a customer's `deadlines` setting names (a list of
 * set names, each [a-z0-9_-]) from rules/<set>.conf beside conf_path into
 * *d.  Returns 0, or -EINVAL with "file:line: message" in err.
 */
int	deadlines_parse(const char *conf_path, const config_setting_t *names,
	    struct deadlines *d, char *err, size_t errlen);
void	deadlines_free(struct deadlines *);
/* 1 when name is one of d's declared time fields. */
int	deadlines_has_field(const struct deadlines *, const char *name);

/* "24h", "15d", "1 month": 0 or -EINVAL. */
int	deadline_within_parse(const char *s, int64_t *ret, int *ret_months);
/* t + n calendar months in UTC, day clamped; -ERANGE if not representable. */
int	deadline_add_months(time_t t, int64_t n, time_t *ret);

/*
 * The state of each rule for one incident.  rec holds every field by name
 * (times as UTC RFC 3339 strings; the caller adds aware_at, opened_at).
 * Each element: {set, name, state, from?, due?, seconds_left?, overdue,
 * late?} with state "open" | "done" (late: met after due) | "waiting"
 * (from unset) | "not_applicable".
 */
json_t	*deadlines_eval(const struct deadlines *, const json_t *rec,
	    time_t now);

#endif
