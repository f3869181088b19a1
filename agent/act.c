#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "util.h"

static const char *names[ST__COUNT] = {
	[ST_PLANNED] = "planned",
	[ST_AWAITING] = "awaiting_approval",
	[ST_APPROVED] = "approved",
	[ST_RUNNING] = "running",
	[ST_SUCCEEDED] = "succeeded",
	[ST_FAILED] = "failed",
	[ST_UNKNOWN] = "unknown",
	[ST_REJECTED] = "rejected",
	[ST_EXPIRED] = "expired",
	[ST_UNDONE] = "undone",
};

#define T(a, b) (1u << (b))
static const unsigned allowed[ST__COUNT] = {
	[ST_PLANNED] = T(0, ST_AWAITING) | T(0, ST_APPROVED) |
	    T(0, ST_FAILED),
	[ST_AWAITING] = T(0, ST_APPROVED) | T(0, ST_REJECTED) |
	    T(0, ST_EXPIRED) | T(0, ST_AWAITING),
	[ST_APPROVED] = T(0, ST_RUNNING) | T(0, ST_AWAITING) |
	    T(0, ST_FAILED) | T(0, ST_SUCCEEDED),
	[ST_RUNNING] = T(0, ST_SUCCEEDED) | T(0, ST_FAILED) |
	    T(0, ST_UNKNOWN) | T(0, ST_AWAITING) | T(0, ST_APPROVED),
	[ST_UNKNOWN] = T(0, ST_APPROVED) | T(0, ST_SUCCEEDED) |
	    T(0, ST_FAILED),
	[ST_SUCCEEDED] = T(0, ST_UNDONE),
};
#undef T

const char *
act_state_name(enum act_state s)
{
	return (unsigned)s < ST__COUNT ? names[s] : "?";
}

int
act_state_parse(const char *s, enum act_state *ret)
{
	int	i;

	for (i = 0; i < ST__COUNT; i++)
		if (strcmp(names[i], s) == 0) {
			*ret = (enum act_state)i;
			return 0;
		}
	return -1;
}

int
act_transition_ok(enum act_state from, enum act_state to)
{
	if ((unsigned)from >= ST__COUNT || (unsigned)to >= ST__COUNT)
		return 0;
	return (allowed[from] >> to) & 1;
}

int
act_state_final(enum act_state s)
{
	return s == ST_SUCCEEDED || s == ST_FAILED || s == ST_REJECTED ||
	    s == ST_EXPIRED || s == ST_UNDONE;
}

struct act *
act_new(void)
{
	return xcalloc(1, sizeof(struct act));
}

void
act_reset(struct act *a)
{
	a->outcome = ACT_OK;
	a->msg[0] = '\0';
}

void
act_free(struct act *a)
{
	if (a == NULL)
		return;
	free(a->verb);
	free(a->incident);
	free(a->step);
	free(a->target_name);
	free(a->requested_by);
	free(a->change);
	json_decref(a->params);
	json_decref(a->restore);
	json_decref(a->before);
	json_decref(a->observed);
	json_decref(a->incident_info);
	free(a);
}

void
act_fail(struct act *a, const char *fmt, ...)
{
	va_list	ap;

	a->outcome = ACT_FAIL;
	va_start(ap, fmt);
	(void)vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
}

const char *
act_param(const struct act *a, const char *key)
{
	return json_string_value(json_object_get(a->params, key));
}

const char *
act_outcome_name(const struct act *a)
{
	switch (a->outcome) {
	case ACT_OK: return "change";
	case ACT_NOCHANGE: return "no_change";
	case ACT_REFUSED: return "refused";
	case ACT_STALE: return "stale";
	default: return "failed";
	}
}
