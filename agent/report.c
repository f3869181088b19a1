/*
 * report: the authority notification, the subject notice draft and the
 * register export (see report.h).  The h_* handlers run in the agent;
 * report_render() and report_value_text() run in the client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "esc.h"
#include "register.h"
#include "report.h"

#define TIMELINE_MAX	10000	/* rows; the rest are counted */

static const char *
rstr(const json_t *rec, const char *k)
{
	return json_string_value(json_object_get(rec, k));
}

/* Appends {label, value} to sec's items; value is borrowed (NULL: null). */
static void
item(json_t *sec, const char *label, const json_t *value)
{
	(void)json_array_append_new(json_object_get(sec, "items"), json_pack(
	    "{s:s,s:O}", "label", label, "value", value ? (json_t *)value :
	    json_null()));
}

/* A record field's item; "field" names it for machine readers. */
static void
ritem(json_t *sec, const json_t *rec, const char *label, const char *k)
{
	json_t	*items = json_object_get(sec, "items");

	item(sec, label, json_object_get(rec, k));
	(void)json_object_set_new(json_array_get(items, json_array_size(
	    items) - 1), "field", json_string(k));
}

static json_t *
section(json_t *doc, const char *id, const char *title)
{
	json_t	*s = json_pack("{s:s,s:s,s:[]}", "id", id, "title", title,
	    "items");

	(void)json_array_append_new(json_object_get(doc, "sections"), s);
	return s;
}

static void
para(json_t *sec, json_t *text)
{
	json_t	*p = json_object_get(sec, "paragraphs");

	if (p == NULL) {
		p = json_array();
		(void)json_object_set_new(sec, "paragraphs", p);
	}
	(void)json_array_append_new(p, text);
}

/* Corrective measures: actions settled, counted per verb, target, result. */
static json_t *
measures_table(struct agent *ag, const char *id)
{
	sqlite3_stmt	*st;
	json_t		*rows = json_array();

	st = store_q(ag->store, "SELECT verb, target, state, COUNT(*), "
	    "MIN(updated_at), MAX(updated_at) FROM actions WHERE incident=? "
	    "AND state IN ('succeeded','failed','undone','unknown') "
	    "GROUP BY verb, target, state ORDER BY MIN(updated_at), verb, "
	    "target, state", "s", id);
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)json_array_append_new(rows, json_pack("[s?,s?,s?,I,s?,"
		    "s?]", sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		    (json_int_t)sqlite3_column_int64(st, 3),
		    sqlite3_column_text(st, 4), sqlite3_column_text(st, 5)));
	(void)sqlite3_reset(st);
	return json_pack("{s:[s,s,s,s,s,s],s:o}", "columns", "verb",
	    "target", "result", "count", "first", "last", "rows", rows);
}

static int
row_cmp(const void *a, const void *b)
{
	const json_t	*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char	*tx = json_string_value(json_array_get(x, 0));
	const char	*ty = json_string_value(json_array_get(y, 0));

	return strcmp(tx ? tx : "", ty ? ty : "");
}

/* What an incident-level journal entry says, without personal data. */
static json_t *
timeline_what(const char *event, const json_t *p)
{
	const char	*k, *rb;
	json_t		*v;
	struct buf	 b;
	char		*s;

	if (strcmp(event, "incident_opened") == 0)
		return json_sprintf("incident opened (aware at %s)",
		    json_string_value(json_object_get(p, "aware_at")) ?
		    json_string_value(json_object_get(p, "aware_at")) : "?");
	if (strcmp(event, "incident_closed") == 0)
		return json_string("incident closed");
	if (strcmp(event, "refused") == 0)
		return json_string("a request was refused by policy");
	if (strcmp(event, "run_requested") == 0) {
		rb = json_string_value(json_object_get(p, "runbook"));
		if (rb && strrchr(rb, '/'))
			rb = strrchr(rb, '/') + 1;
		return json_sprintf("runbook '%s' requested: %lld action(s)",
		    rb ? rb : "?", (long long)json_integer_value(
		    json_object_get(p, "actions")));
	}
	if (strcmp(event, "incident_updated") == 0) {
		buf_init(&b, 64 * 1024);
		if (buf_adds(&b, "register updated:") != 0) {
			buf_free(&b);
			return json_string(event);
		}
		json_object_foreach((json_t *)json_object_get(p, "changes"),
		    k, v)
			if (buf_printf(&b, " %s", k) != 0)
				break;
		s = buf_steal(&b);
		v = json_string(s);
		free(s);
		return v;
	}
	return json_string(event);
}

