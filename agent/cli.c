/*
 * cli: subcommands as clients of the agent.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "journal.h"
#include "csv.h"
#include "register.h"
#include "tz.h"
#include "report.h"
#include "runbook.h"

#define SET_FILE_MAX	(8 * 1024 * 1024)

const char	*cli_socket;

static int
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
die(int code, const char *fmt, ...)
{
	va_list	ap;

	(void)fputs("cordon: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	return code;
}

/* Prints s with control characters and backslashes escaped. */
static void
put_safe(FILE *f, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)(s ? s : "-"); *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			(void)fprintf(f, "\\x%02x", *p);
		else
			(void)fputc(*p, f);
	}
}

/* A whole non-negative number, or -1: "5x" is a typo, not 5. */
static double
num_arg(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0)
		return -1;
	return v;
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Connects, sends, reads the answer.  Returns the exit code to use. */
static int
request_fd(json_t *req, json_t **ret, int *ret_fd)
{
	int	fd, r;

	*ret = NULL;
	if ((fd = ctl_connect(cli_socket)) < 0) {
		json_decref(req);
		return die(EXIT_UNREACHABLE, "cannot reach the agent at '%s': "
		    "%s", cli_socket, strerror(-fd));
	}
	r = ctl_send(fd, req);
	json_decref(req);
	if (r == 0)
		r = ctl_recv(fd, 256 * 1024 * 1024, ret);
	if (r != 0) {
		(void)close(fd);
		return die(EXIT_UNREACHABLE, "agent at '%s' did not answer: "
		    "%s", cli_socket, strerror(-r));
	}
	if (ret_fd)
		*ret_fd = fd;
	else
		(void)close(fd);
	if (!json_is_true(json_object_get(*ret, "ok"))) {
		json_int_t code = json_integer_value(json_object_get(*ret,
		    "exit"));

		(void)fputs("cordon: ", stderr);
		put_safe(stderr, jstr(*ret, "error"));
		(void)fputc('\n', stderr);
		return code ? (int)code : EXIT_FAILED;
	}
	return EXIT_OK;
}

static int
request(json_t *req, json_t **ret)
{
	return request_fd(req, ret, NULL);
}

static void
print_json(const json_t *o)
{
	char	*s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s) {
		(void)puts(s);
		free(s);
	}
}

int
cmd_check_config(int argc, char **argv)
{
	struct config	*c;
	char		 err[CONFIG_ERR_MAX];

	if (argc != 2) {
		cmd_usage(cmd_find("check-config"));
		return EXIT_USAGE;
	}
	if (config_load(argv[1], &c, err, sizeof(err)) != 0)
		return die(EXIT_USAGE, "%s", err);
	(void)printf("%s: ok (%zu customer%s)\n", argv[1], c->ncustomers,
	    c->ncustomers == 1 ? "" : "s");
	config_free(c);
	return EXIT_OK;
}

static void
print_params(const json_t *params)
{
	const char	*k;
	json_t		*v;
	int		 first = 1;

	json_object_foreach((json_t *)params, k, v) {
		(void)printf("%s%s=", first ? "" : ",", k);
		put_safe(stdout, json_string_value(v));
		first = 0;
	}
}

/*
 * A time with an IANA zone ("2026-03-29T03:30[Europe/Berlin]") is turned
 * here, in the single-threaded client, into the form with its offset that
 * the agent accepts; *ret is what to send (caller frees), or NULL after
 * the error was printed.
 */
static char *
zone_resolve(const char *what, const char *in)
{
	char	given[TZ_GIVEN_MAX], err[256];
	time_t	t;

	if (strchr(in, '[') == NULL)
		return xstrdup(in);
	if (tz_time(in, TZ_RESOLVE, &t, given, err, sizeof(err)) != 0) {
		(void)die(EXIT_USAGE, "%s: %s", what, err);
		return NULL;
	}
	return xstrdup(given);
}

/* "  (given 2026-03-29T03:30:00+02:00[Europe/Berlin])" after a UTC time. */
static void
print_given(const json_t *rec, const char *key)
{
	const char	*g = json_string_value(json_object_get(json_object_get(
	    rec, "given"), key));

	if (g == NULL)
		return;
	(void)printf("  (given ");
	put_safe(stdout, g);
	(void)putchar(')');
}

/* "3h05m left", "OVERDUE 2h10m" */
static void
fmt_left(json_int_t left, char *out, size_t len)
{
	json_int_t	a = left < 0 ? -left : left;

	(void)snprintf(out, len, "%s%lldh%02lldm%s", left < 0 ? "OVERDUE " :
	    "", (long long)(a / 3600), (long long)(a % 3600 / 60), left < 0 ?
	    "" : " left");
}

/* The customer's deadline rules (config deadlines = [...]), one a line. */
static void
print_deadlines(const json_t *dl, const char *indent)
{
	const json_t	*d;
	const char	*st;
	size_t		 i;
	char		 lb[48];

	json_array_foreach(dl, i, d) {
		st = jstr(d, "state");
		if (strcmp(st, "open") == 0)
			fmt_left(json_integer_value(json_object_get(d,
			    "seconds_left")), lb, sizeof(lb));
		else
			(void)snprintf(lb, sizeof(lb), "%s",
			    strcmp(st, "waiting") == 0 ? "waiting" :
			    strcmp(st, "done") != 0 ? "n/a" : json_is_true(
			    json_object_get(d, "late")) ? "done, LATE" :
			    "done");
		(void)printf("%s%-20s %-20s ", indent, jstr(d, "due") ?
		    jstr(d, "due") : "-", lb);
		put_safe(stdout, jstr(d, "name"));
		if (strcmp(st, "waiting") == 0)
			(void)printf(" (starts when its 'from' field is set)");
		else if (strcmp(st, "open") == 0) {
			(void)printf(" (set ");
			put_safe(stdout, jstr(d, "done_when"));
			(void)printf(")");
		}
		(void)putchar('\n');
	}
}

/* Record fields the register does not define: rule-declared times. */
static void
print_rule_fields(const json_t *rec)
{
	const char	*k;
	json_t		*v;
	int		 first = 1;

	json_object_foreach((json_t *)rec, k, v) {
		if (register_field(k) != NULL || !json_is_string(v))
			continue;
		if (first)
			(void)printf(" [deadline rule fields]\n");
		first = 0;
		(void)printf("  %-21s ", k);
		put_safe(stdout, json_string_value(v));
		print_given(rec, k);
		(void)putchar('\n');
	}
}

/*
 * Where the Art. 33 deadline stands (register_art33): time left while
 * due, else what met it, or OVERDUE.  state NULL (an older agent): by
 * the clock alone.
 */
static const char *
art33_label(const char *state, json_int_t left, char *out, size_t len)
{
	if (state != NULL && strcmp(state, "notified") == 0)
		(void)snprintf(out, len, "notified");
	else if (state != NULL && strcmp(state, "notified_late") == 0)
		(void)snprintf(out, len, "notified late");
	else if (state != NULL && strcmp(state, "late_unexplained") == 0)
		(void)snprintf(out, len, "LATE, no why");
	else if (state != NULL && strcmp(state, "not_notify") == 0)
		(void)snprintf(out, len, "met");
	else if (left < 0)
		(void)snprintf(out, len, "OVERDUE");
	else
		(void)snprintf(out, len, "%lldh%02lldm", (long long)(left /
		    3600), (long long)(left % 3600 / 60));
	return out;
}

