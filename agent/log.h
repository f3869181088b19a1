/*
 * log: one place for diagnostics.  Messages are lowercase, no period, and
 * start with the function name or the action id.  stderr by default,
 * syslog once the agent detaches.  Library code never logs: callers do,
 * once.
 */
#ifndef CORDON_LOG_H
#define CORDON_LOG_H

void	log_init(const char *progname, int verbose);
void	log_to_syslog(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
