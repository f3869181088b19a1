#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "register.h"
#include "util.h"

const struct field register_fields[] = {
	{ "role", F_ENUM, "controller|processor", "identity" },
	{ "controller", F_TEXT, NULL, "identity" },
	{ "registration_no", F_TEXT, NULL, "identity" },
	{ "processors", F_TEXT, NULL, "identity" },
	{ "owner", F_TEXT, NULL, "identity" },
	{ "reporter", F_TEXT, NULL, "identity" },
	{ "lead_authority", F_TEXT, NULL, "identity" },
	{ "cross_border", F_BOOL, NULL, "identity" },
	{ "dpo_name", F_TEXT, NULL, "contacts" },
	{ "dpo_email", F_TEXT, NULL, "contacts" },
	{ "dpo_phone", F_TEXT, NULL, "contacts" },
	{ "dpo_involved", F_BOOL, NULL, "contacts" },
	{ "dpo_involvement", F_TEXT, NULL, "contacts" },
	{ "occurred_from", F_TIME, NULL, "clock" },
	{ "occurred_to", F_TIME, NULL, "clock" },
	{ "ongoing", F_BOOL, NULL, "clock" },
	{ "detected_at", F_TIME, NULL, "clock" },
	{ "aware_basis", F_TEXT, NULL, "clock" },
	{ "contained_at", F_TIME, NULL, "clock" },
	{ "type", F_ENUM, "confidentiality|integrity|availability", "facts" },
	{ "description", F_TEXT, NULL, "facts" },
	{ "cause", F_TEXT, NULL, "facts" },
	{ "vector", F_TEXT, NULL, "facts" },
	{ "discovery", F_TEXT, NULL, "facts" },
	{ "systems", F_TEXT, NULL, "facts" },
	{ "data_encrypted", F_BOOL, NULL, "facts" },
	{ "key_compromised", F_BOOL, NULL, "facts" },
	{ "data_categories", F_TEXT, NULL, "facts" },
	{ "special_categories", F_BOOL, NULL, "facts" },
	{ "subject_categories", F_TEXT, NULL, "facts" },
	{ "approx_subjects", F_INT, NULL, "facts" },
	{ "approx_records", F_INT, NULL, "facts" },
	{ "numbers_estimated", F_BOOL, NULL, "facts" },
	{ "near_miss", F_BOOL, NULL, "facts" },
	{ "consequences", F_TEXT, NULL, "effects" },
	{ "risk", F_ENUM, "none|risk|high", "effects" },
	{ "risk_rationale", F_TEXT, NULL, "effects" },
	{ "preventive_measures", F_TEXT, NULL, "measures" },
	{ "advice_to_subjects", F_TEXT, NULL, "measures" },
	{ "authority_decision", F_ENUM, "notify|not_notify", "authority" },
	{ "authority_reasoning", F_TEXT, NULL, "authority" },
	{ "authority_notified_at", F_TIME, NULL, "authority" },
	{ "authority_notified_by", F_TEXT, NULL, "authority" },
	{ "authority_channel", F_TEXT, NULL, "authority" },
	{ "authority_reference", F_TEXT, NULL, "authority" },
	{ "authority_phase", F_ENUM, "initial|follow_up|final", "authority" },
	{ "authority_followup_at", F_TIME, NULL, "authority" },
	{ "reasons_for_delay", F_TEXT, NULL, "authority" },
	{ "subjects_decision", F_ENUM, "notify|not_notify", "subjects" },
	{ "subjects_reasoning", F_TEXT, NULL, "subjects" },
	{ "subjects_exemption", F_ENUM, "a|b|c", "subjects" },
	{ "subjects_notified_at", F_TIME, NULL, "subjects" },
	{ "subjects_notified_by", F_TEXT, NULL, "subjects" },
	{ "subjects_method", F_TEXT, NULL, "subjects" },
	{ "subjects_count", F_INT, NULL, "subjects" },
	{ "police_notified_at", F_TIME, NULL, "other notices" },
	{ "csirt_notified_at", F_TIME, NULL, "other notices" },
	{ "insurer_notified_at", F_TIME, NULL, "other notices" },
	{ "processors_notified_at", F_TIME, NULL, "other notices" },
	{ NULL, F_TEXT, NULL, NULL },
};