static void
print_incident(const json_t *rep)
{
	const json_t		*inc = json_object_get(rep, "incident");
	const json_t		*rec = json_object_get(inc, "record"), *v, *m;
	const struct field	*f;
	const char		*group = "";
	json_int_t		 left = json_integer_value(json_object_get(inc,
	    "authority_seconds_left"));
	size_t			 i;
	char			*s, lb[32];

	(void)printf("%s  ", jstr(inc, "id"));
	put_safe(stdout, jstr(inc, "title"));
	(void)printf("\n  customer          %s\n  opened            %s by ",
	    jstr(inc, "customer"), jstr(inc, "opened_at"));
	put_safe(stdout, jstr(inc, "opened_by"));
	(void)printf("\n  aware at          %s", jstr(inc, "aware_at"));
	print_given(rec, "aware_at");
	(void)art33_label(jstr(inc, "authority_state"), left, lb, sizeof(lb));
	(void)printf("\n  authority due     %s (%s%s)\n", jstr(inc,
	    "authority_due"), lb, isdigit((unsigned char)lb[0]) ? " left" :
	    "");
	if (jstr(inc, "closed_at"))
		(void)printf("  closed            %s\n", jstr(inc, "closed_at"));
	for (f = register_fields; f->name; f++) {
		if ((v = json_object_get(rec, f->name)) == NULL ||
		    json_is_null(v))
			continue;
		if (strcmp(group, f->group) != 0)
			(void)printf(" [%s]\n", group = f->group);
		(void)printf("  %-21s ", f->name);
		if (json_is_string(v))
			put_safe(stdout, json_string_value(v));
		else if ((s = json_dumps(v, JSON_ENCODE_ANY)) != NULL) {
			(void)fputs(s, stdout);
			free(s);
		}
		if (f->type == F_TIME)
			print_given(rec, f->name);
		(void)putchar('\n');
	}
	print_rule_fields(rec);
	print_deadlines(json_object_get(rep, "deadlines"), "  ");
	(void)printf(" [corrective measures: cordon's actions]\n");
	json_array_foreach(json_object_get(rep, "measures"), i, m) {
		(void)printf("  A%-5lld %s %-10s %-22s ", (long long)
		    json_integer_value(json_object_get(m, "action")),
		    jstr(m, "at"), jstr(m, "state"), jstr(m, "verb"));
		print_params(json_object_get(m, "params"));
		(void)putchar('\n');
	}
	json_array_foreach(json_object_get(rep, "warnings"), i, m) {
		(void)fputs("WARNING: ", stdout);
		put_safe(stdout, json_string_value(m));
		(void)putchar('\n');
	}
}

static int
incident_list(json_t *rep, int js)
{
	json_t	*e;
	size_t	 i;

	if (js) {
		print_json(rep);
		return EXIT_OK;
	}
	(void)printf("%-15s %-10s %-8s %-14s %s\n", "INCIDENT", "CUSTOMER",
	    "ACTIONS", "ART.33 LEFT", "TITLE");
	json_array_foreach(json_object_get(rep, "incidents"), i, e) {
		json_int_t left = json_integer_value(json_object_get(e,
		    "authority_seconds_left"));
		char lb[32];

		(void)art33_label(jstr(e, "authority_state"), left, lb,
		    sizeof(lb));
		(void)printf("%-15s %-10s %-8lld %-14s ", jstr(e, "id"),
		    jstr(e, "customer"), (long long)json_integer_value(
		    json_object_get(e, "actions")), lb);
		put_safe(stdout, jstr(e, "title"));
		(void)putchar('\n');
		print_deadlines(json_object_get(e, "deadlines"), "    ");
	}
	return EXIT_OK;
}

static int
incident_due(json_t *rep, int js)
{
	json_t	*e;
	size_t	 i;

	if (js)
		print_json(rep);
	else
		json_array_foreach(json_object_get(rep, "due"), i, e) {
			(void)printf("%-15s %s  %s%s  ", jstr(e, "incident"),
			    jstr(e, "due"), jstr(e, "what"),
			    json_is_true(json_object_get(e, "overdue")) ?
			    "  OVERDUE" : "");
			put_safe(stdout, jstr(e, "title"));
			(void)putchar('\n');
		}
	return json_is_true(json_object_get(rep, "overdue")) ? EXIT_FAILED :
	    EXIT_OK;
}

/* Writes text to path (0640, replaced whole) or to stdout. */
static int
write_out(const char *path, const char *text, size_t len)
{
	char	*tmp;
	FILE	*f;
	int	 fd, bad;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
			return die(EXIT_FAILED, "cannot write the output");
		return EXIT_OK;
	}
	tmp = xasprintf("%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		bad = errno;
		if (fd >= 0)
			(void)close(fd);
		free(tmp);
		return die(EXIT_FAILED, "cannot write '%s': %s", path,
		    strerror(bad));
	}
	bad = fwrite(text, 1, len, f) != len || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		bad = errno;
		(void)unlink(tmp);
		free(tmp);
		return die(EXIT_FAILED, "cannot write '%s': %s", path,
		    strerror(bad));
	}
	free(tmp);
	return EXIT_OK;
}

static int
report_write(const json_t *doc, const char *fmt, const char *path)
{
	struct buf	 b;
	char		*s;
	int		 r;

	if (strcmp(fmt, "json") == 0) {
		if ((s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) ==
		    NULL)
			return die(EXIT_FAILED, "cannot encode the report");
		buf_init(&b, REPORT_MAX);
		if (buf_adds(&b, s) != 0 || buf_addc(&b, '\n') != 0) {
			free(s);
			buf_free(&b);
			return die(EXIT_FAILED, "the report is too large");
		}
		free(s);
	} else {
		buf_init(&b, REPORT_MAX);
		if (report_render(&b, doc, strcmp(fmt, "html") == 0 ?
		    REPORT_HTML : REPORT_MD) != 0) {
			buf_free(&b);
			return die(EXIT_FAILED, "cannot render the report");
		}
	}
	r = write_out(path, b.p, b.len);
	buf_free(&b);
	return r;
}

