/*
 * it_crash: kill -9 the agent while a 1,000-account run is in flight,
 * restart it, and show that no action is lost, none is applied twice, the
 * interrupted ones are reconciled through check, and the journal still
 * verifies.
 *
 * The run uses approval = "none" and a small executor batch so that the
 * kill lands while actions are in "running" (journaled, side effect under
 * way); the test polls the store read-only to pick that moment.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

#define PORT		38924
#define NACCOUNTS	1000
#define BATCH		25

static const char runbook[] =
	"name = \"crash\";\n"
	"params = ( { name = \"accounts\"; type = \"list\"; "
	"required = true; } );\n"
	"steps = ( { name = \"lock\"; verb = \"ldap.disable_account\";\n"
	"  target = \"corp-ldap\"; foreach = \"${accounts}\";\n"
	"  args = { account = \"${item}\"; }; approval = \"none\";\n"
	"  on_failure = \"continue\"; } );\n";

static void
nap(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

static double
mono(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One integer from the store, read-only (WAL lets us read beside it). */
static long long
q1(const char *store, const char *sql)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	long long	 v = -1;

	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto out;
	(void)sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
out:
	(void)sqlite3_finalize(st);
	(void)sqlite3_close(db);
	return v;
}

static int
group_setup(void **state)
{
	struct it_env	*e;
	const char	*gen[] = { NULL, "1000", IT_SUFFIX, NULL };
	char		 path[IT_PATH_MAX + 32], ldif[IT_PATH_MAX + 32];
	const char	*add[] = { "ldapadd", "-x", "-H", NULL, "-D",
	    IT_ADMIN_DN, "-w", IT_ADMIN_PW, "-f", NULL, NULL };

	if (it_group_setup(state, PORT) != 0)
		return -1;
	e = *state;
	/* The bulk users u00001..u01000 next to the fixture's few. */
	(void)snprintf(path, sizeof(path), "%s/ldap-gen-users.sh",
	    e->scripts);
	gen[0] = path;
	if (it_runv(e, NULL, NULL, gen, 30) != 0)
		return -1;
	(void)snprintf(ldif, sizeof(ldif), "%s/users.ldif", e->dir);
	if (it_write_file(ldif, e->out, e->outlen, 0644) != 0)
		return -1;
	add[3] = e->uri;
	add[9] = ldif;
	if (it_runv(e, NULL, NULL, add, 120) != 0) {
		(void)fprintf(stderr, "ldapadd: %s\n", e->err);
		return -1;
	}
	return 0;
}

/* The standard config with a small executor batch. */
static int
write_conf(struct it_env *e)
{
	char	*text = NULL, *out = NULL;
	size_t	 len;
	int	 r = -1;

	if (it_config_write(e, e->conf, NULL) != 0 ||
	    it_read_file(e->conf, &text, &len) != 0)
		goto out;
	if ((out = malloc(len + 64)) == NULL || strstr(text,
	    "agent: {\n") == NULL)
		goto out;
	len = (size_t)snprintf(out, len + 64, "%.*sagent: {\n\tbatch = %d;\n%s",
	    (int)(strstr(text, "agent: {\n") - text), text, BATCH,
	    strstr(text, "agent: {\n") + strlen("agent: {\n"));
	r = it_write_file(e->conf, out, len, 0600);
out:
	free(text);
	free(out);
	return r;
}

