/*
 * register: the breach-register record of an incident (GDPR Art. 33(5)),
 * its fields, and the clocks that follow from them.
 *
 * The record is a flat JSON object of known fields (register_fields[]);
 * each field has a type that update validates (times are stored as UTC
 * RFC 3339; when given with an offset or zone, that text is kept too, in
 * record.given.<field>, see tz.h).  Every update is one journal entry listing each changed
 * field as old -> new, so the register's history is as tamper-evident as
 * the actions.  Corrective measures are not typed in: `show` derives them
 * from the incident's actions.
 */
#ifndef CORDON_REGISTER_H
#define CORDON_REGISTER_H

#include <time.h>

#include <jansson.h>

#define REGISTER_VALUE_MAX	4096
#define ART33_SECONDS		(72 * 3600)

enum field_type { F_TEXT, F_TIME, F_BOOL, F_INT, F_ENUM };

struct field {
	const char	*name;
	enum field_type	 type;
	const char	*choices;	/* F_ENUM: "none|risk|high" */
	const char	*group;		/* where show prints it */
};

extern const struct field	register_fields[];

const struct field	*register_field(const char *name);
/*
 * Validates and normalises one value for a field into *ret (a new JSON
 * value); err says why not.  An empty value clears the field (json null).
 */
int	register_value(const struct field *, const char *value, json_t **ret,
	    char *err, size_t errlen);
/*
 * Where the Art. 33 deadline (aware_at + 72 h) stands: met once the
 * authority is notified (in time, or late with reasons_for_delay) or the
 * controller decided not to notify; before that, due or overdue.  The
 * one state a record must never reach is A33_LATE_UNEXPLAINED (notified
 * late, no reasons_for_delay): update refuses it whatever field moved.
 */
enum art33 {
	A33_DUE,		/* not notified, deadline ahead */
	A33_OVERDUE,		/* not notified, deadline passed */
	A33_NOTIFIED,		/* notified in time */
	A33_NOTIFIED_LATE,	/* notified late, reasons recorded */
	A33_LATE_UNEXPLAINED,	/* notified late, no reasons */
	A33_NOT_NOTIFY,		/* decided not to notify */
};
enum art33	 register_art33(const json_t *record, time_t aware_at,
		    time_t now);
/* "due", "overdue", "notified", "notified_late", ... (for JSON). */
const char	*register_art33_name(enum art33);
/* Warnings a DPO must see (Art. 33 overdue, Art. 34 undecided), as text. */
json_t	*register_warnings(const json_t *record, time_t aware_at, time_t now);

#endif