int
cmd_incident(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "customer", required_argument, NULL, 'c' },
		{ "title", required_argument, NULL, 't' },
		{ "aware-at", required_argument, NULL, 'a' },
		{ "set", required_argument, NULL, 's' },
		{ "hours", required_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const struct field	*f;
	const char		*cust = NULL, *title = NULL, *aware = NULL;
	const char		*sub, *id = NULL, *eq, *fmt = "md", *ofile = NULL;
	json_t			*rep = NULL, *req, *sets = json_object();
	double			 hours = 24;
	char			*key, *zv = NULL;
	int			 ch, js = 0, r;

	if (argc < 2) {
		json_decref(sets);
		cmd_usage(cmd_find("incident"));
		return EXIT_USAGE;
	}
	sub = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cust = optarg; break;
		case 't': title = optarg; break;
		case 'a': aware = optarg; break;
		case 'j': js = 1; break;
		case 'f': fmt = optarg; break;
		case 'o': ofile = optarg; break;
		case 'h':
			if ((hours = num_arg(optarg)) <= 0) {
				json_decref(sets);
				return die(EXIT_USAGE, "bad --hours");
			}
			break;
		case 's':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg) {
				json_decref(sets);
				return die(EXIT_USAGE, "--set needs "
				    "FIELD=VALUE");
			}
			key = xstrndup(optarg, (size_t)(eq - optarg));
			if ((zv = zone_resolve(key, eq + 1)) == NULL) {
				free(key);
				json_decref(sets);
				return EXIT_USAGE;
			}
			(void)json_object_set_new(sets, key, json_string(zv));
			free(zv);
			free(key);
			break;
		default:
			json_decref(sets);
			cmd_usage(cmd_find("incident"));
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		id = argv[optind++];
	if (optind != argc) {
		json_decref(sets);
		cmd_usage(cmd_find("incident"));
		return EXIT_USAGE;
	}
	if (strcmp(sub, "fields") == 0) {
		json_decref(sets);
		for (f = register_fields; f->name; f++)
			(void)printf("%-14s %-24s %s\n", f->group, f->name,
			    f->type == F_TIME ? "time (Z, +hh:mm, [Zone])" :
			    f->type == F_BOOL ? "true|false" : f->type == F_INT ?
			    "integer" : f->type == F_ENUM ? f->choices :
			    "text");
		(void)printf("%-14s %-24s %s\n", "deadlines", "(per customer)",
		    "time fields a customer's deadline rules declare");
		return EXIT_OK;
	}
	if (strcmp(sub, "open") == 0) {
		if (cust == NULL || title == NULL) {
			json_decref(sets);
			return die(EXIT_USAGE, "incident open needs "
			    "--customer and --title");
		}
		if (aware && (zv = zone_resolve("--aware-at", aware)) ==
		    NULL) {
			json_decref(sets);
			return EXIT_USAGE;
		}
		req = json_pack("{s:s,s:s,s:s,s:s?}", "cmd", "incident_open",
		    "customer", cust, "title", title, "aware_at", aware ? zv :
		    NULL);
		free(aware ? zv : NULL);
	} else if (strcmp(sub, "list") == 0)
		req = json_pack("{s:s}", "cmd", "incident_list");
	else if (strcmp(sub, "due") == 0)
		req = json_pack("{s:s,s:I}", "cmd", "incident_due", "hours",
		    (json_int_t)hours);
	else if (id && strcmp(sub, "show") == 0)
		req = json_pack("{s:s,s:s}", "cmd", "incident_show",
		    "incident", id);
	else if (id && strcmp(sub, "close") == 0)
		req = json_pack("{s:s,s:s}", "cmd", "incident_close",
		    "incident", id);
	else if (id && strcmp(sub, "update") == 0)
		req = json_pack("{s:s,s:s,s:O}", "cmd", "incident_update",
		    "incident", id, "set", sets);
	else if (id && strcmp(sub, "report") == 0) {
		if (strcmp(fmt, "md") && strcmp(fmt, "html") &&
		    strcmp(fmt, "json")) {
			json_decref(sets);
			return die(EXIT_USAGE, "--format must be md, html or "
			    "json");
		}
		req = json_pack("{s:s,s:s}", "cmd", "incident_report",
		    "incident", id);
	} else {
		json_decref(sets);
		cmd_usage(cmd_find("incident"));
		return EXIT_USAGE;
	}
	json_decref(sets);
	if ((r = request(req, &rep)) != 0)
		goto out;
	if (strcmp(sub, "list") == 0)
		r = incident_list(rep, js);
	else if (strcmp(sub, "due") == 0)
		r = incident_due(rep, js);
	else if (strcmp(sub, "report") == 0)
		r = report_write(json_object_get(rep, "report"), fmt, ofile);
	else if (js)
		print_json(rep);
	else if (strcmp(sub, "open") == 0)
		(void)printf("%s  (authority due by %s)\n",
		    jstr(rep, "incident"), jstr(rep, "authority_due"));
	else if (strcmp(sub, "show") == 0)
		print_incident(rep);
	else if (strcmp(sub, "update") == 0) {
		const char	*k;
		json_t		*c, *w;
		size_t		 i;

		json_object_foreach(json_object_get(rep, "changes"), k, c)
			(void)printf("%s: updated %s\n", id, k);
		json_array_foreach(json_object_get(rep, "warnings"), i, w) {
			(void)fputs("WARNING: ", stdout);
			put_safe(stdout, json_string_value(w));
			(void)putchar('\n');
		}
	} else
		(void)printf("%s closed\n", id);
out:
	json_decref(rep);
	return r;
}

/* --set-file K=FILE: one value per line, taken literally. */
static int
set_file(json_t *params, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	json_t		*list;
	char		*text, *p, *nl, *key;
	size_t		 len;
	int		 r;

	if (eq == NULL || eq == arg)
		return die(EXIT_USAGE, "--set-file needs KEY=FILE");
	if ((r = read_file(eq + 1, SET_FILE_MAX, &text, &len)) != 0)
		return die(EXIT_USAGE, "%s: %s", eq + 1, strerror(-r));
	if ((p = memchr(text, '\0', len)) != NULL) {
		for (r = 1, nl = text; nl < p; nl++)
			r += *nl == '\n';
		free(text);
		return die(EXIT_USAGE, "%s:%d: contains a NUL byte", eq + 1,
		    r);
	}
	list = json_array();
	for (p = text; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (nl == NULL)
			nl = text + len;
		if (nl > p)
			(void)json_array_append_new(list, json_stringn(p,
			    (size_t)(nl - p)));
	}
	free(text);
	key = xstrndup(arg, (size_t)(eq - arg));
	(void)json_object_set_new(params, key, list);
	free(key);
	return 0;
}

struct runargs {
	const char	*runbook;
	const char	*incident;
	json_t		*params;
	int		 json;
	int		 wait;
	double		 timeout;
};

