/*
 * test_redact: the incident bundle's manifest (agent/redact.c) -- what
 * redact_manifest() writes, redact_manifest_parse() reads back, and every
 * malformed variant is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/redact.h"
#include "../../agent/util.h"

#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B64 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TAIL "journal.jsonl " A64 "\nchain.txt " B64 "\ncheckpoint.txt " \
	C64 "\n"

static void
test_redact_manifest_round_trip(void **state)
{
	struct redact_manifest	 m;
	json_t			*seqs = json_pack("[I,I,I]", (json_int_t)1,
	    (json_int_t)7, (json_int_t)12);
	char			*t;

	(void)state;
	t = redact_manifest("acme", "INC-2026-0001", seqs, A64, B64, C64);
	assert_non_null(t);
	assert_string_equal(t, "cordon-bundle/acme\nincident INC-2026-0001\n"
	    "entries 1,7,12\n" TAIL);
	assert_int_equal(redact_manifest_parse(t, strlen(t), &m), 0);
	assert_string_equal(m.customer, "acme");
	assert_string_equal(m.incident, "INC-2026-0001");
	assert_true(json_equal(m.seqs, seqs));
	assert_string_equal(m.sha_journal, A64);
	assert_string_equal(m.sha_chain, B64);
	assert_string_equal(m.sha_checkpoint, C64);
	json_decref(m.seqs);
	free(t);
	json_decref(seqs);
	/* No entry of the incident: "none". */
	seqs = json_array();
	t = redact_manifest("acme", "INC-2026-0002", seqs, A64, B64, C64);
	assert_non_null(strstr(t, "\nentries none\n"));
	assert_int_equal(redact_manifest_parse(t, strlen(t), &m), 0);
	assert_int_equal(json_array_size(m.seqs), 0);
	json_decref(m.seqs);
	free(t);
	json_decref(seqs);
}

static void
test_redact_manifest_malformed(void **state)
{
	static const char *bad[] = {
		"cordon-journal/acme\nincident I\nentries 1\n" TAIL,
		"cordon-bundle/\nincident I\nentries 1\n" TAIL,
		"cordon-bundle/acme\nincident \nentries 1\n" TAIL,
		"cordon-bundle/acme\nincident I\nentries 2,1\n" TAIL,
		"cordon-bundle/acme\nincident I\nentries 1,1\n" TAIL,
		"cordon-bundle/acme\nincident I\nentries 1,\n" TAIL,
		"cordon-bundle/acme\nincident I\nentries 0\n" TAIL,
		"cordon-bundle/acme\nincident I\nentries -1\n" TAIL,
		"cordon-bundle/acme\nincident I\nentries \n" TAIL,
		"cordon-bundle/acme\nincident I\nentries 1 \n" TAIL,
		"cordon-bundle/acme\nincident I\nentries 1\n" TAIL "extra\n",
		"cordon-bundle/acme\nincident I\nentries 1\n"
		    "chain.txt " B64 "\njournal.jsonl " A64 "\ncheckpoint.txt "
		    C64 "\n",
		"cordon-bundle/acme\nincident I\nentries 1\n"
		    "journal.jsonl " B64 "\nchain.txt " B64 "\ncheckpoint.txt "
		    "0123\n",
		"cordon-bundle/acme\nincident I\nentries 1\n"
		    "journal.jsonl " "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAA\nchain.txt " B64 "\ncheckpoint.txt " C64
		    "\n",
		"cordon-bundle/acme\nincident I\nentries 1\n" "journal.jsonl "
		    A64 "\nchain.txt " B64 "\ncheckpoint.txt " C64,
	};
	struct redact_manifest	m;
	size_t			i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (redact_manifest_parse(bad[i], strlen(bad[i]), &m) !=
		    -EBADMSG)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_null(m.seqs);
	}
	/* A NUL inside is not hidden by the length. */
	assert_int_equal(redact_manifest_parse("cordon-bundle/a\0b\n", 18,
	    &m), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_manifest_round_trip),
		cmocka_unit_test(test_redact_manifest_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
