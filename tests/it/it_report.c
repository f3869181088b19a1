/*
 * it_report: the authority report (md, html, json), the register export
 * (CSV read back with an RFC 4180 reader of our own) and the journal feed
 * file, through the real agent and a real slapd; the HTML report also in
 * a real headless Debian chromium (a screenshot is kept in
 * build/artifacts/report.png, or $CORDON_ARTIFACTS/report.png).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "../../agent/register.h"
#include "../../agent/util.h"

#define PORT		38936
#define NF_MAX		128
#define LOCKED		"alice"		/* the account the test locks */
#define EVIL_TITLE	"<script>alert(1)</script> & \"quotes\""
#define CHROME_PORT	38979	/* what an injected fetch would reach */
#define CHROME_TIMEOUT_S 120
#define SHOT_W		1280
#define SHOT_H		2000
#define CSV_TITLE	"Müller, \"Zoë\"\nsecond line"

static int
group_setup(void **state)
{
	return it_group_setup(state, PORT);
}

static int
setup(void **state)
{
	return it_test_setup(*state, NULL);
}

static int
teardown(void **state)
{
	return it_test_teardown(*state);
}

/* Opens an incident with title as IT_OP; id gets its id. */
static void
open_titled(struct it_env *e, const char *title, char id[32])
{
	int	y, n;

	assert_int_equal(it_cordon(e, IT_OP, "incident", "open", "--customer",
	    "acme", "--title", title, NULL), 0);
	assert_int_equal(sscanf(e->out, "INC-%4d-%4d", &y, &n), 2);
	(void)snprintf(id, 32, "INC-%04d-%04d", y, n);
}

static void
fill(struct it_env *e, const char *id)
{
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "type=confidentiality",
	    "--set", "description=phished mailboxes <b>bold</b>",
	    "--set", "data_categories=e-mail, contacts",
	    "--set", "subject_categories=customers",
	    "--set", "approx_subjects=1200", "--set", "approx_records=5400",
	    "--set", "dpo_name=Dana Privacy", "--set",
	    "dpo_email=dpo@example.test", "--set",
	    "consequences=phishing of customers",
	    "--set", "risk=high", "--set", "risk_rationale=contact data",
	    "--set", "contained_at=now",
	    "--set", "advice_to_subjects=beware of mails asking to log in",
	    "--set", "authority_decision=notify", "--set",
	    "authority_reasoning=risk to customers", NULL), 0);
}

/*
 * Every register field, when set, is in the report: an item naming it in
 * JSON with the value set, and that item's line in markdown.
 */
static void
test_report_every_register_field(void **state)
{
	struct it_env		*e = *state;
	const struct field	*f;
	const char		*args[3 + 2 * 20 + 1], *bar;
	char			 id[32], *vals[NF_MAX], *md, *line, *v;
	json_t			*j, *sec, *it, *found;
	size_t			 i, k, n = 0, na = 0;

	open_titled(e, "every field", id);
	for (f = register_fields; f->name; f++, n++) {
		if (na == 0) {
			args[na++] = "incident";
			args[na++] = "update";
			args[na++] = id;
		}
		assert_true(n < NF_MAX);
		switch (f->type) {
		case F_TEXT:
			vals[n] = xasprintf("%s=value %zu", f->name, n);
			break;
		case F_TIME:
			vals[n] = xasprintf("%s=2026-03-01T09:00:00Z",
			    f->name);
			break;
		case F_BOOL:
			vals[n] = xasprintf("%s=true", f->name);
			break;
		case F_INT:
			vals[n] = xasprintf("%s=%zu", f->name, 1000 + n);
			break;
		case F_ENUM:
			bar = strchr(f->choices, '|');
			vals[n] = xasprintf("%s=%.*s", f->name, bar ?
			    (int)(bar - f->choices) : (int)strlen(f->choices),
			    f->choices);
			break;
		}
		args[na++] = "--set";
		args[na++] = vals[n];
		/* At most 20 a request: the harness takes 64 arguments. */
		if (na == 3 + 2 * 20 || f[1].name == NULL) {
			args[na] = NULL;
			assert_int_equal(it_cordonv(e, IT_OP, NULL, args, 30),
			    0);
			na = 0;
		}
	}
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "md", NULL), 0);
	md = xstrdup(e->out);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "json", NULL), 0);
	assert_non_null(j = it_out_json(e));
	for (f = register_fields, k = 0; f->name; f++, k++) {
		found = NULL;
		json_array_foreach(json_object_get(j, "sections"), i, sec) {
			size_t	m;

			json_array_foreach(json_object_get(sec, "items"), m,
			    it)
				if (json_is_string(json_object_get(it,
				    "field")) && strcmp(json_string_value(
				    json_object_get(it, "field")), f->name) ==
				    0 && found == NULL)
					found = it;
		}
		if (found == NULL)
			fail_msg("field '%s' is not in the JSON report",
			    f->name);
		v = strchr(vals[k], '=') + 1;
		it = json_object_get(found, "value");
		if (f->type == F_BOOL)
			assert_true(json_is_true(it));
		else if (f->type == F_INT)
			assert_int_equal(json_integer_value(it),
			    strtoll(v, NULL, 10));
		else
			assert_string_equal(json_string_value(it), v);
		line = xasprintf("- **%s**: %s\n", json_string_value(
		    json_object_get(found, "label")), f->type == F_BOOL ?
		    "yes" : v);
		if (strstr(md, line) == NULL)
			fail_msg("field '%s': no line '%s' in the markdown "
			    "report", f->name, line);
		free(line);
	}
	json_decref(j);
	free(md);
	for (k = 0; k < n; k++)
		free(vals[k]);
}