static int
parse_runargs(const char *name, int argc, char **argv, struct runargs *ra)
{
	static const struct option opts[] = {
		{ "incident", required_argument, NULL, 'i' },
		{ "set", required_argument, NULL, 's' },
		{ "set-file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*eq;
	char		*key;
	int		 ch, r;

	memset(ra, 0, sizeof(*ra));
	ra->params = json_object();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': ra->incident = optarg; break;
		case 'j': ra->json = 1; break;
		case 'w': ra->wait = 1; break;
		case 't':
			if ((ra->timeout = num_arg(optarg)) < 0)
				return die(EXIT_USAGE, "bad --timeout '%s'",
				    optarg);
			break;
		case 's':
			if ((eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg)
				return die(EXIT_USAGE, "--set needs "
				    "KEY=VALUE");
			key = xstrndup(optarg, (size_t)(eq - optarg));
			(void)json_object_set_new(ra->params, key,
			    json_string(eq + 1));
			free(key);
			break;
		case 'f':
			if ((r = set_file(ra->params, optarg)) != 0)
				return r;
			break;
		default:
			cmd_usage(cmd_find(name));
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || ra->incident == NULL) {
		cmd_usage(cmd_find(name));
		return EXIT_USAGE;
	}
	ra->runbook = argv[optind];
	return 0;
}

static json_t *
runbook_request(const char *cmd, struct runargs *ra, int *ret)
{
	json_t	*req;
	char	*text;
	size_t	 len;
	int	 r;

	if ((r = read_file(ra->runbook, RUNBOOK_MAX_BYTES, &text,
	    &len)) != 0) {
		*ret = die(EXIT_USAGE, "%s: %s", ra->runbook, strerror(-r));
		return NULL;
	}
	if (strlen(text) != len) {
		free(text);
		*ret = die(EXIT_USAGE, "%s: contains a NUL byte",
		    ra->runbook);
		return NULL;
	}
	*ret = 0;
	req = json_pack("{s:s,s:s,s:s%,s:s,s:O}", "cmd", cmd,
	    "runbook_name", ra->runbook, "runbook_text", text, len,
	    "incident", ra->incident, "params", ra->params);
	free(text);
	return req;
}

int
cmd_plan(int argc, char **argv)
{
	struct runargs	 ra;
	json_t		*req, *rep = NULL, *a;
	size_t		 i, nch = 0, nno = 0, nfail = 0;
	int		 r;

	if ((r = parse_runargs("plan", argc, argv, &ra)) != 0)
		goto out;
	if ((req = runbook_request("plan", &ra, &r)) == NULL)
		goto out;
	if ((r = request(req, &rep)) != 0)
		goto out;
	if (ra.json) {
		print_json(rep);
		goto out;
	}
	(void)printf("plan (dry run, nothing written) for %s on %s:\n",
	    ra.runbook, ra.incident);
	json_array_foreach(json_object_get(rep, "actions"), i, a) {
		const json_t	*b = json_object_get(a, "before");
		const char	*o = jstr(a, "outcome");

		(void)printf("%4zu  %s %s on %s (", i + 1, jstr(a, "step"),
		    jstr(a, "verb"), jstr(a, "target"));
		print_params(json_object_get(a, "params"));
		(void)printf(")%s\n", json_is_true(json_object_get(a,
		    "approval_required")) ? "  [approval required]" : "");
		if (jstr(b, "dn")) {
			(void)printf("        dn:     ");
			put_safe(stdout, jstr(b, "dn"));
			(void)putchar('\n');
		}
		(void)printf("        state:  %s\n", jstr(b, "state") ?
		    jstr(b, "state") : "-");
		if (strcmp(o, "change") == 0) {
			(void)printf("        change: ");
			put_safe(stdout, jstr(a, "change"));
			nch++;
		} else if (strcmp(o, "no_change") == 0) {
			(void)printf("        change: none (already done)");
			nno++;
		} else {
			(void)printf("        %s: ", strcmp(o, "refused") ?
			    "FAILS" : "REFUSED");
			put_safe(stdout, jstr(a, "message"));
			nfail++;
		}
		(void)putchar('\n');
	}
	(void)printf("%zu action(s): %zu change, %zu already done, "
	    "%zu cannot run\n", nch + nno + nfail, nch, nno, nfail);
out:
	json_decref(rep);
	json_decref(ra.params);
	return r;
}

struct counts {
	json_int_t	done, failed, waiting, pending, total;
};

static void
count_states(const json_t *st, struct counts *c)
{
	const char	*k;
	json_t		*v;

	memset(c, 0, sizeof(*c));
	json_object_foreach((json_t *)st, k, v) {
		json_int_t n = json_integer_value(v);

		c->total += n;
		if (!strcmp(k, "succeeded") || !strcmp(k, "undone"))
			c->done += n;
		else if (!strcmp(k, "failed") || !strcmp(k, "rejected") ||
		    !strcmp(k, "expired"))
			c->failed += n;
		else if (!strcmp(k, "awaiting_approval"))
			c->waiting += n;
		else
			c->pending += n;
	}
}

static int
follow(json_int_t run, double timeout, const char *incident)
{
	struct counts	 c, last;
	json_t		*rep;
	double		 t0 = now_mono(), lastprint = 0, rate;
	int		 tty = isatty(STDOUT_FILENO), r, hinted = 0;

	memset(&last, 0xff, sizeof(last));
	for (;;) {
		if ((r = request(json_pack("{s:s,s:I}", "cmd", "run_status",
		    "run", run), &rep)) != 0) {
			json_decref(rep);
			return r;
		}
		count_states(json_object_get(rep, "states"), &c);
		json_decref(rep);
		rate = (double)(c.done + c.failed) /
		    fmax(now_mono() - t0, 0.001);
		if (tty) {
			(void)printf("\r\033[Krun %lld: done %lld  failed %lld"
			    "  waiting for approval %lld  total %lld  "
			    "%.0f/s", (long long)run, (long long)c.done,
			    (long long)c.failed, (long long)c.waiting,
			    (long long)c.total, rate);
			(void)fflush(stdout);
		} else if (memcmp(&c, &last, sizeof(c)) != 0 &&
		    (now_mono() - lastprint >= 1.0 || c.pending == 0)) {
			(void)printf("run %lld: done %lld failed %lld "
			    "waiting %lld total %lld\n", (long long)run,
			    (long long)c.done, (long long)c.failed,
			    (long long)c.waiting, (long long)c.total);
			(void)fflush(stdout);
			lastprint = now_mono();
			last = c;
		}
		if (c.waiting && !c.pending && !hinted) {
			(void)fprintf(stderr, "%s%lld action(s) wait for a "
			    "lead: cordon approve --all-for %s\n",
			    tty ? "\n" : "", (long long)c.waiting,
			    incident ? incident : "INCIDENT");
			hinted = 1;
		}
		if (c.pending == 0 && c.waiting == 0)
			break;
		if (timeout > 0 && now_mono() - t0 > timeout) {
			if (tty)
				(void)putchar('\n');
			return die(EXIT_FAILED, "timed out after %.0f s with "
			    "%lld action(s) unsettled", timeout,
			    (long long)(c.pending + c.waiting));
		}
		(void)usleep(tty ? 200000 : 100000);
	}
	if (tty)
		(void)printf("\n");
	if (c.failed)
		return die(EXIT_FAILED, "%lld action(s) failed; see 'cordon "
		    "queue --run %lld --all'", (long long)c.failed,
		    (long long)run);
	return EXIT_OK;
}

int
cmd_run(int argc, char **argv)
{
	struct runargs	 ra;
	struct counts	 c;
	json_t		*req, *rep = NULL;
	json_int_t	 run;
	int		 r;

	if ((r = parse_runargs("run", argc, argv, &ra)) != 0)
		goto out;
	if ((req = runbook_request("run", &ra, &r)) == NULL)
		goto out;
	if ((r = request(req, &rep)) != 0)
		goto out;
	run = json_integer_value(json_object_get(rep, "run"));
	count_states(json_object_get(rep, "states"), &c);
	if (ra.json)
		print_json(rep);
	else
		(void)printf("run %lld queued on %s: %lld action(s), %lld "
		    "wait for approval, %lld failed at check\n",
		    (long long)run, ra.incident, (long long)c.total,
		    (long long)c.waiting, (long long)c.failed);
	if (ra.wait)
		r = follow(run, ra.timeout, ra.incident);
	else if (c.failed)
		r = EXIT_FAILED;
out:
	json_decref(rep);
	json_decref(ra.params);
	return r;
}

int
cmd_wait(int argc, char **argv)
{
	double	timeout = 0;
	char	*end;
	long	run;

	if (argc == 4 && strcmp(argv[2], "--timeout") == 0) {
		if ((timeout = num_arg(argv[3])) < 0)
			return die(EXIT_USAGE, "bad --timeout '%s'", argv[3]);
	} else if (argc != 2) {
		cmd_usage(cmd_find("wait"));
		return EXIT_USAGE;
	}
	run = strtol(argv[1], &end, 10);
	if (*end || run <= 0)
		return die(EXIT_USAGE, "bad run '%s'", argv[1]);
	return follow(run, timeout, NULL);
}

int
cmd_queue(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "incident", required_argument, NULL, 'i' },
		{ "run", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*inc = NULL;
	json_t		*rep, *a;
	long		 run = 0;
	size_t		 i;
	int		 ch, all = 0, js = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': inc = optarg; break;
		case 'r':
			if ((run = (long)num_arg(optarg)) <= 0)
				return die(EXIT_USAGE, "bad --run '%s'",
				    optarg);
			break;
		case 'a': all = 1; break;
		case 'j': js = 1; break;
		default: cmd_usage(cmd_find("queue")); return EXIT_USAGE;
		}
	}
	if ((r = request(json_pack("{s:s,s:s?,s:I,s:b}", "cmd", "queue",
	    "incident", inc, "run", (json_int_t)run, "all", all),
	    &rep)) != 0) {
		json_decref(rep);
		return r;
	}
	if (js) {
		print_json(json_object_get(rep, "actions"));
		json_decref(rep);
		return EXIT_OK;
	}
	(void)printf("%-7s %-4s %-15s %-18s %-10s %-25s %-9s %s\n", "ACTION",
	    "RUN", "INCIDENT", "STATE", "TARGET", "VERB", "APPROVALS",
	    "PARAMS / RESULT");
	json_array_foreach(json_object_get(rep, "actions"), i, a) {
		char ap[16];

		(void)snprintf(ap, sizeof(ap), "%lld/%lld",
		    (long long)json_integer_value(json_object_get(a,
		    "approvals")), (long long)json_integer_value(
		    json_object_get(a, "approvals_needed")));
		(void)printf("A%-6lld %-4lld %-15s %-18s %-10s %-25s %-9s ",
		    (long long)json_integer_value(json_object_get(a, "id")),
		    (long long)json_integer_value(json_object_get(a, "run")),
		    jstr(a, "incident"), jstr(a, "state"), jstr(a, "target"),
		    jstr(a, "verb"), ap);
		print_params(json_object_get(a, "params"));
		if (json_integer_value(json_object_get(a, "undo_of")))
			(void)printf(" (undo of A%lld)", (long long)
			    json_integer_value(json_object_get(a,
			    "undo_of")));
		if (jstr(a, "message")) {
			(void)printf("  ");
			put_safe(stdout, jstr(a, "message"));
		}
		(void)putchar('\n');
	}
	json_decref(rep);
	return EXIT_OK;
}

