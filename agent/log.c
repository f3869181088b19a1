#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char	*prog = "cordon";
static int		 verbosity;
static int		 use_syslog;

void
log_init(const char *progname, int verbose)
{
	prog = progname;
	verbosity = verbose;
}

void
log_to_syslog(void)
{
	openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

static void
vlog(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	msg[2048];
	int	saved = errno;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (use_syslog) {
		if (with_errno)
			syslog(pri, "%s: %s", msg, strerror(saved));
		else
			syslog(pri, "%s", msg);
		return;
	}
	if (with_errno)
		(void)fprintf(stderr, "%s: %s: %s\n", prog, msg,
		    strerror(saved));
	else
		(void)fprintf(stderr, "%s: %s\n", prog, msg);
}

#define LOGFN(name, pri, err, gate)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
	if (gate)						\
		return;						\
	va_start(ap, fmt);					\
	vlog(pri, fmt, ap, err);				\
	va_end(ap);						\
}

LOGFN(log_warn, LOG_WARNING, 1, 0)
LOGFN(log_warnx, LOG_WARNING, 0, 0)
LOGFN(log_info, LOG_INFO, 0, verbosity < 0)
LOGFN(log_debug, LOG_DEBUG, 0, verbosity < 1)

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
