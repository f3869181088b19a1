/*
 * esc: one escaper per destination.  Every value that crosses into another
 * language goes through exactly one of these, chosen by where it lands.
 *
 * Each appends to a struct buf (bounded: -E2BIG past its max) and refuses
 * values that have no safe encoding in that place (-EINVAL): a NUL byte
 * anywhere, or an empty DN value.  JSON is produced by jansson, which
 * escapes on its own.
 */
#ifndef CORDON_ESC_H
#define CORDON_ESC_H

#include "util.h"

/* RFC 4515 assertion value: * ( ) \ NUL and non-ASCII as \XX. */
int	esc_ldap_filter(struct buf *, const char *) WARN_UNUSED;
/* RFC 4514 attribute value: , + " \ < > ; = leading space/# trailing space. */
int	esc_ldap_dn(struct buf *, const char *) WARN_UNUSED;
/* POSIX shell single word: '...' with ' as '\''. */
int	esc_shell_word(struct buf *, const char *) WARN_UNUSED;
/* RFC 3986 unreserved kept, everything else %XX. */
int	esc_url(struct buf *, const char *) WARN_UNUSED;
/*
 * HTML text or a quoted attribute value: & < > " ' as entities; other
 * bytes (UTF-8 included) kept.  Safe in element content and in "..." or
 * '...' attributes, never in a script, style or unquoted attribute.
 */
int	esc_html(struct buf *, const char *) WARN_UNUSED;

#endif