static void
print_kv(const char *k, const json_t *v)
{
	char	*s;

	if (v == NULL || json_is_null(v))
		return;
	(void)printf("  %-17s ", k);
	if (json_is_string(v))
		put_safe(stdout, json_string_value(v));
	else if ((s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY)) != NULL) {
		put_safe(stdout, s);
		free(s);
	}
	(void)putchar('\n');
}

int
cmd_show(int argc, char **argv)
{
	json_t		*rep, *a, *e;
	size_t		 i;
	int		 r, js = argc == 3 && strcmp(argv[2], "--json") == 0;

	if (argc != 2 && !js) {
		cmd_usage(cmd_find("show"));
		return EXIT_USAGE;
	}
	if ((r = request(json_pack("{s:s,s:s}", "cmd", "show", "action",
	    argv[1]), &rep)) != 0) {
		json_decref(rep);
		return r;
	}
	if (js) {
		print_json(rep);
		json_decref(rep);
		return EXIT_OK;
	}
	a = json_object_get(rep, "action");
	(void)printf("A%lld  %s\n", (long long)json_integer_value(
	    json_object_get(a, "id")), jstr(a, "state"));
	print_kv("incident", json_object_get(a, "incident"));
	print_kv("customer", json_object_get(a, "customer"));
	print_kv("requested by", json_object_get(a, "requested_by"));
	print_kv("target", json_object_get(a, "target"));
	print_kv("verb", json_object_get(a, "verb"));
	print_kv("params", json_object_get(a, "params"));
	print_kv("seen before", json_object_get(a, "before"));
	print_kv("change", json_object_get(a, "change"));
	print_kv("restores", json_object_get(a, "restore"));
	print_kv("read back", json_object_get(a, "observed"));
	print_kv("message", json_object_get(a, "message"));
	print_kv("plan hash", json_object_get(rep, "plan_hash"));
	(void)printf("  %-17s %lld needed\n", "approvals",
	    (long long)json_integer_value(json_object_get(a,
	    "approvals_needed")));
	json_array_foreach(json_object_get(rep, "approvals"), i, e) {
		(void)printf("    %s by ", jstr(e, "at"));
		put_safe(stdout, jstr(e, "approver"));
		(void)printf("%s\n", json_is_true(json_object_get(e,
		    "current")) ? "" : "  (for an older plan: void)");
	}
	(void)printf("  journal:\n");
	json_array_foreach(json_object_get(rep, "journal"), i, e) {
		(void)printf("    #%lld %s %-18s ", (long long)
		    json_integer_value(json_object_get(e, "seq")),
		    jstr(e, "ts"), jstr(e, "event"));
		put_safe(stdout, jstr(e, "actor"));
		(void)putchar('\n');
	}
	json_decref(rep);
	return EXIT_OK;
}

int
cmd_approve(int argc, char **argv)
{
	json_t	*req, *rep, *e;
	size_t	 i;
	int	 r;

	if (argc == 3 && strcmp(argv[1], "--all-for") == 0)
		req = json_pack("{s:s,s:s}", "cmd", "approve", "all_for",
		    argv[2]);
	else if (argc == 2 && argv[1][0] != '-')
		req = json_pack("{s:s,s:s}", "cmd", "approve", "action",
		    argv[1]);
	else {
		cmd_usage(cmd_find("approve"));
		return EXIT_USAGE;
	}
	if ((r = request(req, &rep)) == 0) {
		(void)printf("approved %lld action(s)\n", (long long)
		    json_integer_value(json_object_get(rep, "approved")));
		json_array_foreach(json_object_get(rep, "refusals"), i, e) {
			(void)fputs("refused: ", stderr);
			put_safe(stderr, json_string_value(e));
			(void)fputc('\n', stderr);
		}
	}
	json_decref(rep);
	return r;
}

int
cmd_reject(int argc, char **argv)
{
	json_t	*rep;
	int	 r;

	if (argc != 4 || strcmp(argv[2], "--reason") != 0) {
		cmd_usage(cmd_find("reject"));
		return EXIT_USAGE;
	}
	if ((r = request(json_pack("{s:s,s:s,s:s}", "cmd", "reject",
	    "action", argv[1], "reason", argv[3]), &rep)) == 0)
		(void)printf("rejected %s\n", argv[1]);
	json_decref(rep);
	return r;
}

int
cmd_undo(int argc, char **argv)
{
	json_t	*rep, *a;
	int	 r;

	if (argc != 2) {
		cmd_usage(cmd_find("undo"));
		return EXIT_USAGE;
	}
	if ((r = request(json_pack("{s:s,s:s}", "cmd", "undo", "action",
	    argv[1]), &rep)) == 0) {
		a = json_object_get(rep, "action");
		(void)printf("undo of %s queued as A%lld (run %lld): %s\n",
		    argv[1], (long long)json_integer_value(json_object_get(a,
		    "id")), (long long)json_integer_value(json_object_get(a,
		    "run")), jstr(a, "state"));
	}
	json_decref(rep);
	return r;
}

