/*
 * csv: RFC 4180 output.  A field is quoted when it holds a comma, a
 * double quote, CR or LF (or starts or ends with a space, which some
 * readers trim); inside quotes a double quote is doubled.  Bytes are
 * otherwise kept as they are, so UTF-8 stays UTF-8.  Records end in CRLF.
 *
 * Values are written exactly: no formula neutralising ('=' '+' '-' '@'
 * are kept), because a register must round-trip; open it in a
 * spreadsheet as text, or import it, when its fields are untrusted.
 *
 * Both functions append to a struct buf (-E2BIG past its max).
 */
#ifndef CORDON_CSV_H
#define CORDON_CSV_H

#include <stddef.h>

#include "util.h"

/* One field (NULL is an empty field). */
int	csv_field(struct buf *, const char *) WARN_UNUSED;
/* n fields separated by commas, then CRLF. */
int	csv_record(struct buf *, const char *const *fields, size_t n)
	    WARN_UNUSED;

#endif
