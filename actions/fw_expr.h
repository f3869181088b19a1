/*
 * fw_expr: the two small languages of a provider profile.
 *
 * Templates: text with placeholders ${name|esc}, where esc says how the
 * value is written where it lands: json (inside a JSON string, no
 * quotes), xml (text or attribute), url (RFC 3986 component), form
 * (application/x-www-form-urlencoded), re (a literal in a POSIX extended
 * regular expression), odata (inside an OData '...' literal) or raw (as
 * is; only for values the operator configured, never for the runbook's).
 * Escapings chain left to right, inner language first: an IP in XML in a
 * form field is ${host|xml|form}; raw never chains.  "$$" is a literal "$".
 *
 * Conditions: "PATH", true when some selected value is neither null nor
 * false, or "PATH OP LITERAL" with OP one of == != > >= < <=, true when
 * some selected value compares so (numbers as numbers, strings by bytes,
 * anything else by JSON equality for == and !=), or OP ~ with a JSON
 * string holding a POSIX extended regular expression, true when some
 * selected string matches.  LITERAL is JSON after template expansion:
 * "$.rows[*].ip == \"${host|json}\"".
 * PATH is a JSONPath subset: $, .name, ["name"], [N], [*], .*, or the word
 * body: the raw answer as text (== != ~ only), for answers that are not
 * JSON (XML): "body ~ \"<response status=.success.\"".
 *
 * Nothing here allocates what the caller must not free: *ret strings are
 * the caller's (free()).  Limits: FW_TEMPLATE_MAX bytes per expansion,
 * FW_PATH_MATCH_MAX values selected per path.
 */
#ifndef CORDON_FW_EXPR_H
#define CORDON_FW_EXPR_H

#include <stddef.h>

#include <jansson.h>

#include "../agent/util.h"

#define FW_TEMPLATE_MAX		(64 * 1024)
#define FW_PATH_MATCH_MAX	4096
#define FW_NAME_MAX		64

/*
 * Expands tmpl with vars (an object of strings).  -ENOENT for a name vars
 * lacks, -EINVAL for a malformed placeholder or a value with no safe
 * encoding (a NUL), -E2BIG past FW_TEMPLATE_MAX; err says which.
 */
int	fw_expand(const char *tmpl, const json_t *vars, char **ret, char *err,
	    size_t errlen) WARN_UNUSED;
/*
 * Syntax only: every placeholder well formed with a known escaping, and
 * no raw for a name in noraw (NULL-terminated).  0 or -EINVAL with err.
 */
int	fw_template_check(const char *tmpl, const char *const *noraw,
	    char *err, size_t errlen) WARN_UNUSED;
/* Syntax of a condition (placeholders checked as above).  0 or -EINVAL. */
int	fw_cond_check(const char *cond, const char *const *noraw, char *err,
	    size_t errlen) WARN_UNUSED;
/* An expanded condition on doc (NULL: no JSON body): 1, 0, or -EINVAL. */
int	fw_cond_eval(const char *cond, const json_t *doc);
/* The same, with text the raw answer for "body" (NULL: none). */
int	fw_cond_eval_text(const char *cond, const json_t *doc,
	    const char *text);
/* The first value path selects in doc (borrowed), or NULL. */
json_t	*fw_path_first(const json_t *doc, const char *path);
/* Syntax of a bare path: 0 or -EINVAL. */
int	fw_path_check(const char *path);

#endif