static int
journal_verify_path(const char *path, const char *name)
{
	char	 err[512], head[HASH_HEX_LEN + 1];
	int64_t	 n = 0;
	FILE	*f;
	int	 r;

	if ((f = fopen(path, "r")) == NULL)
		return die(EXIT_USAGE, "%s: %s", path, strerror(errno));
	r = journal_verify_stream(f, &n, head, err, sizeof(err));
	(void)fclose(f);
	if (r != 0)
		return die(EXIT_FAILED, "%s: verify FAILED at %s", name, err);
	(void)printf("%s: ok, %lld entries, head %s\n", name, (long long)n,
	    head);
	return EXIT_OK;
}

/* Streams the agent's export into f. */
static int
journal_fetch(FILE *f)
{
	json_t	*rep;
	char	 buf[65536];
	ssize_t	 n;
	int	 fd = -1, r;

	if ((r = request_fd(json_pack("{s:s}", "cmd", "journal_export"), &rep,
	    &fd)) != 0) {
		json_decref(rep);
		return r;
	}
	json_decref(rep);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
			r = die(EXIT_FAILED, "write: %s", strerror(errno));
			break;
		}
	if (n < 0)
		r = die(EXIT_UNREACHABLE, "read: %s", strerror(errno));
	(void)close(fd);
	return r;
}

/* Audit bundles: the names the agent may send, and how much. */
#define BUNDLE_FILES_MAX	(2 * CHECKPOINT_BUNDLE_MAX + 16)
#define BUNDLE_FILE_MAX		((json_int_t)1 << 40)
#define BUNDLE_SUBDIR		"checkpoints/"

static int
bundle_name_ok(const char *n)
{
	size_t	len, i;

	if (strncmp(n, BUNDLE_SUBDIR, strlen(BUNDLE_SUBDIR)) == 0)
		n += strlen(BUNDLE_SUBDIR);
	len = strlen(n);
	if (len == 0 || len > 64 || n[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' &&
		    n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ||
		    n[i] == '.' || n[i] == '_' || n[i] == '-'))
			return 0;
	return 1;
}

/* Copies exactly len bytes from the agent's socket to ofd. */
static int
bundle_copy(int fd, int ofd, json_int_t len)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	char		 buf[65536];
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		if ((r = poll(&pfd, 1, CTL_TIMEOUT_MS)) <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return r == 0 ? -ETIMEDOUT : -errno;
		}
		n = read(fd, buf, (json_int_t)sizeof(buf) < len ?
		    sizeof(buf) : (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		if ((r = fd_write_all(ofd, buf, (size_t)n)) != 0)
			return r;
		len -= n;
	}
	return 0;
}