static void
lock(struct it_env *e, const char *inc, const char *uid)
{
	int64_t	id = 0;
	size_t	n;
	char	ref[32];

	assert_int_equal(it_run_accounts(e, IT_OP, NULL, inc, uid, &id, 1,
	    &n), 0);
	assert_int_equal(n, 1);
	(void)snprintf(ref, sizeof(ref), "A%lld", (long long)id);
	assert_int_equal(it_cordon(e, IT_LEAD, "approve", ref, NULL), 0);
	assert_int_equal(it_wait_action(e, id, "succeeded", IT_SETTLE_S), 0);
}

static void
test_report_sections_escaped_no_accounts(void **state)
{
	struct it_env	*e = *state;
	static const char *const heads[] = {
		"(a) Nature of the personal data breach",
		"(b) Data protection officer", "(c) Likely consequences",
		"(d) Measures taken or proposed", "Timeline (from the journal)",
		"Decisions and reasoning", "Reasons for delay",
		"Notice to the people affected",
	};
	char		 id[32], out[IT_PATH_MAX], *text;
	size_t		 i, len;
	json_t		*j, *s;

	open_titled(e, EVIL_TITLE, id);
	fill(e, id);
	lock(e, id, LOCKED);

	/* Markdown: every section, the numbers, no account name. */
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "md", NULL), 0);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		assert_true(it_out_has(e, heads[i]));
	assert_true(it_out_has(e, "1200"));
	assert_true(it_out_has(e, "Dana Privacy"));
	assert_true(it_out_has(e, "succeeded"));
	assert_false(it_out_has(e, LOCKED));
	assert_false(it_out_has(e, "<script>"));

	/* HTML: the title and description escaped, never raw. */
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "html", NULL), 0);
	assert_true(it_out_has(e, "<!DOCTYPE html>"));
	assert_true(it_out_has(e, "&lt;script&gt;alert(1)&lt;/script&gt; "
	    "&amp; &quot;quotes&quot;"));
	assert_true(it_out_has(e, "&lt;b&gt;bold&lt;/b&gt;"));
	assert_false(it_out_has(e, "<script>"));
	assert_false(it_out_has(e, "<b>bold"));
	assert_false(it_out_has(e, LOCKED));
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		assert_true(it_out_has(e, heads[i]));

	/* JSON: the document the agent assembled, to a file with -o. */
	(void)it_tpath(e, "out", out);
	assert_int_equal(mkdir(out, 0777), 0);
	assert_int_equal(chmod(out, 0777), 0);
	(void)it_tpath(e, "out/report.json", out);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "json", "-o", out, NULL), 0);
	assert_int_equal(it_read_file(out, &text, &len), 0);
	assert_null(strstr(text, LOCKED));
	j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "format")),
	    "cordon-breach-notification/1");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "incident"), "title")), EVIL_TITLE);
	assert_int_equal(json_array_size(json_object_get(j, "sections")), 10);
	s = json_array_get(json_object_get(j, "sections"), 4);
	assert_string_equal(json_string_value(json_object_get(s, "id")),
	    "art33_3_d");
	assert_int_equal(json_array_size(json_object_get(json_object_get(s,
	    "table"), "rows")), 1);
	json_decref(j);

	/* Bad format: usage; no role: refused. */
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "pdf", NULL), 2);
	assert_int_equal(it_cordon(e, IT_NOBODY, "incident", "report", id,
	    NULL), 3);
}

