/*
 * test_pending_secret_fifo: a password_file that is a FIFO must be
 * refused, not waited on -- fails until fixed.
 *
 * agent/secret.c secret_read_file() opens the path with O_RDONLY before
 * it checks S_ISREG, and open(2) of a FIFO blocks until a writer appears.
 * config_load() (via the ldap driver's target_check) and every ldap_open()
 * then hang the single-threaded agent.  Opening with O_NONBLOCK (or
 * checking the type first) makes it the documented -EPERM "not a regular
 * file".  The call runs in a child with an alarm so the test fails
 * instead of hanging.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/secret.h"
#include "../../agent/util.h"

#define FIFO_WAIT_S	3

static void
test_pending_secret_fifo_refused(void **state)
{
	char	 dir[] = "/tmp/cordon-fifo-XXXXXX", *p;
	pid_t	 pid;
	int	 status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = xasprintf("%s/pw", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct secret	*s = NULL;
		const char	*why = NULL;
		int		 r;

		(void)alarm(FIFO_WAIT_S);
		r = secret_read_file(p, &s, &why);
		/* 0: refused as documented; 1: anything else. */
		_exit(r == -EPERM && s == NULL && why != NULL &&
		    strcmp(why, "not a regular file") == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	(void)unlink(p);
	(void)rmdir(dir);
	free(p);
	if (WIFSIGNALED(status))
		fail_msg("secret_read_file on a FIFO hung (killed by signal "
		    "%d after %d s)", WTERMSIG(status), FIFO_WAIT_S);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_secret_fifo_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