static void
test_crash_kill9_mid_run(void **state)
{
	struct it_env	*e = *state;
	char		 inc[32], rb[IT_PATH_MAX + 32], acc[IT_PATH_MAX + 32];
	char		 setf[IT_PATH_MAX + 64], exp[IT_PATH_MAX + 32], *list;
	const char	*ldapsearch[] = { "ldapsearch", "-x", "-LLL", "-H",
	    NULL, "-D", IT_ADMIN_DN, "-w", IT_ADMIN_PW, "-b", IT_PEOPLE,
	    "(&(uid=u*)(pwdAccountLockedTime=" IT_LOCK_FOREVER "))", "1.1",
	    NULL };
	double		 deadline;
	long long	 running = 0, done = 0, n, interrupted, reconciled;
	size_t		 i, off = 0;
	int		 st, caught = 0, lines = 0;
	char		*p;

	assert_int_equal(it_ldap_reset(e), 0);
	assert_int_equal(it_test_dir(e), 0);
	assert_int_equal(write_conf(e), 0);
	assert_int_equal(it_agent_start(e, 0), 0);
	assert_int_equal(it_incident_open(e, inc), 0);

	(void)snprintf(rb, sizeof(rb), "%s/crash.runbook", e->tdir);
	assert_int_equal(it_write_file(rb, runbook, strlen(runbook), 0644),
	    0);
	list = malloc(NACCOUNTS * 8);
	assert_non_null(list);
	for (i = 1; i <= NACCOUNTS; i++)
		off += (size_t)snprintf(list + off, 8, "u%05zu\n", i);
	(void)snprintf(acc, sizeof(acc), "%s/accounts", e->tdir);
	assert_int_equal(it_write_file(acc, list, off, 0644), 0);
	free(list);
	(void)snprintf(setf, sizeof(setf), "accounts=%s", acc);
	assert_int_equal(it_cordon(e, IT_OP, "run", rb, "--incident", inc,
	    "--set-file", setf, NULL), 0);

	/*
	 * Kill while some actions are "running" and some are done.  What the
	 * poll saw may be committed over before the signal lands, so the
	 * store decides afterwards whether the kill caught actions in
	 * flight; if not, restart and try again.
	 */
	deadline = mono() + 60;
	while (!caught && mono() < deadline) {
		running = q1(e->store, "SELECT COUNT(*) FROM actions WHERE "
		    "state='running'");
		done = q1(e->store, "SELECT COUNT(*) FROM actions WHERE "
		    "state='succeeded'");
		if (done >= NACCOUNTS)
			break;
		if (running <= 0 || done <= 0) {
			nap(1);
			continue;
		}
		assert_int_equal(kill(e->agent, SIGKILL), 0);
		assert_int_equal(waitpid(e->agent, &st, 0), e->agent);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		e->agent = 0;
		running = q1(e->store, "SELECT COUNT(*) FROM actions WHERE "
		    "state='running'");
		done = q1(e->store, "SELECT COUNT(*) FROM actions WHERE "
		    "state='succeeded'");
		if (running > 0)
			caught = 1;
		else
			assert_int_equal(it_agent_start(e, 0), 0);
	}
	assert_true(caught);	/* else: the run was never caught in flight */
	(void)fprintf(stderr, "killed with %lld running, %lld succeeded\n",
	    running, done);

	/* Nothing lost: every action of the run is in the store. */
	assert_int_equal(q1(e->store, "SELECT COUNT(*) FROM actions"),
	    NACCOUNTS);

	assert_int_equal(it_agent_start(e, 0), 0);
	deadline = mono() + 120;
	do {
		n = q1(e->store, "SELECT COUNT(*) FROM actions WHERE state "
		    "IN ('succeeded','failed')");
		if (n == NACCOUNTS)
			break;
		nap(50);
	} while (mono() < deadline);
	assert_int_equal(n, NACCOUNTS);
	assert_int_equal(q1(e->store, "SELECT COUNT(*) FROM actions WHERE "
	    "state='succeeded'"), NACCOUNTS);

	/* Interrupted actions went through unknown and check resolved them. */
	interrupted = q1(e->store, "SELECT COUNT(*) FROM journal WHERE "
	    "event='interrupted'");
	reconciled = q1(e->store, "SELECT COUNT(*) FROM journal WHERE "
	    "event='reconciled'");
	assert_true(interrupted > 0);
	assert_int_equal(interrupted, reconciled);
	assert_int_equal(q1(e->store, "SELECT COUNT(*) FROM actions a WHERE "
	    "EXISTS (SELECT 1 FROM journal j WHERE j.action=a.id AND "
	    "j.event='interrupted') AND NOT EXISTS (SELECT 1 FROM journal j "
	    "WHERE j.action=a.id AND j.event='reconciled')"), 0);

	/*
	 * Nothing applied twice: each action succeeded exactly once (as
	 * "succeeded", or as "reconciled" when check found the change
	 * already made before the kill); a
	 * second write would have met the compare-and-swap assertion and
	 * shown up as plan_changed; and only actions that check found not
	 * applied were started again.
	 */
	assert_int_equal(q1(e->store, "SELECT COUNT(*) FROM (SELECT action, "
	    "SUM(event='succeeded' OR (event='reconciled' AND payload LIKE "
	    "'%applied before%')) s FROM journal WHERE action>0 GROUP BY "
	    "action) WHERE s<>1"), 0);
	(void)fprintf(stderr, "reconciled: %lld found applied, %lld "
	    "queued again\n", q1(e->store, "SELECT COUNT(*) FROM journal "
	    "WHERE event='reconciled' AND payload LIKE '%applied before%'"),
	    q1(e->store, "SELECT COUNT(*) FROM journal WHERE "
	    "event='reconciled' AND payload LIKE '%not applied%'"));
	assert_int_equal(q1(e->store, "SELECT COUNT(*) FROM journal WHERE "
	    "event='plan_changed'"), 0);
	n = q1(e->store, "SELECT COUNT(*) FROM (SELECT action, "
	    "SUM(event='running') r, SUM(event='reconciled' AND payload LIKE "
	    "'%not applied%') q FROM journal WHERE action>0 GROUP BY action) "
	    "WHERE r <> 1 + q");
	if (n != 0) {
		const char *dump[] = { "sqlite3", e->store, "SELECT action, "
		    "event, payload FROM journal WHERE action IN (SELECT action "
		    "FROM (SELECT action, SUM(event='running') r, "
		    "SUM(event='reconciled' AND payload LIKE '%not applied%') q "
		    "FROM journal WHERE action>0 GROUP BY action) WHERE r <> "
		    "1 + q) ORDER BY seq LIMIT 40", NULL };

		(void)it_runv(e, NULL, NULL, dump, 30);
		(void)fprintf(stderr, "%s", e->out);
	}
	assert_int_equal(n, 0);

	/* The directory agrees: all 1,000 locked. */
	ldapsearch[4] = e->uri;
	assert_int_equal(it_runv(e, NULL, NULL, ldapsearch, 60), 0);
	for (p = e->out; (p = strstr(p, "dn: ")) != NULL; p += 4)
		lines++;
	assert_int_equal(lines, NACCOUNTS);

	/* And the journal still chains. */
	(void)snprintf(exp, sizeof(exp), "%s/journal.export", e->tdir);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "export", NULL), 0);
	assert_int_equal(it_write_file(exp, e->out, e->outlen, 0644), 0);
	assert_int_equal(it_cordon(e, IT_AUD, "journal", "verify", exp,
	    NULL), 0);
	assert_int_equal(it_agent_stop(e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_kill9_mid_run),
	};

	return cmocka_run_group_tests(tests, group_setup, it_group_teardown);
}