/* `journal export --bundle DIR`: the agent sends, we write DIR/... */
static int
journal_fetch_bundle(const char *dir, const char *customer,
    const char *incident)
{
	json_t		*rep = NULL, *h = NULL, *jl;
	const char	*name;
	size_t		 nfiles = 0;
	int		 fd = -1, dfd = -1, ofd = -1, r, sub = 0;

	/* Journal entries are personal data: the exporter's eyes only. */
	if (mkdir(dir, 0700) != 0)
		return die(EXIT_USAGE, "%s: %s", dir, errno == EEXIST ?
		    "already exists (the bundle needs a new directory)" :
		    strerror(errno));
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return die(EXIT_FAILED, "%s: %s", dir, strerror(errno));
	if ((r = request_fd(json_pack("{s:s,s:b,s:s*,s:s*}", "cmd",
	    "journal_export", "bundle", 1, "customer", customer, "incident",
	    incident), &rep, &fd)) != 0)
		goto out;
	for (;;) {
		json_decref(h);
		h = NULL;
		if ((r = ctl_recv(fd, 64 * 1024, &h)) != 0) {
			r = die(EXIT_UNREACHABLE, "%s: the agent stopped "
			    "sending: %s", dir, strerror(-r));
			goto out;
		}
		if (json_is_true(json_object_get(h, "end")))
			break;
		name = jstr(h, "file");
		jl = json_object_get(h, "len");
		if (name == NULL || !bundle_name_ok(name) ||
		    !json_is_integer(jl) || json_integer_value(jl) < 0 ||
		    json_integer_value(jl) > BUNDLE_FILE_MAX ||
		    ++nfiles > BUNDLE_FILES_MAX) {
			r = die(EXIT_FAILED, "%s: bad file header from the "
			    "agent", dir);
			goto out;
		}
		if (!sub && strncmp(name, BUNDLE_SUBDIR,
		    strlen(BUNDLE_SUBDIR)) == 0) {
			if (mkdirat(dfd, "checkpoints", 0700) != 0) {
				r = die(EXIT_FAILED, "%s/checkpoints: %s",
				    dir, strerror(errno));
				goto out;
			}
			sub = 1;
		}
		if ((ofd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
			r = die(EXIT_FAILED, "%s/%s: %s", dir, name,
			    strerror(errno));
			goto out;
		}
		if ((r = bundle_copy(fd, ofd, json_integer_value(jl))) != 0 ||
		    (fsync(ofd) != 0 && (r = -errno) != 0)) {
			r = die(EXIT_FAILED, "%s/%s: %s", dir, name,
			    strerror(-r));
			goto out;
		}
		if (close(ofd) != 0) {
			ofd = -1;
			r = die(EXIT_FAILED, "%s/%s: %s", dir, name,
			    strerror(errno));
			goto out;
		}
		ofd = -1;
	}
	(void)printf("%s: bundle for customer '", dir);
	put_safe(stdout, jstr(rep, "customer"));
	(void)printf("'");
	if (incident != NULL) {
		(void)printf(", incident ");
		put_safe(stdout, incident);
		(void)printf(" (%lld entries in full, the others redacted)",
		    (long long)json_integer_value(json_object_get(rep,
		    "full_entries")));
	}
	(void)printf(", %lld entries, head %s\nsigned by key %s\n",
	    (long long)json_integer_value(json_object_get(rep, "entries")),
	    jstr(rep, "head"), jstr(rep, "fingerprint"));
	r = EXIT_OK;
out:
	/* Nothing written: take the directory back; else say so. */
	if (r != EXIT_OK && (nfiles > 0 || rmdir(dir) != 0))
		(void)fprintf(stderr, "cordon: %s is incomplete\n", dir);
	if (ofd >= 0)
		(void)close(ofd);
	if (fd >= 0)
		(void)close(fd);
	(void)close(dfd);
	json_decref(h);
	json_decref(rep);
	return r;
}

/*
 * `journal verify DIR [--key-fp FP] [--known-checkpoint FILE]`: a bundle,
 * without the agent.
 */
static int
journal_verify_bundle(const char *dir, const char *want_fp,
    const char *known)
{
	struct checkpoint_bundle	b;
	char				err[1024], *kt = NULL;
	size_t				klen;
	int				r;

	if (known != NULL && (r = read_file(known, CHECKPOINT_TEXT_MAX, &kt,
	    &klen)) != 0)
		return die(EXIT_USAGE, "%s: %s", known, strerror(-r));
	r = checkpoint_bundle_verify(dir, want_fp, &b, err, sizeof(err));
	if (r == 0 && kt != NULL)
		r = checkpoint_bundle_reaches(dir, &b, kt, klen, err,
		    sizeof(err));
	free(kt);
	if (b.fp[0] != '\0')
		(void)printf("%s: signed by key %s\n", dir, b.fp);
	if (r != 0)
		return die(EXIT_FAILED, "%s: verify FAILED: %s", dir, err);
	(void)printf("%s: ok, bundle for customer '", dir);
	put_safe(stdout, b.customer);
	(void)printf("'");
	if (b.incident[0] != '\0') {
		(void)printf(", incident ");
		put_safe(stdout, b.incident);
		(void)printf(" (other entries redacted)");
	}
	(void)printf(", %lld entries, head %s\n", (long long)b.size,
	    b.head);
	/* Re-signed with another key, a bundle still verifies. */
	if (want_fp == NULL)
		(void)printf("%s: signing key NOT checked: pass --key-fp "
		    "SHA256:... (the fingerprint `cordon keys show` printed "
		    "at setup)\n", dir);
	return EXIT_OK;
}

int
cmd_journal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "incident", required_argument, NULL, 'i' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*inc = NULL;
	json_t		*rep, *e;
	char		 tmpl[] = "/tmp/cordon-journal.XXXXXX";
	FILE		*f;
	size_t		 i;
	long		 lim = 0;
	int		 ch, js = 0, r, fd;

	if (argc < 2) {
		cmd_usage(cmd_find("journal"));
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "verify") == 0) {
		struct stat	st;

		const char	*fp = NULL, *known = NULL;
		int		 k;

		for (k = 3; argc >= 3 && k + 1 < argc; k += 2)
			if (strcmp(argv[k], "--key-fp") == 0 && fp == NULL)
				fp = argv[k + 1];
			else if (strcmp(argv[k], "--known-checkpoint") == 0 &&
			    known == NULL)
				known = argv[k + 1];
			else
				break;
		if (argc >= 3 && k == argc && stat(argv[2], &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return journal_verify_bundle(argv[2], fp, known);
		if (argc == 3)
			return journal_verify_path(argv[2], argv[2]);
		if (argc != 2)
			return die(EXIT_USAGE, "journal verify [FILE | DIR "
			    "[--key-fp SHA256:...] [--known-checkpoint "
			    "FILE]]");
		/* No file: verify what the agent holds, via an export. */
		if ((fd = mkstemp(tmpl)) < 0 ||
		    (f = fdopen(fd, "w")) == NULL)
			return die(EXIT_FAILED, "mkstemp: %s",
			    strerror(errno));
		r = journal_fetch(f);
		if (fclose(f) != 0 && r == 0)
			r = die(EXIT_FAILED, "write: %s", strerror(errno));
		if (r == 0)
			r = journal_verify_path(tmpl, "the agent's journal");
		(void)unlink(tmpl);
		return r;
	}
	if (strcmp(argv[1], "export") == 0) {
		if ((argc == 4 || argc == 6) &&
		    strcmp(argv[2], "--bundle") == 0) {
			if (argc == 6 && strcmp(argv[4], "--customer") != 0)
				return die(EXIT_USAGE, "journal export "
				    "--bundle DIR [--customer C]");
			return journal_fetch_bundle(argv[3], argc == 6 ?
			    argv[5] : NULL, NULL);
		}
		if (argc == 5 && strcmp(argv[2], "--incident") == 0)
			return journal_fetch_bundle(argv[4], NULL, argv[3]);
		if (argc == 4 && strcmp(argv[2], "-o") == 0) {
			if ((f = fopen(argv[3], "w")) == NULL)
				return die(EXIT_USAGE, "%s: %s", argv[3],
				    strerror(errno));
			r = journal_fetch(f);
			if (fclose(f) != 0 && r == 0)
				r = die(EXIT_FAILED, "%s: %s", argv[3],
				    strerror(errno));
			return r;
		}
		if (argc != 2)
			return die(EXIT_USAGE, "journal export [-o FILE | "
			    "--bundle DIR [--customer C] | --incident ID "
			    "DIR]");
		r = journal_fetch(stdout);
		return r;
	}
	if (strcmp(argv[1], "show") != 0) {
		cmd_usage(cmd_find("journal"));
		return EXIT_USAGE;
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': inc = optarg; break;
		case 'l':
			if ((lim = (long)num_arg(optarg)) <= 0)
				return die(EXIT_USAGE, "bad --limit '%s'",
				    optarg);
			break;
		case 'j': js = 1; break;
		default: cmd_usage(cmd_find("journal")); return EXIT_USAGE;
		}
	}
	if ((r = request(json_pack("{s:s,s:s?,s:I}", "cmd", "journal_show",
	    "incident", inc, "limit", (json_int_t)lim), &rep)) != 0) {
		json_decref(rep);
		return r;
	}
	if (js)
		print_json(json_object_get(rep, "entries"));
	else
		json_array_foreach(json_object_get(rep, "entries"), i, e) {
			char *p = json_dumps(json_object_get(e, "payload"),
			    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

			(void)printf("#%-6lld %s %-14s ", (long long)
			    json_integer_value(json_object_get(e, "seq")),
			    jstr(e, "ts"), jstr(e, "incident") ?
			    jstr(e, "incident") : "-");
			if (json_integer_value(json_object_get(e, "action")))
				(void)printf("A%-6lld ", (long long)
				    json_integer_value(json_object_get(e,
				    "action")));
			else
				(void)printf("%-7s ", "-");
			(void)printf("%-18s ", jstr(e, "event"));
			put_safe(stdout, jstr(e, "actor"));
			(void)putchar(' ');
			put_safe(stdout, p);
			(void)putchar('\n');
			free(p);
		}
	json_decref(rep);
	return EXIT_OK;
}

/* The register as CSV (RFC 4180, header row first) into b. */
static int
register_csv(const json_t *reg, struct buf *b)
{
	const json_t	*cols = json_object_get(reg, "columns"), *row, *c;
	const char	**f;
	char		**own;
	size_t		 i, j, n = json_array_size(cols);
	int		 r;

	f = xcalloc(n ? n : 1, sizeof(*f));
	own = xcalloc(n ? n : 1, sizeof(*own));
	json_array_foreach(cols, i, c)
		f[i] = json_string_value(c);
	r = csv_record(b, f, n);
	json_array_foreach(json_object_get(reg, "incidents"), i, row) {
		if (r != 0)
			break;
		json_array_foreach(cols, j, c) {
			own[j] = report_value_text(json_object_get(row,
			    json_string_value(c)));
			f[j] = own[j];
		}
		r = csv_record(b, f, n);
		for (j = 0; j < n; j++) {
			free(own[j]);
			own[j] = NULL;
		}
	}
	free(own);
	free(f);
	return r;
}

int
cmd_register(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "customer", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*fmt = "csv", *cust = NULL, *ofile = NULL;
	json_t		*rep = NULL, *reg;
	struct buf	 b;
	char		*s;
	int		 ch, r;

	optind = 2;
	if (argc < 2 || strcmp(argv[1], "export") != 0) {
		cmd_usage(cmd_find("register"));
		return EXIT_USAGE;
	}
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': fmt = optarg; break;
		case 'c': cust = optarg; break;
		case 'o': ofile = optarg; break;
		default:
			cmd_usage(cmd_find("register"));
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (strcmp(fmt, "csv") && strcmp(fmt, "json"))) {
		cmd_usage(cmd_find("register"));
		return EXIT_USAGE;
	}
	if ((r = request(json_pack("{s:s,s:s?}", "cmd", "register_export",
	    "customer", cust), &rep)) != 0)
		goto out;
	reg = json_object_get(rep, "register");
	buf_init(&b, REPORT_MAX);
	if (strcmp(fmt, "json") == 0) {
		if ((s = json_dumps(reg, JSON_INDENT(2) | JSON_SORT_KEYS)) ==
		    NULL)
			r = -EINVAL;
		else {
			r = buf_adds(&b, s);
			if (r == 0)
				r = buf_addc(&b, '\n');
			free(s);
		}
	} else
		r = register_csv(reg, &b);
	if (r != 0)
		r = die(EXIT_FAILED, "cannot write the register: %s",
		    strerror(-r));
	else
		r = write_out(ofile, b.p, b.len);
	buf_free(&b);
out:
	json_decref(rep);
	return r;
}

