#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tz.h"
#include "util.h"

#define ZONEINFO	"/usr/share/zoneinfo"
#define OFFSET_MAX	(18 * 3600)	/* RFC 9557 / ISO 8601 range */

struct local {
	struct tm	tm;		/* wall-clock fields as written */
	int		has_off;
	int		off;		/* seconds east of UTC */
	int		zulu;
	char		zone[TZ_ZONE_MAX + 1];
};

static int
zone_name_ok(const char *z)
{
	const char	*p;

	if (*z == '\0' || *z == '/' || strlen(z) > TZ_ZONE_MAX ||
	    strstr(z, "..") != NULL)
		return 0;
	for (p = z; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '/' && *p != '_' &&
		    *p != '-' && *p != '+')
			return 0;
	return 1;
}

/* The zone is in the tz database (a TZif file). */
static int
zone_exists(const char *z)
{
	const char	*dir = getenv("TZDIR");
	char		 path[256], magic[4];
	int		 fd, ok;

	if (dir == NULL || *dir == '\0')
		dir = ZONEINFO;
	if (snprintf(path, sizeof(path), "%s/%s", dir, z) >= (int)sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    memcmp(magic, "TZif", 4) == 0;
	(void)close(fd);
	return ok;
}

static int
two(const char *p)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "+01:00", "+0100", "+01", "-07:00"; 0 or -EINVAL. */
static int
parse_offset(const char *p, int *ret)
{
	int	sign = *p == '-' ? -1 : 1, h, m = 0;

	if (*p != '+' && *p != '-')
		return -EINVAL;
	p++;
	if ((h = two(p)) < 0)
		return -EINVAL;
	p += 2;
	if (*p == ':')
		p++;
	if (*p != '\0') {
		if ((m = two(p)) < 0 || m > 59 || p[2] != '\0')
			return -EINVAL;
	}
	if (h * 3600 + m * 60 > OFFSET_MAX)
		return -EINVAL;
	*ret = sign * (h * 3600 + m * 60);
	return 0;
}

/* The date and time part; the rest goes to zone/offset parsing. */
static int
parse_local(const char *s, struct local *l)
{
	char	 core[64], *br, *p;
	int	 n = 0, y, mo, d, h, mi, sec = 0;
	size_t	 len;
	time_t	 t;
	struct tm chk;

	memset(l, 0, sizeof(*l));
	if (strlen(s) >= sizeof(core) + TZ_ZONE_MAX)
		return -EINVAL;
	if ((br = strchr(s, '[')) != NULL) {
		len = strlen(br);
		if (len < 3 || br[len - 1] != ']' || len - 2 > TZ_ZONE_MAX)
			return -EINVAL;
		memcpy(l->zone, br + 1, len - 2);
		l->zone[len - 2] = '\0';
		if (!zone_name_ok(l->zone))
			return -EINVAL;
		len = (size_t)(br - s);
	} else
		len = strlen(s);
	if (len >= sizeof(core))
		return -EINVAL;
	memcpy(core, s, len);
	core[len] = '\0';
	/* Digits where ISO 8601 has them: sscanf alone would take "+3". */
	for (p = core; p < core + 16 && *p; p++)
		if (!isdigit((unsigned char)*p) && p - core != 4 &&
		    p - core != 7 && p - core != 10 && p - core != 13)
			return -EINVAL;
	if (sscanf(core, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &n) != 5 || n != 16)
		return -EINVAL;
	p = core + n;
	if (*p == ':') {
		if ((sec = two(p + 1)) < 0)
			return -EINVAL;
		p += 3;
	}
	if (*p == 'Z' && p[1] == '\0')
		l->zulu = l->has_off = 1;
	else if (*p != '\0') {
		if (parse_offset(p, &l->off) != 0)
			return -EINVAL;
		l->has_off = 1;
	}
	l->tm.tm_year = y - 1900;
	l->tm.tm_mon = mo - 1;
	l->tm.tm_mday = d;
	l->tm.tm_hour = h;
	l->tm.tm_min = mi;
	l->tm.tm_sec = sec;
	/* Refuse what timegm would normalise (Feb 30, 24:00, :60). */
	chk = l->tm;
	if ((t = timegm(&chk)) == (time_t)-1 || gmtime_r(&t, &chk) == NULL ||
	    chk.tm_year != l->tm.tm_year || chk.tm_mon != l->tm.tm_mon ||
	    chk.tm_mday != l->tm.tm_mday || chk.tm_hour != l->tm.tm_hour ||
	    chk.tm_min != l->tm.tm_min || chk.tm_sec != l->tm.tm_sec)
		return -EINVAL;
	return 0;
}

static void
fmt_off(int off, char out[8])
{
	unsigned	a = (unsigned)(off < 0 ? -off : off) % (24 * 3600);

	(void)snprintf(out, 8, "%c%02u:%02u", off < 0 ? '-' : '+', a / 3600,
	    a % 3600 / 60);
}

/*
 * The instants whose wall clock in zone is l->tm: 0 (a DST gap), 1, or 2
 * (a fold), with their offsets.  Sets TZ for the moment: not thread-safe.
 */
static int
zone_candidates(const struct local *l, time_t ret[2], int offs[2])
{
	char		*old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	struct tm	 tm, chk;
	time_t		 t;
	int		 isdst, n = 0;

	if (setenv("TZ", l->zone, 1) != 0) {
		free(old);
		return -errno;
	}
	tzset();
	for (isdst = 0; isdst <= 1; isdst++) {
		tm = l->tm;
		tm.tm_isdst = isdst;
		if ((t = mktime(&tm)) == (time_t)-1 ||
		    localtime_r(&t, &chk) == NULL)
			continue;
		if (chk.tm_year != l->tm.tm_year || chk.tm_mon != l->tm.tm_mon
		    || chk.tm_mday != l->tm.tm_mday || chk.tm_hour !=
		    l->tm.tm_hour || chk.tm_min != l->tm.tm_min ||
		    chk.tm_sec != l->tm.tm_sec)
			continue;
		if (n == 1 && ret[0] == t)
			continue;
		ret[n] = t;
		offs[n++] = (int)chk.tm_gmtoff;
	}
	if (old != NULL)
		(void)setenv("TZ", old, 1);
	else
		(void)unsetenv("TZ");
	tzset();
	free(old);
	/* Earlier instant first: the summer-time reading of a fold. */
	if (n == 2 && ret[1] < ret[0]) {
		t = ret[0], ret[0] = ret[1], ret[1] = t;
		isdst = offs[0], offs[0] = offs[1], offs[1] = isdst;
	}
	return n;
}

int
tz_time(const char *in, enum tz_mode mode, time_t *ret_utc,
    char given[TZ_GIVEN_MAX], char *err, size_t errlen)
{
	struct local	 l;
	struct tm	 tm;
	time_t		 cand[2] = { 0, 0 }, base;
	int		 offs[2] = { 0, 0 }, n, i;
	char		 o1[8], o2[8];

	given[0] = '\0';
	if (strchr(in, '[') == NULL && parse_time(in, ret_utc) == 0)
		return 0;	/* "now", UTC forms */
	if (parse_local(in, &l) != 0) {
		(void)snprintf(err, errlen, "not a time: use "
		    "2026-03-29T01:30:00Z, an offset (2026-03-29T03:30+02:00) "
		    "or a zone (2026-03-29T03:30[Europe/Berlin])");
		return -EINVAL;
	}
	tm = l.tm;
	base = timegm(&tm);
	if (l.zone[0] == '\0' && (!l.has_off || l.zulu)) {
		*ret_utc = base;	/* UTC, e.g. 2026-03-29T01:30Z */
		return 0;
	}
	if (l.zone[0] != '\0' && !zone_exists(l.zone)) {
		(void)snprintf(err, errlen, "unknown time zone '%s' (an IANA "
		    "name such as Europe/Berlin)", l.zone);
		return -EINVAL;
	}
	if (l.zone[0] != '\0' && mode == TZ_RESOLVE) {
		if ((n = zone_candidates(&l, cand, offs)) < 0) {
			(void)snprintf(err, errlen, "cannot use time zone "
			    "'%s'", l.zone);
			return -EINVAL;
		}
		if (n == 0) {
			(void)snprintf(err, errlen, "%.*s does not exist in "
			    "%s: the clocks skipped it (daylight saving time "
			    "began)", (int)(strchr(in, '[') - in), in, l.zone);
			return -EINVAL;
		}
		for (i = 0; l.has_off && i < n; i++)
			if (offs[i] == l.off)
				break;
		if (l.has_off && i == n) {
			fmt_off(l.off, o1);
			fmt_off(offs[0], o2);
			(void)snprintf(err, errlen, "offset %s is not %s's at "
			    "that time (%s)", o1, l.zone, o2);
			return -EINVAL;
		}
		if (!l.has_off && n == 2) {
			fmt_off(offs[0], o1);
			fmt_off(offs[1], o2);
			(void)snprintf(err, errlen, "%.*s happened twice in %s "
			    "(the clocks went back): add the offset, %s "
			    "(the first) or %s (the second), e.g. "
			    "%.*s%s[%s]", (int)(strchr(in, '[') - in), in,
			    l.zone, o1, o2, (int)(strchr(in, '[') - in), in,
			    o1, l.zone);
			return -EINVAL;
		}
		if (!l.has_off) {
			l.off = offs[0];
			l.has_off = 1;
		}
	} else if (l.zone[0] != '\0' && !l.has_off) {
		(void)snprintf(err, errlen, "'%s' needs its UTC offset here "
		    "(the cordon client adds it: it resolves [Zone] "
		    "against the tz database)", in);
		return -EINVAL;
	}
	*ret_utc = base - l.off;
	fmt_off(l.off, o1);
	(void)snprintf(given, TZ_GIVEN_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%s%s"
	    "%s%s", l.tm.tm_year + 1900, l.tm.tm_mon + 1, l.tm.tm_mday,
	    l.tm.tm_hour, l.tm.tm_min, l.tm.tm_sec, o1, l.zone[0] ? "[" : "",
	    l.zone, l.zone[0] ? "]" : "");
	return 0;
}
