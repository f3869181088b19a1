/*
 * cef: ArcSight Common Event Format escaping, one function per place.
 *
 * Header fields (vendor, product, version, signature id, name): '\' and
 * '|' are escaped with a backslash.  CEF allows no line break there, so
 * CR and LF become a space.
 * Extension values: '\' and '=' are escaped with a backslash, LF is
 * written as \n and CR as \r (the two characters).  Extension keys are
 * ours, fixed ASCII words, and are not escaped.
 *
 * Both append to a struct buf (-E2BIG past its max).
 */
#ifndef CORDON_CEF_H
#define CORDON_CEF_H

#include "util.h"

int	cef_header(struct buf *, const char *) WARN_UNUSED;
int	cef_ext(struct buf *, const char *) WARN_UNUSED;

#endif