static json_t *
timeline_table(struct agent *ag, const char *id, const json_t *measures)
{
	sqlite3_stmt	*st;
	json_t		*rows = json_array(), *r, **v, *out;
	size_t		 i, n;
	json_int_t	 more = 0;

	st = store_q(ag->store, "SELECT ts, event, payload FROM journal "
	    "WHERE incident=? AND (action IS NULL OR action=0) ORDER BY seq",
	    "s", id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t	*p = store_col_json(st, 2);

		if (json_array_size(rows) < TIMELINE_MAX)
			(void)json_array_append_new(rows, json_pack("[s?,o]",
			    sqlite3_column_text(st, 0), timeline_what(
			    (const char *)sqlite3_column_text(st, 1), p)));
		else
			more++;
		json_decref(p);
	}
	(void)sqlite3_reset(st);
	/* Actions, one row per verb, target and result, at the first. */
	json_array_foreach(json_object_get(measures, "rows"), i, r)
		(void)json_array_append_new(rows, json_pack("[O?,o]",
		    json_array_get(r, 4), json_sprintf("%s on %s: %lld %s "
		    "(last at %s)", json_string_value(json_array_get(r, 0)),
		    json_string_value(json_array_get(r, 1)),
		    (long long)json_integer_value(json_array_get(r, 3)),
		    json_string_value(json_array_get(r, 2)),
		    json_string_value(json_array_get(r, 5)))));
	n = json_array_size(rows);
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(rows, i);
	/* RFC 3339 UTC times sort as text; qsort is not stable, so equal
	 * times may swap, which a timeline of one second tolerates. */
	qsort(v, n, sizeof(*v), row_cmp);
	out = json_array();
	for (i = 0; i < n; i++)
		(void)json_array_append(out, v[i]);
	free(v);
	json_decref(rows);
	return json_pack("{s:[s,s],s:o,s:I}", "columns", "time (UTC)",
	    "event", "rows", out, "omitted", more);
}

/* A sentence from the record, or a placeholder naming the field. */
static json_t *
say(const json_t *rec, const char *k, const char *fmt)
{
	const char	*v = rstr(rec, k);

	if (v == NULL)
		return json_sprintf("[to be completed: %s]", k);
	return json_sprintf(fmt, v);
}

static json_t *
subject_notice(const json_t *rec, const char *title, size_t nmeasures)
{
	json_t	*n = json_pack("{s:s,s:s,s:[]}", "id", "subject_notice",
	    "title", "Notice to the people affected (GDPR Art. 34, draft)",
	    "items");
	json_t	*t;

	item(n, "status", t = json_string("draft: review before sending"));
	json_decref(t);
	ritem(n, rec, "decision to notify data subjects",
	    "subjects_decision");
	ritem(n, rec, "Art. 34(3) exemption", "subjects_exemption");
	para(n, rstr(rec, "description") ? json_sprintf("We are writing to "
	    "tell you about a security incident that affects personal data "
	    "we hold about you. What happened: %s",
	    rstr(rec, "description")) : json_sprintf("We are writing to tell "
	    "you about a security incident that affects personal data we "
	    "hold about you (%s). What happened: [to be completed: "
	    "description]", title));
	para(n, say(rec, "data_categories", "The information involved: %s."));
	para(n, say(rec, "consequences", "What this may mean for you: %s."));
	if (rstr(rec, "contained_at"))
		para(n, json_sprintf("What we have done: we contained the "
		    "incident on %s%s.", rstr(rec, "contained_at"), nmeasures ?
		    ", locking or changing the access that was misused" :
		    ""));
	else
		para(n, json_string("What we have done: [to be completed: "
		    "contained_at]"));
	if (rstr(rec, "preventive_measures"))
		para(n, json_sprintf("To stop this from happening again: %s.",
		    rstr(rec, "preventive_measures")));
	para(n, say(rec, "advice_to_subjects", "What you can do: %s."));
	if (rstr(rec, "dpo_name") || rstr(rec, "dpo_email") ||
	    rstr(rec, "dpo_phone"))
		para(n, json_sprintf("Questions: contact our data protection "
		    "officer%s%s%s%s%s%s.", rstr(rec, "dpo_name") ? ", " : "",
		    rstr(rec, "dpo_name") ? rstr(rec, "dpo_name") : "",
		    rstr(rec, "dpo_email") ? ", " : "",
		    rstr(rec, "dpo_email") ? rstr(rec, "dpo_email") : "",
		    rstr(rec, "dpo_phone") ? ", " : "",
		    rstr(rec, "dpo_phone") ? rstr(rec, "dpo_phone") : ""));
	else
		para(n, json_string("Questions: [to be completed: dpo_name, "
		    "dpo_email, dpo_phone]"));
	return n;
}