/* One RFC 4180 record from *p; fields malloc'd; count or -1. */
static int
csv_read(const char **p, char *f[NF_MAX])
{
	const char	*s = *p;
	char		*o;
	int		 n = 0;

	for (;;) {
		if (n == NF_MAX || (o = f[n] = calloc(1, strlen(s) + 1)) ==
		    NULL)
			return -1;
		n++;
		if (*s == '"') {
			for (s++;; s++) {
				if (*s == '\0')
					return -1;
				if (s[0] == '"' && s[1] == '"')
					*o++ = *s++;
				else if (*s == '"') {
					s++;
					break;
				} else
					*o++ = *s;
			}
		} else
			while (*s && *s != ',' && *s != '\r' && *s != '\n') {
				if (*s == '"')
					return -1;
				*o++ = *s++;
			}
		if (*s == ',') {
			s++;
			continue;
		}
		if (s[0] != '\r' || s[1] != '\n')
			return -1;
		*p = s + 2;
		return n;
	}
}

static void
csv_free(char *f[NF_MAX], int n)
{
	while (n > 0)
		free(f[--n]);
}

static int
col_of(char *hdr[NF_MAX], int n, const char *name)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(hdr[i], name) == 0)
			return i;
	return -1;
}

static void
test_register_export_csv_round_trip(void **state)
{
	struct it_env	*e = *state;
	char		 a[32], b[32], *hdr[NF_MAX], *row[NF_MAX];
	const char	*p;
	int		 nh, n, ci, ct, cd, cs;
	json_t		*j;

	open_titled(e, CSV_TITLE, a);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", a,
	    "--set", "description=a, \"b\"\nc; 東京", "--set",
	    "approx_subjects=7", NULL), 0);
	open_titled(e, "plain", b);

	assert_int_equal(it_cordon(e, IT_AUD, "register", "export",
	    "--format", "csv", "--customer", "acme", NULL), 0);
	p = e->out;
	assert_true((nh = csv_read(&p, hdr)) > 40);
	ci = col_of(hdr, nh, "id");
	ct = col_of(hdr, nh, "title");
	cd = col_of(hdr, nh, "description");
	cs = col_of(hdr, nh, "approx_subjects");
	assert_true(ci >= 0 && ct >= 0 && cd >= 0 && cs >= 0);
	assert_int_equal(n = csv_read(&p, row), nh);
	assert_string_equal(row[ci], a);
	assert_string_equal(row[ct], CSV_TITLE);
	assert_string_equal(row[cd], "a, \"b\"\nc; 東京");
	assert_string_equal(row[cs], "7");
	csv_free(row, n);
	assert_int_equal(n = csv_read(&p, row), nh);
	assert_string_equal(row[ci], b);
	assert_string_equal(row[ct], "plain");
	assert_string_equal(row[cd], "");
	csv_free(row, n);
	assert_int_equal(*p, '\0');
	csv_free(hdr, nh);

	assert_int_equal(it_cordon(e, IT_AUD, "register", "export",
	    "--format", "json", NULL), 0);
	j = it_out_json(e);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "incidents")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(j, "incidents"), 0), "approx_subjects")), 7);
	json_decref(j);
	/* Another customer's register is not the auditor's to read. */
	assert_int_equal(it_cordon(e, IT_AUD, "register", "export",
	    "--customer", "nosuch", NULL), 2);
	assert_int_equal(it_cordon(e, IT_NOBODY, "register", "export",
	    "--customer", "acme", NULL), 3);
	assert_int_equal(it_cordon(e, IT_NOBODY, "register", "export", NULL),
	    0);
	assert_false(it_out_has(e, a));
}