int
cmd_hosts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "customer", required_argument, NULL, 'c' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "replace", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*sub = argc > 1 ? argv[1] : "", *cust = NULL;
	const char	*fp = NULL, *target = NULL;
	json_t		*rep = NULL, *h;
	size_t		 i;
	int		 ch, js = 0, replace = 0, r;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cust = optarg; break;
		case 'f': fp = optarg; break;
		case 'r': replace = 1; break;
		case 'j': js = 1; break;
		default: cmd_usage(cmd_find("hosts")); return EXIT_USAGE;
		}
	}
	if (strcmp(sub, "scan") != 0 && optind == argc - 1)
		target = argv[optind++];
	if (optind != argc || (strcmp(sub, "scan") == 0) == (target != NULL) ||
	    (strcmp(sub, "trust") == 0) != (fp != NULL) ||
	    (replace && strcmp(sub, "trust") != 0) ||
	    (strcmp(sub, "show") && strcmp(sub, "scan") &&
	    strcmp(sub, "trust"))) {
		cmd_usage(cmd_find("hosts"));
		return EXIT_USAGE;
	}
	if (strcmp(sub, "trust") == 0) {
		if ((r = request(json_pack("{s:s,s:s,s:s?,s:s,s:b}", "cmd",
		    "hosts_trust", "target", target, "customer", cust,
		    "fingerprint", fp, "replace", replace), &rep)) != 0)
			goto out;
		if (js)
			print_json(rep);
		else if (jstr(rep, "note")) {
			(void)printf("%s: ", target);
			put_safe(stdout, jstr(rep, "note"));
			(void)putchar('\n');
		} else {
			(void)printf("%s: pinned ", target);
			put_safe(stdout, jstr(rep, "fingerprint"));
			(void)printf(" in ");
			put_safe(stdout, jstr(rep, "known_hosts"));
			json_array_foreach(json_object_get(rep,
			    "old_fingerprints"), i, h) {
				(void)printf("%s", i ? ", " : " (replacing ");
				put_safe(stdout, json_string_value(h));
			}
			(void)printf("%s\n", json_array_size(json_object_get(
			    rep, "old_fingerprints")) ? ")" : "");
		}
		goto out;
	}
	if ((r = request(json_pack("{s:s,s:s?,s:s?}", "cmd", strcmp(sub,
	    "scan") == 0 ? "hosts_scan" : "hosts_show", "target", target,
	    "customer", cust), &rep)) != 0)
		goto out;
	if (js) {
		print_json(json_object_get(rep, "hosts"));
		goto out;
	}
	(void)printf("%-10s %-16s %-22s %-11s %s\n", "CUSTOMER", "TARGET",
	    "HOST", "PINNED", "SERVER KEY");
	json_array_foreach(json_object_get(rep, "hosts"), i, h) {
		char hp[300];

		(void)snprintf(hp, sizeof(hp), "%s:%lld", jstr(h, "host"),
		    (long long)json_integer_value(json_object_get(h,
		    "port")));
		(void)printf("%-10s %-16s %-22s %-11s ", jstr(h, "customer"),
		    jstr(h, "target"), hp, jstr(h, "status"));
		if (jstr(h, "fingerprint")) {
			put_safe(stdout, jstr(h, "key_type"));
			(void)putchar(' ');
			put_safe(stdout, jstr(h, "fingerprint"));
		} else
			put_safe(stdout, jstr(h, "error"));
		(void)putchar('\n');
	}
	/* A key the pinned file does not accept is worth an exit code. */
	json_array_foreach(json_object_get(rep, "hosts"), i, h)
		if (strcmp(jstr(h, "status"), "ok") != 0)
			r = EXIT_FAILED;
out:
	json_decref(rep);
	return r;
}

int
cmd_retry(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, 'f' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t		*rep = NULL, *a;
	double		 timeout = 0;
	long		 run;
	char		*end;
	size_t		 i;
	int		 ch, failed = 0, wait = 0, js = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': failed = 1; break;
		case 'w': wait = 1; break;
		case 'j': js = 1; break;
		case 't':
			if ((timeout = num_arg(optarg)) < 0)
				return die(EXIT_USAGE, "bad --timeout '%s'",
				    optarg);
			break;
		default: cmd_usage(cmd_find("retry")); return EXIT_USAGE;
		}
	}
	/* --failed is the only kind of retry: say so rather than guess. */
	if (!failed || optind != argc - 1) {
		cmd_usage(cmd_find("retry"));
		return EXIT_USAGE;
	}
	run = strtol(argv[optind], &end, 10);
	if (*end || run <= 0)
		return die(EXIT_USAGE, "bad run '%s'", argv[optind]);
	if ((r = request(json_pack("{s:s,s:I,s:b}", "cmd", "retry", "run",
	    (json_int_t)run, "failed", 1), &rep)) != 0)
		goto out;
	if (js)
		print_json(rep);
	else {
		(void)printf("run %lld queued on %s: retry of %lld failed "
		    "action(s) of run %ld\n", (long long)json_integer_value(
		    json_object_get(rep, "run")), jstr(rep, "incident"),
		    (long long)json_integer_value(json_object_get(rep,
		    "total")), run);
		json_array_foreach(json_object_get(rep, "actions"), i, a) {
			(void)printf("  A%lld retries A%lld on ",
			    (long long)json_integer_value(json_object_get(a,
			    "id")), (long long)json_integer_value(
			    json_object_get(a, "retry_of")));
			put_safe(stdout, jstr(a, "target"));
			(void)putchar('\n');
		}
	}
	if (wait)
		r = follow(json_integer_value(json_object_get(rep, "run")),
		    timeout, jstr(rep, "incident"));
out:
	json_decref(rep);
	return r;
}

/* `keys show`: what the DPO writes down and the verifiers take. */
int
cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "customer", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*cust = NULL;
	json_t		*rep = NULL, *k;
	size_t		 i;
	int		 ch, js = 0, r;

	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cust = optarg; break;
		case 'j': js = 1; break;
		default: cmd_usage(cmd_find("keys")); return EXIT_USAGE;
		}
	}
	if (argc < 2 || strcmp(argv[1], "show") != 0 || optind != argc) {
		cmd_usage(cmd_find("keys"));
		return EXIT_USAGE;
	}
	if ((r = request(json_pack("{s:s,s:s?}", "cmd", "keys_show",
	    "customer", cust), &rep)) != 0) {
		json_decref(rep);	/* the error reply */
		return r;
	}
	if (js)
		print_json(json_object_get(rep, "keys"));
	else
		json_array_foreach(json_object_get(rep, "keys"), i, k) {
			(void)printf("%scustomer     ", i ? "\n" : "");
			put_safe(stdout, jstr(k, "customer"));
			(void)printf("\nfingerprint  %s\npublic key   ",
			    jstr(k, "fingerprint"));
			put_safe(stdout, jstr(k, "file"));
			(void)printf("\n%s", jstr(k, "public_key"));
			(void)printf("verify with  cordon journal verify DIR "
			    "--key-fp %s\n", jstr(k, "fingerprint"));
		}
	json_decref(rep);
	return EXIT_OK;
}