/* Times the customer's deadline rules add (not register_fields), if any. */
static void
rule_items(json_t *doc, const json_t *rec)
{
	json_t		*sec = NULL, *v;
	const char	*k;

	json_object_foreach((json_t *)rec, k, v) {
		if (register_field(k) != NULL || !json_is_string(v))
			continue;
		if (sec == NULL)
			sec = section(doc, "rule_fields", "Other deadlines "
			    "(the controller's deadline rules)");
		ritem(sec, rec, k, k);
	}
}

json_t *
h_incident_report(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*id = json_string_value(json_object_get(req,
	    "incident"));
	struct customer	*cu;
	sqlite3_stmt	*st;
	json_t		*e, *doc, *rec = NULL, *inc = NULL, *s, *m, *t, *w;
	size_t		 i;
	time_t		 aware = 0, now = time(NULL), nt;
	char		 due[32], ts[32];
	const char	*na;
	int		 late;

	if ((cu = incident_customer(ag, id, &e)) == NULL)
		return e;
	if ((e = require_role(ag, c, cu, ROLE_AUDITOR, id)) != NULL)
		return e;
	st = store_q(ag->store, "SELECT id, title, aware_at, opened_at, "
	    "closed_at, record FROM incidents WHERE id=?", "s", id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		inc = json_pack("{s:s?,s:s,s:s?,s:s?,s:s?,s:s?}",
		    "id", sqlite3_column_text(st, 0), "customer", cu->name,
		    "title", sqlite3_column_text(st, 1),
		    "aware_at", sqlite3_column_text(st, 2),
		    "opened_at", sqlite3_column_text(st, 3),
		    "closed_at", sqlite3_column_text(st, 4));
		rec = store_col_json(st, 5);
	}
	(void)sqlite3_reset(st);
	if (inc == NULL)
		return reply_err(EXIT_USAGE, "no incident '%s'", id);
	if (rec == NULL)
		rec = json_object();
	if (parse_time(rstr(inc, "aware_at"), &aware) != 0)
		aware = 0;
	fmt_time(aware + ART33_SECONDS, due);
	fmt_time(now, ts);
	(void)json_object_set_new(inc, "authority_due", json_string(due));
	doc = json_pack("{s:s,s:s,s:O,s:[],s:s}", "format", REPORT_FORMAT,
	    "generated_at", ts, "incident", inc, "sections", "privacy",
	    "cordon's actions are counted per verb, target and result; "
	    "account names, action parameters and operator names are left "
	    "out");

	s = section(doc, "controller", "Controller");
	if (rstr(rec, "controller"))
		ritem(s, rec, "controller", "controller");
	else
		item(s, "controller", json_object_get(inc, "customer"));
	ritem(s, rec, "registration no.", "registration_no");
	ritem(s, rec, "role", "role");
	ritem(s, rec, "processors involved", "processors");
	ritem(s, rec, "lead supervisory authority", "lead_authority");
	ritem(s, rec, "cross-border", "cross_border");
	ritem(s, rec, "reported by", "reporter");
	ritem(s, rec, "incident owner", "owner");

	s = section(doc, "art33_3_a", "(a) Nature of the personal data "
	    "breach (Art. 33(3)(a))");
	item(s, "incident", json_object_get(inc, "id"));
	item(s, "title", json_object_get(inc, "title"));
	ritem(s, rec, "type", "type");
	ritem(s, rec, "description", "description");
	ritem(s, rec, "cause", "cause");
	ritem(s, rec, "vector", "vector");
	ritem(s, rec, "how discovered", "discovery");
	ritem(s, rec, "systems", "systems");
	ritem(s, rec, "occurred from", "occurred_from");
	ritem(s, rec, "occurred to", "occurred_to");
	ritem(s, rec, "ongoing", "ongoing");
	ritem(s, rec, "detected at", "detected_at");
	item(s, "aware at (Art. 33 clock)", json_object_get(inc, "aware_at"));
	ritem(s, rec, "basis of awareness", "aware_basis");
	ritem(s, rec, "contained at", "contained_at");
	ritem(s, rec, "categories of personal data", "data_categories");
	ritem(s, rec, "special categories (Art. 9, 10) involved",
	    "special_categories");
	ritem(s, rec, "categories of data subjects", "subject_categories");
	ritem(s, rec, "approximate number of data subjects",
	    "approx_subjects");
	ritem(s, rec, "approximate number of records", "approx_records");
	ritem(s, rec, "numbers are estimates", "numbers_estimated");
	ritem(s, rec, "data encrypted", "data_encrypted");
	ritem(s, rec, "key compromised", "key_compromised");
	ritem(s, rec, "near miss", "near_miss");

	s = section(doc, "art33_3_b", "(b) Data protection officer "
	    "(Art. 33(3)(b))");
	ritem(s, rec, "name", "dpo_name");
	ritem(s, rec, "e-mail", "dpo_email");
	ritem(s, rec, "phone", "dpo_phone");
	ritem(s, rec, "DPO involved", "dpo_involved");
	ritem(s, rec, "involvement", "dpo_involvement");

	s = section(doc, "art33_3_c", "(c) Likely consequences "
	    "(Art. 33(3)(c))");
	ritem(s, rec, "likely consequences", "consequences");
	ritem(s, rec, "risk to rights and freedoms", "risk");
	ritem(s, rec, "rationale", "risk_rationale");

	s = section(doc, "art33_3_d", "(d) Measures taken or proposed "
	    "(Art. 33(3)(d))");
	ritem(s, rec, "containment completed", "contained_at");
	ritem(s, rec, "preventive measures", "preventive_measures");
	ritem(s, rec, "advice to data subjects", "advice_to_subjects");
	m = measures_table(ag, id);
	para(s, json_string("Corrective measures taken by cordon (actions "
	    "counted per verb, target and result):"));
	(void)json_object_set(s, "table", m);

	s = section(doc, "timeline", "Timeline (from the journal)");
	(void)json_object_set_new(s, "table", timeline_table(ag, id, m));

	s = section(doc, "decisions", "Decisions and reasoning");
	ritem(s, rec, "notify the authority", "authority_decision");
	ritem(s, rec, "reasoning", "authority_reasoning");
	ritem(s, rec, "authority notified at", "authority_notified_at");
	ritem(s, rec, "notified by", "authority_notified_by");
	ritem(s, rec, "channel", "authority_channel");
	ritem(s, rec, "reference", "authority_reference");
	ritem(s, rec, "phase", "authority_phase");
	ritem(s, rec, "follow-up at", "authority_followup_at");
	ritem(s, rec, "notify data subjects", "subjects_decision");
	ritem(s, rec, "reasoning", "subjects_reasoning");
	ritem(s, rec, "Art. 34(3) exemption", "subjects_exemption");
	ritem(s, rec, "subjects notified at", "subjects_notified_at");
	ritem(s, rec, "subjects notified by", "subjects_notified_by");
	ritem(s, rec, "method", "subjects_method");
	ritem(s, rec, "number notified", "subjects_count");
	ritem(s, rec, "police notified at", "police_notified_at");
	ritem(s, rec, "CSIRT notified at", "csirt_notified_at");
	ritem(s, rec, "insurer notified at", "insurer_notified_at");
	ritem(s, rec, "processors notified at", "processors_notified_at");

	rule_items(doc, rec);

	s = section(doc, "delay", "Reasons for delay (Art. 33(1))");
	item(s, "deadline (aware at + 72 hours)", t = json_string(due));
	json_decref(t);
	na = rstr(rec, "authority_notified_at");
	late = na ? parse_time(na, &nt) == 0 && nt > aware + ART33_SECONDS :
	    now > aware + ART33_SECONDS;
	item(s, "notification later than 72 hours", t = json_boolean(late));
	json_decref(t);
	ritem(s, rec, "reasons for delay", "reasons_for_delay");

	s = section(doc, "warnings", "Open warnings");
	w = register_warnings(rec, aware, now);
	json_array_foreach(w, i, t)
		para(s, json_incref(t));
	json_decref(w);

	(void)json_array_append_new(json_object_get(doc, "sections"),
	    subject_notice(rec, rstr(inc, "title"), json_array_size(
	    json_object_get(m, "rows"))));
	json_decref(m);
	json_decref(rec);
	json_decref(inc);
	e = reply_ok();
	(void)json_object_set_new(e, "report", doc);
	return e;
}

