/*
 * test_feed_syslog: RFC 5424 messages of the syslog feed
 * (agent/feed_syslog.c): the structured data escaping of '"', '\' and
 * ']', the header fields, PRI from facility and severity, and the feed
 * settings refused at config time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../agent/config.h"
#include "../../agent/feed.h"
#include "../../agent/util.h"

#define H64 "0123456789abcdef0123456789abcdef" \
	    "0123456789abcdef0123456789abcdef"

static void
sd(const char *in, const char *want)
{
	struct buf	b;

	buf_init(&b, 4096);
	assert_int_equal(feed_sd_value(&b, in), 0);
	assert_string_equal(b.p ? b.p : "", want);
	buf_free(&b);
}

static void
test_feed_sd_escapes_quote_backslash_bracket(void **state)
{
	(void)state;
	sd("plain", "plain");
	sd("a\"b", "a\\\"b");
	sd("a\\b", "a\\\\b");
	sd("a]b", "a\\]b");
	sd("[x=y]", "[x=y\\]");		/* '[' and '=' need nothing */
	sd("\"]\\", "\\\"\\]\\\\");
	sd("Zoë", "Zoë");		/* UTF-8 passes as is */
	sd("", "");
}

static const struct feed_syslog_hdr hdr = {
	.facility = 10,		/* authpriv */
	.severity = 5,		/* notice */
	.hostname = "host1",
	.app_name = "cordon",
	.procid = "42",
	.format = 0,
};

static char *
msg(const struct feed_syslog_hdr *h, const struct feed_rec *rec)
{
	struct buf	b;

	buf_init(&b, 65536);
	assert_int_equal(feed_syslog_msg(&b, h, rec), 0);
	return buf_steal(&b);
}

static void
test_feed_syslog_entry(void **state)
{
	struct feed_rec	 rec = { .kind = FEED_ENTRY, .id = 7,
	    .t = 1795662601 };	/* 2026-11-26T03:10:01Z */
	char		*m;

	(void)state;
	rec.obj = json_pack("{s:I,s:s,s:s,s:s,s:n,s:s,s:{s:s},s:s,s:s}",
	    "seq", (json_int_t)7, "ts", "2026-11-26T03:10:01Z",
	    "actor", "ev\"il]\\(0)", "incident", "INC-2026-0001",
	    "action", "event", "incident_opened", "payload", "title", "t",
	    "prev_hash", H64, "hash", H64);
	assert_non_null(rec.obj);
	m = msg(&hdr, &rec);
	assert_string_equal(m, "<85>1 2026-11-26T03:10:01Z host1 cordon 42 "
	    "incident_opened [cordon@32473 seq=\"7\" "
	    "event=\"incident_opened\" incident=\"INC-2026-0001\" "
	    "actor=\"ev\\\"il\\]\\\\(0)\" hash=\"" H64 "\"] "
	    "{\"action\":null,\"actor\":\"ev\\\"il]\\\\(0)\","
	    "\"event\":\"incident_opened\",\"hash\":\"" H64 "\","
	    "\"incident\":\"INC-2026-0001\",\"payload\":{\"title\":\"t\"},"
	    "\"prev_hash\":\"" H64 "\",\"seq\":7,"
	    "\"ts\":\"2026-11-26T03:10:01Z\"}");
	free(m);

	/* A refusal is at least a warning; a failed action an error. */
	assert_int_equal(json_object_set_new(rec.obj, "event",
	    json_string("refused")), 0);
	m = msg(&hdr, &rec);
	assert_int_equal(strncmp(m, "<84>1 ", 6), 0);
	assert_non_null(strstr(m, " 42 refused [cordon@32473 "));
	free(m);
	assert_int_equal(json_object_set_new(rec.obj, "event",
	    json_string("action_state")), 0);
	assert_int_equal(json_object_set_new(json_object_get(rec.obj,
	    "payload"), "to", json_string("failed")), 0);
	m = msg(&hdr, &rec);
	assert_int_equal(strncmp(m, "<83>1 ", 6), 0);
	free(m);

	/* No incident: no param; an event too long for MSGID: "journal". */
	assert_int_equal(json_object_set_new(rec.obj, "incident",
	    json_null()), 0);
	assert_int_equal(json_object_set_new(rec.obj, "event",
	    json_string("an_event_name_longer_than_32_chars")), 0);
	m = msg(&hdr, &rec);
	assert_non_null(strstr(m, " 42 journal [cordon@32473 seq=\"7\" "
	    "event=\"an_event_name_longer_than_32_chars\" actor="));
	assert_null(strstr(m, "incident=\""));
	free(m);
	json_decref(rec.obj);
}