/* Starts the agent with agent.feed_file (and feed_format if not NULL). */
static void
start_with_feed(struct it_env *e, const char *feed, const char *format)
{
	char	*conf, *at, *nc;
	size_t	 len;

	assert_int_equal(it_ldap_reset(e), 0);
	assert_int_equal(it_test_dir(e), 0);
	assert_int_equal(it_config_write(e, e->conf, NULL), 0);
	assert_int_equal(it_read_file(e->conf, &conf, &len), 0);
	assert_non_null(at = strstr(conf, "agent: {\n"));
	at += strlen("agent: {\n");
	assert_true(asprintf(&nc, "%.*s\tfeed_file = \"%s\";\n%s%s%s%s",
	    (int)(at - conf), conf, feed, format ? "\tfeed_format = \"" : "",
	    format ? format : "", format ? "\";\n" : "", at) > 0);
	assert_int_equal(it_write_file(e->conf, nc, strlen(nc), 0600), 0);
	free(nc);
	free(conf);
	assert_int_equal(it_agent_start(e, 0), 0);
}

static void
test_feed_jsonl_matches_journal(void **state)
{
	struct it_env	*e = *state;
	char		 feed[IT_PATH_MAX], id[32], *text, *line, *nl;
	char		 name[32], prev[80] = "";
	char		 want[64];
	json_t		*jr, *ent, *o;
	size_t		 len, i, n = 0;

	(void)it_test_teardown(e);	/* setup's agent: ours has a feed */
	(void)snprintf(name, sizeof(name), "feed-%d.jsonl", e->ntest + 1);
	(void)it_gpath(e, name, feed);
	start_with_feed(e, feed, NULL);
	assert_int_equal(it_incident_open(e, id), 0);
	lock(e, id, LOCKED);
	jr = it_journal(e);
	assert_non_null(jr);
	ent = json_array_get(jr, json_array_size(jr) - 1);
	(void)snprintf(want, sizeof(want), "\"%s\"", json_string_value(
	    json_object_get(ent, "hash")));
	assert_int_equal(it_wait_file_has(feed, want, 5.0), 0);
	assert_int_equal(it_read_file(feed, &text, &len), 0);
	for (line = text; (nl = strchr(line, '\n')) != NULL; line = nl + 1,
	    n++) {
		*nl = '\0';
		o = json_loads(line, 0, NULL);
		assert_non_null(o);
		ent = json_array_get(jr, n);
		assert_non_null(ent);
		/* Every entry once, in order: the feed's n-th line is seq n. */
		assert_int_equal(json_integer_value(json_object_get(o, "seq")),
		    (json_int_t)n + 1);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")),
		    json_integer_value(json_object_get(ent, "seq")));
		assert_string_equal(json_string_value(json_object_get(o,
		    "hash")), json_string_value(json_object_get(ent, "hash")));
		/* Each line chains to the one before it. */
		assert_string_equal(json_string_value(json_object_get(o,
		    "prev_hash")), n == 0 ? "00000000000000000000000000000000"
		    "00000000000000000000000000000000" : prev);
		(void)snprintf(prev, sizeof(prev), "%s", json_string_value(
		    json_object_get(o, "hash")));
		json_decref(o);
	}
	free(text);
	/* Nothing missing, nothing after. */
	assert_int_equal(n, json_array_size(jr));
	json_decref(jr);

	/* A restart does not feed the same entries again. */
	assert_int_equal(it_agent_stop(e), 0);
	assert_int_equal(it_agent_start(e, 0), 0);
	assert_int_equal(it_cordon(e, IT_OP, "incident", "update", id,
	    "--set", "risk=none", NULL), 0);
	jr = it_journal(e);
	assert_non_null(jr);
	ent = json_array_get(jr, json_array_size(jr) - 1);
	(void)snprintf(want, sizeof(want), "\"%s\"", json_string_value(
	    json_object_get(ent, "hash")));
	assert_int_equal(it_wait_file_has(feed, want, 5.0), 0);
	assert_int_equal(it_read_file(feed, &text, &len), 0);
	for (i = 0, line = text; (line = strchr(line, '\n')) != NULL; line++)
		i++;
	free(text);
	assert_int_equal(i, json_array_size(jr));
	json_decref(jr);
}

