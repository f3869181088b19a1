/*
 * report: the breach notification for the supervisory authority (GDPR
 * Art. 33(3)(a)-(d)) with a draft notice to data subjects (Art. 34), and
 * the register export, one row per incident.
 *
 * The agent assembles a report as a JSON document (h_incident_report);
 * the client only renders it (report_render, Markdown or HTML).  The
 * document is a list of sections, each holding items {label, value},
 * optionally a table {columns, rows} and paragraphs, so both renderers
 * are generic and print what the agent decided to show.
 *
 * What a report leaves out: cordon's actions are summarised as counts
 * per verb, target and result; action parameters (account names, DNs,
 * addresses) and the OS users who ran commands are not in it.  The
 * authority needs the categories and numbers of data subjects, which the
 * register's fields carry; naming accounts would put identifiers into a
 * document that leaves the organisation.
 *
 * report_render() escapes every value for its destination (esc_html for
 * HTML; Markdown metacharacters with a backslash) and appends to out,
 * bounded by REPORT_MAX (-E2BIG).
 */
#ifndef CORDON_REPORT_H
#define CORDON_REPORT_H

#include <jansson.h>

#include "util.h"

#define REPORT_MAX		(16 * 1024 * 1024)
#define REPORT_FORMAT		"cordon-breach-notification/1"
#define REGISTER_FORMAT		"cordon-breach-register/1"

enum report_fmt { REPORT_MD, REPORT_HTML };

int	report_render(struct buf *out, const json_t *doc, enum report_fmt)
	    WARN_UNUSED;
/* A register value as CSV text: "" for null, true/false, integers. */
char	*report_value_text(const json_t *);

#endif