static void
test_feed_syslog_checkpoint_cef(void **state)
{
	struct feed_syslog_hdr	 h = hdr;
	struct feed_rec		 rec = { .kind = FEED_CHECKPOINT, .id = 3,
	    .t = 1795662601 };
	char			*m;

	(void)state;
	h.facility = 20;	/* local4 */
	h.severity = 6;		/* info */
	h.format = 1;
	rec.obj = json_pack("{s:s,s:I,s:s,s:I,s:s,s:s}", "type", "checkpoint",
	    "id", (json_int_t)3, "customer", "ac]me", "size", (json_int_t)12,
	    "head", H64, "sig", "c2ln");
	assert_non_null(rec.obj);
	m = msg(&h, &rec);
	assert_int_equal(strncmp(m, "<166>1 2026-11-26T03:10:01Z host1 cordon "
	    "42 checkpoint [cordon@32473 checkpoint=\"3\" "
	    "customer=\"ac\\]me\" size=\"12\" head=\"" H64 "\"] "
	    "CEF:0|cordon|cordon|", 120), 0);
	assert_non_null(strstr(m, "|checkpoint|checkpoint|3|rt=1795662601000 "
	    "externalId=3 cs1Label=customer cs1=ac]me cn1Label=size cn1=12 "));
	free(m);
	json_decref(rec.obj);
}

static void
bad(const char *conf, const char *why)
{
	json_t	*o = json_loads(conf, 0, NULL);
	char	 err[FEED_ERR_MAX] = "";

	assert_non_null(o);
	assert_int_equal(feed_conf_check(o, err, sizeof(err)), -EINVAL);
	if (strstr(err, why) == NULL)
		fail_msg("'%s': got '%s', want '%s'", conf, err, why);
	json_decref(o);
}

static void
good(const char *conf)
{
	json_t	*o = json_loads(conf, 0, NULL);
	char	 err[FEED_ERR_MAX] = "";

	assert_non_null(o);
	if (feed_conf_check(o, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", conf, err);
	json_decref(o);
}

static void
test_feed_conf_check(void **state)
{
	(void)state;
	good("{\"type\":\"syslog\"}");
	good("{\"type\":\"syslog\",\"host\":\"::1\",\"port\":6514,"
	    "\"transport\":\"udp\",\"facility\":\"local7\","
	    "\"severity\":\"info\",\"hostname\":\"h.example\","
	    "\"app_name\":\"cordon-eu\",\"format\":\"cef\",\"timeout\":3}");
	good("{\"type\":\"hec\",\"url\":\"https://127.0.0.1:8088/services/"
	    "collector/event\",\"token_file\":\"/etc/t\",\"batch\":5}");
	good("{\"type\":\"file\",\"path\":\"/var/log/c.json\"}");
	bad("{\"type\":\"kafka\"}", "'type' must be");
	bad("{}", "'type' must be");
	bad("{\"type\":\"syslog\",\"prot\":514}", "unknown setting 'prot'");
	bad("{\"type\":\"syslog\",\"port\":0}", "'port'");
	bad("{\"type\":\"syslog\",\"transport\":\"tls\"}", "'transport'");
	bad("{\"type\":\"syslog\",\"facility\":\"local8\"}", "'facility'");
	bad("{\"type\":\"syslog\",\"severity\":\"loud\"}", "'severity'");
	bad("{\"type\":\"syslog\",\"hostname\":\"a b\"}", "'hostname'");
	bad("{\"type\":\"syslog\",\"app_name\":\"a23456789012345678901234"
	    "5678901234567890123456789\"}", "'app_name'");
	bad("{\"type\":\"hec\",\"url\":\"http://127.0.0.1/\","
	    "\"token_file\":\"/t\"}", "https://");
	bad("{\"type\":\"hec\",\"url\":\"https://h/\"}", "'token_file'");
	bad("{\"type\":\"hec\",\"url\":\"https://h/\",\"token_file\":\"/t\","
	    "\"batch\":0}", "'batch'");
	bad("{\"type\":\"file\",\"path\":\"rel\"}", "absolute");
	bad("{\"type\":\"file\",\"path\":\"/a\",\"format\":\"xml\"}",
	    "'format'");
}

/* A bad feed in a config file: "file:line: feed: why" of its group. */
static void
test_feed_config_file_line(void **state)
{
	static const char conf[] =
	    "agent: {\n"
	    "\tsocket = \"/tmp/cordon-test.sock\";\n"
	    "\tstore = \"/tmp/cordon-test.db\";\n"
	    "\tfeeds = (\n"
	    "\t\t{ type = \"syslog\"; port = 514; },\n"
	    "\t\t{ type = \"syslog\";\n"
	    "\t\t  prot = 514; }\n"
	    "\t);\n"
	    "};\n";
	struct config	*c = NULL;
	char		 path[] = "/tmp/test_feed_XXXXXX", err[CONFIG_ERR_MAX];
	char		 want[128];
	int		 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, conf, sizeof(conf) - 1),
	    (ssize_t)sizeof(conf) - 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	(void)snprintf(want, sizeof(want), "%s:6: feed: unknown setting "
	    "'prot'", path);
	assert_string_equal(err, want);
	assert_int_equal(unlink(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_sd_escapes_quote_backslash_bracket),
		cmocka_unit_test(test_feed_syslog_entry),
		cmocka_unit_test(test_feed_syslog_checkpoint_cef),
		cmocka_unit_test(test_feed_conf_check),
		cmocka_unit_test(test_feed_config_file_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