const struct field *
register_field(const char *name)
{
	const struct field	*f;

	for (f = register_fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int
in_choices(const char *choices, const char *v)
{
	size_t		 n = strlen(v);
	const char	*p = choices;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return 1;
		p += len + (bar != NULL);
	}
	return 0;
}

int
register_value(const struct field *f, const char *v, json_t **ret, char *err,
    size_t errlen)
{
	char		 ts[32], *end;
	long long	 n;
	time_t		 t;
	const char	*c;

	if (strlen(v) > REGISTER_VALUE_MAX) {
		(void)snprintf(err, errlen, "'%s' is longer than %d bytes",
		    f->name, REGISTER_VALUE_MAX);
		return -EINVAL;
	}
	for (c = v; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t') {
			(void)snprintf(err, errlen, "'%s' holds a control "
			    "character", f->name);
			return -EINVAL;
		}
	if (*v == '\0') {
		*ret = json_null();
		return 0;
	}
	switch (f->type) {
	case F_TEXT:
		*ret = json_string(v);
		break;
	case F_TIME:
		if (parse_time(v, &t) != 0) {
			(void)snprintf(err, errlen, "'%s' must be a time like "
			    "2026-11-26T06:00:00Z (UTC) or \"now\"", f->name);
			return -EINVAL;
		}
		fmt_time(t, ts);
		*ret = json_string(ts);
		break;
	case F_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false")) {
			(void)snprintf(err, errlen, "'%s' must be true or "
			    "false", f->name);
			return -EINVAL;
		}
		*ret = json_boolean(strcmp(v, "true") == 0);
		break;
	case F_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *end || n < 0) {
			(void)snprintf(err, errlen, "'%s' must be a "
			    "non-negative integer", f->name);
			return -EINVAL;
		}
		*ret = json_integer(n);
		break;
	case F_ENUM:
		if (!in_choices(f->choices, v)) {
			(void)snprintf(err, errlen, "'%s' must be one of %s",
			    f->name, f->choices);
			return -EINVAL;
		}
		*ret = json_string(v);
		break;
	}
	return 0;
}

static int
set(const json_t *r, const char *k)
{
	const json_t	*v = json_object_get(r, k);

	return v != NULL && !json_is_null(v);
}

enum art33
register_art33(const json_t *r, time_t aware_at, time_t now)
{
	const json_t	*v = json_object_get(r, "authority_notified_at");
	time_t		 t;

	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || parse_time(json_string_value(v),
		    &t) != 0 || t <= aware_at + ART33_SECONDS)
			return A33_NOTIFIED;
		return set(r, "reasons_for_delay") ? A33_NOTIFIED_LATE :
		    A33_LATE_UNEXPLAINED;
	}
	v = json_object_get(r, "authority_decision");
	if (json_is_string(v) && strcmp(json_string_value(v),
	    "not_notify") == 0)
		return A33_NOT_NOTIFY;
	return now > aware_at + ART33_SECONDS ? A33_OVERDUE : A33_DUE;
}

const char *
register_art33_name(enum art33 a)
{
	switch (a) {
	case A33_DUE:
		return "due";
	case A33_OVERDUE:
		return "overdue";
	case A33_NOTIFIED:
		return "notified";
	case A33_NOTIFIED_LATE:
		return "notified_late";
	case A33_LATE_UNEXPLAINED:
		return "late_unexplained";
	case A33_NOT_NOTIFY:
		return "not_notify";
	}
	return "due";
}

json_t *
register_warnings(const json_t *r, time_t aware_at, time_t now)
{
	json_t		*w = json_array();
	char		 due[32];
	enum art33	 a = register_art33(r, aware_at, now);

	fmt_time(aware_at + ART33_SECONDS, due);
	if (a == A33_OVERDUE)
		(void)json_array_append_new(w, json_sprintf("Art. 33: the "
		    "authority was due by %s and has not been notified; "
		    "record reasons_for_delay with the notification", due));
	else if (a == A33_LATE_UNEXPLAINED)
		(void)json_array_append_new(w, json_sprintf("Art. 33: the "
		    "authority was notified after the deadline (%s) and "
		    "reasons_for_delay is not recorded", due));
	if (set(r, "risk") && strcmp(json_string_value(json_object_get(r,
	    "risk")), "high") == 0 && !set(r, "subjects_notified_at") &&
	    !set(r, "subjects_exemption"))
		(void)json_array_append_new(w, json_string("Art. 34: risk is "
		    "high and data subjects are neither notified nor covered "
		    "by an exemption (a/b/c)"));
	return w;
}