/* The register's columns: the incident's own, then every record field. */
static json_t *
register_columns(void)
{
	const struct field	*f;
	json_t			*c = json_pack("[s,s,s,s,s,s,s,s,s]", "id",
	    "customer", "title", "opened_at", "opened_by", "aware_at",
	    "authority_due", "closed_at", "actions");

	for (f = register_fields; f->name; f++)
		(void)json_array_append_new(c, json_string(f->name));
	return c;
}

json_t *
h_register_export(struct agent *ag, const struct caller *c, json_t *req)
{
	const char		*want = json_string_value(json_object_get(req,
	    "customer"));
	const struct field	*f;
	struct customer		*cu;
	sqlite3_stmt		*st;
	json_t			*e, *list, *row, *rec;
	time_t			 aware;
	char			 due[32], ts[32];

	if ((e = require_role_named(ag, c, want, ROLE_AUDITOR)) != NULL)
		return e;
	list = json_array();
	st = store_q(ag->store, "SELECT id, customer, title, opened_at, "
	    "opened_by, aware_at, closed_at, record, (SELECT COUNT(*) FROM "
	    "actions a WHERE a.incident = i.id) FROM incidents i WHERE "
	    "?1 IS NULL OR customer = ?1 ORDER BY year, num", "s", want);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cu = config_customer(ag->cfg,
		    (const char *)sqlite3_column_text(st, 1));
		if (cu == NULL || config_role(cu, c->uid) < ROLE_AUDITOR)
			continue;
		if (parse_time((const char *)sqlite3_column_text(st, 5),
		    &aware) == 0)
			fmt_time(aware + ART33_SECONDS, due);
		else
			due[0] = '\0';
		row = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,"
		    "s:I}", "id", sqlite3_column_text(st, 0),
		    "customer", sqlite3_column_text(st, 1),
		    "title", sqlite3_column_text(st, 2),
		    "opened_at", sqlite3_column_text(st, 3),
		    "opened_by", sqlite3_column_text(st, 4),
		    "aware_at", sqlite3_column_text(st, 5),
		    "authority_due", due[0] ? due : NULL,
		    "closed_at", sqlite3_column_text(st, 6),
		    "actions", (json_int_t)sqlite3_column_int64(st, 8));
		rec = store_col_json(st, 7);
		for (f = register_fields; f->name; f++)
			(void)json_object_set(row, f->name,
			    json_object_get(rec, f->name) ?
			    json_object_get(rec, f->name) : json_null());
		json_decref(rec);
		(void)json_array_append_new(list, row);
	}
	(void)sqlite3_reset(st);
	fmt_time(time(NULL), ts);
	e = reply_ok();
	(void)json_object_set_new(e, "register", json_pack("{s:s,s:s,s:s?,"
	    "s:o,s:o}", "format", REGISTER_FORMAT, "generated_at", ts,
	    "customer", want, "columns", register_columns(), "incidents",
	    list));
	return e;
}