static void
test_feed_cef(void **state)
{
	struct it_env	*e = *state;
	char		 feed[IT_PATH_MAX], id[32], want[96], name[32];
	json_t		*jr;

	(void)it_test_teardown(e);
	(void)snprintf(name, sizeof(name), "feed-%d.cef", e->ntest + 1);
	(void)it_gpath(e, name, feed);
	start_with_feed(e, feed, "cef");
	open_titled(e, "pipe | equals = back\\slash", id);
	jr = it_journal(e);
	assert_non_null(jr);
	(void)snprintf(want, sizeof(want), "cs2=%s", json_string_value(
	    json_object_get(json_array_get(jr, 0), "hash")));
	json_decref(jr);
	assert_int_equal(it_wait_file_has(feed, want, 5.0), 0);
	assert_int_equal(it_file_has(feed, "CEF:0|cordon|cordon|"), 1);
	assert_int_equal(it_file_has(feed, "|incident_opened|"
	    "incident_opened|3|"), 1);
	/* In the msg extension: '=' and '\' escaped, '|' kept. */
	assert_int_equal(it_file_has(feed, "pipe | equals \\= "
	    "back\\\\\\\\slash"), 1);
}

/*
 * Runs chromium headless on url with extra flags, stdout into out: in its
 * own process group, HOME and profile under home, no network but
 * loopback (a dead proxy, no background services).  The whole group is
 * killed on timeout, and after exit in case a helper lingers; fails the
 * test if any of it is still there after that.  Connections to the
 * listener lfd are counted into *ret_fetched and closed at once (the page
 * then loads without them).  Returns the exit code.
 */