/* Client side: rendering. */

char *
report_value_text(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return xstrdup("");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Markdown text: metacharacters escaped, line breaks and controls a space. */
static int
esc_md(struct buf *b, const char *s)
{
	int	r;

	for (; *s; s++) {
		if (strchr("\\`*_[]<>|#~&", *s) != NULL) {
			char	t[2] = { '\\', *s };

			r = buf_add(b, t, 2);
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			r = buf_addc(b, ' ');
		else
			r = buf_addc(b, *s);
		if (r != 0)
			return r;
	}
	return 0;
}

/* A value as people read it: null is "not recorded", booleans yes/no. */
static char *
human(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return xstrdup("not recorded");
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	return report_value_text(v);
}

static int
put(struct buf *b, const json_t *v, enum report_fmt fmt)
{
	char	*s = human(v);
	int	 r;

	r = fmt == REPORT_HTML ? esc_html(b, s) : esc_md(b, s);
	free(s);
	return r;
}

static int
puts_esc(struct buf *b, const char *s, enum report_fmt fmt)
{
	return fmt == REPORT_HTML ? esc_html(b, s ? s : "") :
	    esc_md(b, s ? s : "");
}

static int
render_table(struct buf *b, const json_t *t, enum report_fmt fmt)
{
	const json_t	*cols = json_object_get(t, "columns"), *row, *v;
	size_t		 i, j;
	int		 r = 0;

	if (json_array_size(json_object_get(t, "rows")) == 0)
		return buf_adds(b, fmt == REPORT_HTML ? "<p>None.</p>\n" :
		    "None.\n\n");
	if (fmt == REPORT_HTML) {
		if ((r = buf_adds(b, "<table>\n<tr>")) != 0)
			return r;
		json_array_foreach(cols, i, v)
			if ((r = buf_adds(b, "<th>")) != 0 ||
			    (r = put(b, v, fmt)) != 0 ||
			    (r = buf_adds(b, "</th>")) != 0)
				return r;
		if ((r = buf_adds(b, "</tr>\n")) != 0)
			return r;
		json_array_foreach(json_object_get(t, "rows"), i, row) {
			if ((r = buf_adds(b, "<tr>")) != 0)
				return r;
			json_array_foreach(row, j, v)
				if ((r = buf_adds(b, "<td>")) != 0 ||
				    (r = put(b, v, fmt)) != 0 ||
				    (r = buf_adds(b, "</td>")) != 0)
					return r;
			if ((r = buf_adds(b, "</tr>\n")) != 0)
				return r;
		}
		return buf_adds(b, "</table>\n");
	}
	if ((r = buf_adds(b, "|")) != 0)
		return r;
	json_array_foreach(cols, i, v)
		if ((r = buf_adds(b, " ")) != 0 || (r = put(b, v, fmt)) != 0 ||
		    (r = buf_adds(b, " |")) != 0)
			return r;
	if ((r = buf_adds(b, "\n|")) != 0)
		return r;
	for (i = 0; i < json_array_size(cols); i++)
		if ((r = buf_adds(b, "---|")) != 0)
			return r;
	if ((r = buf_adds(b, "\n")) != 0)
		return r;
	json_array_foreach(json_object_get(t, "rows"), i, row) {
		if ((r = buf_adds(b, "|")) != 0)
			return r;
		json_array_foreach(row, j, v)
			if ((r = buf_adds(b, " ")) != 0 ||
			    (r = put(b, v, fmt)) != 0 ||
			    (r = buf_adds(b, " |")) != 0)
				return r;
		if ((r = buf_adds(b, "\n")) != 0)
			return r;
	}
	return buf_adds(b, "\n");
}

static int
render_section(struct buf *b, const json_t *s, enum report_fmt fmt)
{
	const json_t	*it, *p;
	size_t		 i;
	int		 h = fmt == REPORT_HTML, r;

	if ((r = buf_adds(b, h ? "<h2>" : "## ")) != 0 ||
	    (r = puts_esc(b, json_string_value(json_object_get(s, "title")),
	    fmt)) != 0 || (r = buf_adds(b, h ? "</h2>\n" : "\n\n")) != 0)
		return r;
	if (json_array_size(json_object_get(s, "items")) > 0 && h &&
	    (r = buf_adds(b, "<dl>\n")) != 0)
		return r;
	json_array_foreach(json_object_get(s, "items"), i, it) {
		if ((r = buf_adds(b, h ? "<dt>" : "- **")) != 0 ||
		    (r = put(b, json_object_get(it, "label"), fmt)) != 0 ||
		    (r = buf_adds(b, h ? "</dt><dd>" : "**: ")) != 0 ||
		    (r = put(b, json_object_get(it, "value"), fmt)) != 0 ||
		    (r = buf_adds(b, h ? "</dd>\n" : "\n")) != 0)
			return r;
	}
	if (json_array_size(json_object_get(s, "items")) > 0 &&
	    (r = buf_adds(b, h ? "</dl>\n" : "\n")) != 0)
		return r;
	json_array_foreach(json_object_get(s, "paragraphs"), i, p)
		if ((r = buf_adds(b, h ? "<p>" : "")) != 0 ||
		    (r = put(b, p, fmt)) != 0 ||
		    (r = buf_adds(b, h ? "</p>\n" : "\n\n")) != 0)
			return r;
	if (json_object_get(s, "table") != NULL)
		return render_table(b, json_object_get(s, "table"), fmt);
	return 0;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	"'none'; style-src 'unsafe-inline'\">\n"
	"<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;"
	"line-height:1.4}dt{font-weight:bold}dd{margin:0 0 .5em 1.5em}"
	"table{border-collapse:collapse}td,th{border:1px solid #999;"
	"padding:.2em .5em;text-align:left}</style>\n<title>";

int
report_render(struct buf *b, const json_t *doc, enum report_fmt fmt)
{
	const json_t	*inc = json_object_get(doc, "incident"), *s;
	const char	*id = json_string_value(json_object_get(inc, "id"));
	size_t		 i;
	int		 h = fmt == REPORT_HTML, r;

	if (h && ((r = buf_adds(b, html_head)) != 0 ||
	    (r = buf_adds(b, "Personal data breach notification ")) != 0 ||
	    (r = puts_esc(b, id, fmt)) != 0 ||
	    (r = buf_adds(b, "</title>\n</head>\n<body>\n")) != 0))
		return r;
	if ((r = buf_adds(b, h ? "<h1>" : "# ")) != 0 ||
	    (r = buf_adds(b, "Personal data breach notification ")) != 0 ||
	    (r = puts_esc(b, id, fmt)) != 0 ||
	    (r = buf_adds(b, h ? "</h1>\n<p>" : "\n\n")) != 0 ||
	    (r = puts_esc(b, json_string_value(json_object_get(inc, "title")),
	    fmt)) != 0 ||
	    (r = buf_adds(b, h ? "</p>\n<p>Controller: " :
	    "\n\nController: ")) != 0 ||
	    (r = puts_esc(b, json_string_value(json_object_get(inc,
	    "customer")), fmt)) != 0 ||
	    (r = buf_adds(b, ". Generated ")) != 0 ||
	    (r = puts_esc(b, json_string_value(json_object_get(doc,
	    "generated_at")), fmt)) != 0 ||
	    (r = buf_adds(b, " under GDPR Art. 33(3); ")) != 0 ||
	    (r = puts_esc(b, json_string_value(json_object_get(doc,
	    "privacy")), fmt)) != 0 ||
	    (r = buf_adds(b, h ? ".</p>\n" : ".\n\n")) != 0)
		return r;
	json_array_foreach(json_object_get(doc, "sections"), i, s)
		if ((r = render_section(b, s, fmt)) != 0)
			return r;
	return h ? buf_adds(b, "</body>\n</html>\n") : 0;
}