static int
chromium(const char *home, const char *flag, const char *url,
    const char *out, int lfd, int *ret_fetched)
{
	char	prof[IT_PATH_MAX], log[IT_PATH_MAX];
	pid_t	pid, w;
	double	end;
	int	st = -1, fd, i;

	(void)snprintf(prof, sizeof(prof), "--user-data-dir=%s/profile", home);
	(void)snprintf(log, sizeof(log), "%s/chromium.log", home);
	if ((pid = fork()) < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		const char *argv[] = { "chromium", "--headless",
		    "--no-sandbox", "--disable-gpu", prof, "--no-first-run",
		    "--no-default-browser-check", "--disable-extensions",
		    "--disable-background-networking", "--disable-sync",
		    "--disable-component-update", "--disable-default-apps",
		    "--disable-domain-reliability", "--no-pings",
		    "--proxy-server=127.0.0.1:9", "--hide-scrollbars",
		    "--window-size=1280,2000", flag, url, NULL };

		(void)setpgid(0, 0);
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
		    dup2(fd, 1) < 0)
			_exit(126);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(126);
		if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0)
			_exit(126);
		if (setenv("HOME", home, 1) != 0 ||
		    setenv("XDG_CONFIG_HOME", home, 1) != 0 ||
		    setenv("XDG_CACHE_HOME", home, 1) != 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	end = (double)time(NULL) + CHROME_TIMEOUT_S;
	*ret_fetched = 0;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 &&
	    (double)time(NULL) < end) {
		while ((fd = accept(lfd, NULL, NULL)) >= 0) {
			(*ret_fetched)++;
			(void)close(fd);
		}
		(void)usleep(50 * 1000);
	}
	if (w == 0) {
		(void)fprintf(stderr, "chromium: killed after %d s\n",
		    CHROME_TIMEOUT_S);
		(void)kill(-pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		st = -1;
	}
	/* Its helpers share the group: none may outlive the test. */
	(void)kill(-pid, SIGKILL);
	for (i = 0; i < 100 && kill(-pid, 0) == 0; i++)
		(void)usleep(100 * 1000);
	if (kill(-pid, 0) == 0)
		fail_msg("chromium's process group %d is still there",
		    (int)pid);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A loopback listener an escaped fetch would hit. */
static int
listener(void)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(CHROME_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* html with the CSP meta kept or removed and a script + fetch added. */
static void
write_hostile(const char *html, const char *path, int keep_csp)
{
	static const char inject[] = "<script>document.title='PWNED'"
	    "</script><img src=\"http://127.0.0.1:38979/x.png\">";
	const char	*csp = strstr(html, "<meta http-equiv="
	    "\"Content-Security-Policy\""), *csp_end, *body;
	FILE		*f;

	assert_non_null(csp);
	assert_non_null(csp_end = strchr(csp, '>'));
	assert_non_null(body = strstr(html, "</body>"));
	assert_non_null(f = fopen(path, "w"));
	if (keep_csp)
		assert_int_equal(fwrite(html, 1, (size_t)(body - html), f),
		    (size_t)(body - html));
	else {
		assert_int_equal(fwrite(html, 1, (size_t)(csp - html), f),
		    (size_t)(csp - html));
		assert_int_equal(fwrite(csp_end + 1, 1, (size_t)(body -
		    csp_end - 1), f), (size_t)(body - csp_end - 1));
	}
	assert_int_equal(fputs(inject, f) >= 0, 1);
	assert_int_equal(fputs(body, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A PNG checked by python3's zlib: signature, CRCs, size, content. */
static const char png_check[] =
	"import struct, sys, zlib\n"
	"d = open(sys.argv[1], 'rb').read()\n"
	"assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'\n"
	"i, idat, hdr = 8, b'', None\n"
	"while i < len(d):\n"
	"    n, t = struct.unpack('>I4s', d[i:i + 8])\n"
	"    c = d[i + 8:i + 8 + n]\n"
	"    crc = struct.unpack('>I', d[i + 8 + n:i + 12 + n])[0]\n"
	"    assert zlib.crc32(t + c) & 0xffffffff == crc, 'bad CRC'\n"
	"    if t == b'IHDR': hdr = struct.unpack('>IIBBBBB', c)\n"
	"    if t == b'IDAT': idat += c\n"
	"    i += 12 + n\n"
	"    if t == b'IEND': break\n"
	"w, h, depth, ctype = hdr[:4]\n"
	"assert (w, h) == (int(sys.argv[2]), int(sys.argv[3])), (w, h)\n"
	"assert depth == 8 and ctype in (2, 6), (depth, ctype)\n"
	"raw = zlib.decompress(idat)\n"
	"assert len(raw) == h * (1 + w * (3 if ctype == 2 else 4))\n"
	"# A blank page filters to (almost) all zeros; text does not.\n"
	"nz = len(raw) - raw.count(0)\n"
	"assert nz > len(raw) // 1000 and len(set(raw)) > 32, (nz, len(raw))\n"
	"print('png ok', w, h, nz)\n";

static void
test_report_html_in_chromium(void **state)
{
	struct it_env	*e = *state;
	char		 id[32], out[IT_PATH_MAX], html[IT_PATH_MAX];
	char		 home[IT_PATH_MAX], url[IT_PATH_MAX + 8];
	char		 dom[IT_PATH_MAX], png[IT_PATH_MAX];
	char		 shot[IT_PATH_MAX + 32];
	char		 art[IT_PATH_MAX], w[8], h[8], *text, *d;
	int		 n;
	const char	*ad = getenv("CORDON_ARTIFACTS");
	const char	*py[] = { "python3", "-c", png_check, png, w, h, NULL };
	static const char *const heads[] = {
		"(a) Nature of the personal data breach",
		"(b) Data protection officer", "(c) Likely consequences",
		"(d) Measures taken or proposed",
	};
	size_t		 len, i;
	int		 lfd, fetched;

	open_titled(e, EVIL_TITLE, id);
	fill(e, id);
	lock(e, id, LOCKED);
	(void)it_tpath(e, "out", out);
	assert_int_equal(mkdir(out, 0777), 0);
	assert_int_equal(chmod(out, 0777), 0);
	(void)it_tpath(e, "out/report.html", html);
	assert_int_equal(it_cordon(e, IT_AUD, "incident", "report", id,
	    "--format", "html", "-o", html, NULL), 0);
	(void)it_tpath(e, "chromium", home);
	assert_int_equal(mkdir(home, 0700), 0);
	lfd = listener();

	/* The DOM chromium built: every Art. 33(3) section, the data. */
	(void)snprintf(url, sizeof(url), "file://%s", html);
	(void)it_tpath(e, "dom.html", dom);
	assert_int_equal(chromium(home, "--dump-dom", url, dom, lfd,
	    &fetched), 0);
	assert_int_equal(fetched, 0);
	assert_int_equal(it_read_file(dom, &text, &len), 0);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		if (strstr(text, heads[i]) == NULL)
			fail_msg("DOM lacks '%s'", heads[i]);
	assert_non_null(strstr(text, "<title>Personal data breach "
	    "notification INC-"));
	assert_non_null(strstr(text, "1200"));
	assert_non_null(strstr(text, "Dana Privacy"));
	assert_non_null(strstr(text, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	/* Self-contained, scripts off by policy. */
	assert_non_null(strstr(text, "content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\""));
	assert_null(strstr(text, "<script"));
	assert_null(strstr(text, "src="));
	assert_null(strstr(text, "href="));
	assert_null(strstr(text, LOCKED));
	free(text);

	/* The screenshot: a valid PNG of the window with something on it. */
	(void)it_tpath(e, "report.png", png);
	(void)snprintf(shot, sizeof(shot), "--screenshot=%s", png);
	assert_int_equal(chromium(home, shot, url, dom, lfd, &fetched), 0);
	assert_int_equal(fetched, 0);
	(void)snprintf(w, sizeof(w), "%d", SHOT_W);
	(void)snprintf(h, sizeof(h), "%d", SHOT_H);
	if (it_runv(e, IT_ROOT, NULL, py, IT_CMD_TIMEOUT_S) != 0)
		fail_msg("report.png: %s%s", e->out, e->err);
	if (ad != NULL && ad[0] != '\0')
		n = snprintf(art, sizeof(art), "%s", ad);
	else
		n = snprintf(art, sizeof(art), "%s/../build/artifacts",
		    e->scripts);
	assert_true(n > 0 && (size_t)n < sizeof(art) - 16);
	if (mkdir(art, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir '%s': %s", art, strerror(errno));
	assert_int_equal(it_read_file(png, &text, &len), 0);
	(void)snprintf(shot, sizeof(shot), "%s/report.png", art);
	assert_int_equal(it_write_file(shot, text, len, 0644), 0);
	free(text);

	/*
	 * The policy holds in the browser: a script and an image put into
	 * the report neither run nor load.  Without the policy, the same
	 * page runs the script and fetches, so the check can fail.
	 */
	assert_int_equal(it_read_file(html, &text, &len), 0);
	(void)it_tpath(e, "hostile.html", out);
	write_hostile(text, out, 1);
	(void)snprintf(url, sizeof(url), "file://%s", out);
	assert_int_equal(chromium(home, "--dump-dom", url, dom, lfd,
	    &fetched), 0);
	assert_int_equal(it_read_file(dom, &d, &len), 0);
	assert_non_null(strstr(d, "<title>Personal data breach"));
	assert_null(strstr(d, "PWNED</title>"));
	free(d);
	assert_int_equal(fetched, 0);
	(void)it_tpath(e, "open.html", out);
	write_hostile(text, out, 0);
	free(text);
	(void)snprintf(url, sizeof(url), "file://%s", out);
	assert_int_equal(chromium(home, "--dump-dom", url, dom, lfd,
	    &fetched), 0);
	assert_int_equal(it_read_file(dom, &d, &len), 0);
	assert_non_null(strstr(d, "<title>PWNED</title>"));
	free(d);
	assert_true(fetched >= 1);
	(void)close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_report_every_register_field, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_report_sections_escaped_no_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_register_export_csv_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_jsonl_matches_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_cef, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report_html_in_chromium,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    it_group_teardown);
}
