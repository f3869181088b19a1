/*
 * test_runbook: parsing runbooks and expanding them into actions
 * (agent/runbook.c) against a customer built by hand: one ldap target,
 * "corp-ldap", with no settings (runbook_expand only looks targets up by
 * name and matches the verb family against the target type).
 *
 * Runbook texts are written inline with a fixed line layout, so every
 * error is checked for its exact "file:line: message" prefix.  Failed
 * calls must leave the ret_ outputs untouched (checked with sentinels).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/act.h"
#include "../../agent/config.h"
#include "../../agent/driver.h"
#include "../../agent/runbook.h"
#include "../../agent/util.h"

#define RB_FILE		"t.runbook"
#define ERR_MAX		1024
#define BIG		100000	/* max actions, when not under test */
#define N_SENTINEL	((size_t)0x5e5e)

/* A verbatim copy of config/runbooks/disable-accounts.runbook. */
static const char shipped_text[] =
    /*  1 */ "# Lock compromised directory accounts (OpenLDAP ppolicy "
	     "permanent lock).\n"
    /*  2 */ "# cordon plan config/runbooks/disable-accounts.runbook \\\n"
    /*  3 */ "#     --incident INC-2026-0001 --set accounts=alice,bob\n"
    /*  4 */ "name = \"disable-accounts\";\n"
    /*  5 */ "description = \"Lock accounts named in an incident so nobody "
	     "can bind as them\";\n"
    /*  6 */ "\n"
    /*  7 */ "params = (\n"
    /*  8 */ "\t{ name = \"accounts\"; type = \"list\"; required = true; }\n"
    /*  9 */ ");\n"
    /* 10 */ "\n"
    /* 11 */ "steps = (\n"
    /* 12 */ "\t{\n"
    /* 13 */ "\t\tname = \"lock\";\n"
    /* 14 */ "\t\tverb = \"ldap.disable_account\";\n"
    /* 15 */ "\t\ttarget = \"corp-ldap\";\n"
    /* 16 */ "\t\tforeach = \"${accounts}\";\n"
    /* 17 */ "\t\targs = { account = \"${item}\"; };\n"
    /* 18 */ "\t\tapproval = \"required\";\n"
    /* 19 */ "\t\ton_failure = \"continue\";\n"
    /* 20 */ "\t}\n"
    /* 21 */ ");\n";

#define L_SHIPPED_PARAM	8
#define L_SHIPPED_STEP	12

/* Line numbers in rb_text(), as errors must report them. */
#define L_ACCOUNTS	5
#define L_LIMIT		6
#define L_FORCE		7
#define L_REASON	8
#define L_STEP		11
#define L_VERB		13
#define L_FOREACH	15
#define L_ARGS		16
#define L_EXTRA		17

struct rb_opts {
	const char	*accounts;	/* settings of param 'accounts' */
	const char	*verb;
	const char	*target;
	const char	*foreach;	/* the whole foreach line */
	const char	*args;		/* inside args = { ... } */
	const char	*extra;		/* approval, on_failure, ... */
};

static char *
rb_text(const struct rb_opts *o)
{
	return xasprintf(
	    /*  1 */ "# cordon test runbook\n"
	    /*  2 */ "name = \"test\";\n"
	    /*  3 */ "description = \"unit test\";\n"
	    /*  4 */ "params = (\n"
	    /*  5 */ "\t{ name = \"accounts\"; type = \"list\"; %s },\n"
	    /*  6 */ "\t{ name = \"limit\"; type = \"int\"; },\n"
	    /*  7 */ "\t{ name = \"force\"; type = \"bool\"; },\n"
	    /*  8 */ "\t{ name = \"reason\"; type = \"string\"; "
		     "default = \"incident\"; }\n"
	    /*  9 */ ");\n"
	    /* 10 */ "steps = (\n"
	    /* 11 */ "\t{\n"
	    /* 12 */ "\t\tname = \"lock\";\n"
	    /* 13 */ "\t\tverb = \"%s\";\n"
	    /* 14 */ "\t\ttarget = \"%s\";\n"
	    /* 15 */ "\t\t%s\n"
	    /* 16 */ "\t\targs = { %s };\n"
	    /* 17 */ "\t\t%s\n"
	    /* 18 */ "\t}\n"
	    /* 19 */ ");\n",
	    o->accounts ? o->accounts : "required = true;",
	    o->verb ? o->verb : "ldap.disable_account",
	    o->target ? o->target : "corp-ldap",
	    o->foreach ? o->foreach : "foreach = \"${accounts}\";",
	    o->args ? o->args : "account = \"${item}\";",
	    o->extra ? o->extra : "");
}

struct fixture {
	struct customer	 cu;
	struct target	 t;
	struct runbook	*rb;
	struct act	**v;
	size_t		  n;
	struct runbook	  rb_sentinel;
	struct act	 *v_sentinel[1];
	char		  err[ERR_MAX];
};

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));

	f->cu.name = "acme";
	f->cu.targets = &f->t;
	f->cu.ntargets = 1;
	f->t.name = "corp-ldap";
	f->t.type = "ldap";
	f->t.line = 1;
	f->t.opts = json_object();
	f->t.customer = &f->cu;
	*state = f;
	return 0;
}

static void
acts_free(struct fixture *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		act_free(f->v[i]);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	acts_free(f);
	runbook_free(f->rb);
	json_decref(f->t.opts);
	free(f);
	return 0;
}

/* err must start with "t.runbook:<line>: <msg>". */
static void
assert_err(const struct fixture *f, int line, const char *msg)
{
	char	want[ERR_MAX];
	int	n;

	n = snprintf(want, sizeof(want), "%s:%d: %s", RB_FILE, line, msg);
	assert_true(n > 0 && (size_t)n < sizeof(want));
	if (strncmp(f->err, want, (size_t)n) != 0)
		fail_msg("err '%s' does not start with '%s'", f->err, want);
}

/* Parses text (freed here); a failure must leave f->rb untouched. */
static int
parse(struct fixture *f, char *text)
{
	struct runbook	*rb = &f->rb_sentinel;
	int		 r;

	runbook_free(f->rb);
	f->rb = NULL;
	f->err[0] = '\0';
	r = runbook_parse(RB_FILE, text, &rb, f->err, sizeof(f->err));
	free(text);
	if (r == 0) {
		assert_non_null(rb);
		assert_ptr_not_equal(rb, &f->rb_sentinel);
		f->rb = rb;
	} else
		assert_ptr_equal(rb, &f->rb_sentinel);
	return r;
}

static void
parse_ok(struct fixture *f, const struct rb_opts *o)
{
	if (parse(f, rb_text(o)) != 0)
		fail_msg("runbook_parse: %s", f->err);
}

static void
parse_bad(struct fixture *f, const struct rb_opts *o, int line,
    const char *msg)
{
	assert_int_equal(parse(f, rb_text(o)), -EINVAL);
	assert_err(f, line, msg);
}

/*
 * Expands f->rb with given (a reference taken over here); acts from an
 * earlier call are freed first.  A failure must leave the outputs alone.
 */
static int
expand(struct fixture *f, json_t *given, size_t max)
{
	struct act	**v = f->v_sentinel;
	size_t		  n = N_SENTINEL;
	int		  r;

	assert_non_null(given);
	acts_free(f);
	f->err[0] = '\0';
	r = runbook_expand(f->rb, &f->cu, given, max, &v, &n, f->err,
	    sizeof(f->err));
	json_decref(given);
	if (r == 0) {
		f->v = v;
		f->n = n;
	} else {
		assert_ptr_equal(v, f->v_sentinel);
		assert_int_equal(n, N_SENTINEL);
	}
	return r;
}

static void
expand_ok(struct fixture *f, json_t *given, size_t max)
{
	if (expand(f, given, max) != 0)
		fail_msg("runbook_expand: %s", f->err);
}

static void
expand_bad(struct fixture *f, json_t *given, int line, const char *msg)
{
	assert_int_equal(expand(f, given, BIG), -EINVAL);
	assert_err(f, line, msg);
}

/* params of act i must be exactly {"account": account}. */
static void
assert_account(const struct fixture *f, size_t i, const char *account)
{
	json_t	*want = json_pack("{s:s}", "account", account);
	int	 eq;

	assert_true(i < f->n);
	eq = json_equal(f->v[i]->params, want);
	json_decref(want);
	if (!eq) {
		char *got = json_dumps(f->v[i]->params, JSON_COMPACT);

		print_error("act %zu params: %s\n", i, got ? got : "(null)");
		free(got);
		fail_msg("act %zu: params are not {\"account\": \"%.60s\"}",
		    i, account);
	}
}

static void
assert_valid_acts(const struct fixture *f)
{
	size_t	i;

	assert_int_equal(f->n, 2);
	for (i = 0; i < f->n; i++) {
		const struct act *a = f->v[i];

		assert_string_equal(a->verb, "ldap.disable_account");
		assert_ptr_equal(a->target, &f->t);
		assert_string_equal(a->target_name, "corp-ldap");
		assert_ptr_equal(a->customer, &f->cu);
		assert_string_equal(a->step, "lock");
		assert_int_equal(a->approval_required, 1);
		/* The queue fills these. */
		assert_null(a->incident);
		assert_int_equal(a->id, 0);
		assert_int_equal(a->state, ST_PLANNED);
	}
	assert_account(f, 0, "alice");
	assert_account(f, 1, "bob");
}

static void
test_runbook_valid_expands_accounts(void **state)
{
	struct fixture		*f = *state;
	const struct rb_step	*st;
	size_t			 i;

	if (parse(f, xstrdup(shipped_text)) != 0)
		fail_msg("runbook_parse: %s", f->err);
	assert_string_equal(f->rb->file, RB_FILE);
	assert_string_equal(f->rb->name, "disable-accounts");
	assert_string_equal(f->rb->description, "Lock accounts named in an "
	    "incident so nobody can bind as them");
	assert_int_equal(strlen(f->rb->sha), HASH_HEX_LEN);
	for (i = 0; i < HASH_HEX_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", f->rb->sha[i]));
	assert_int_equal(f->rb->nparams, 1);
	assert_string_equal(f->rb->params[0].name, "accounts");
	assert_int_equal(f->rb->params[0].type, RB_LIST);
	assert_int_equal(f->rb->params[0].required, 1);
	assert_null(f->rb->params[0].def);
	assert_int_equal(f->rb->params[0].line, L_SHIPPED_PARAM);
	assert_int_equal(f->rb->nsteps, 1);
	st = &f->rb->steps[0];
	assert_string_equal(st->name, "lock");
	assert_string_equal(st->verb, "ldap.disable_account");
	assert_string_equal(st->target, "corp-ldap");
	assert_string_equal(st->foreach, "${accounts}");
	assert_string_equal(json_string_value(json_object_get(st->args,
	    "account")), "${item}");
	assert_int_equal(st->approval_required, 1);
	assert_int_equal(st->stop_on_fail, 0);
	assert_int_equal(st->line, L_SHIPPED_STEP);

	expand_ok(f, json_pack("{s:s}", "accounts", "alice,bob"), BIG);
	assert_valid_acts(f);
	/* The same list as a JSON array. */
	expand_ok(f, json_pack("{s:[s,s]}", "accounts", "alice", "bob"), BIG);
	assert_valid_acts(f);
}

static void
test_runbook_syntax_error(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .extra = "on_failure = ;" };

	parse_bad(f, &o, L_EXTRA, "syntax error");
	/* Another line, to show the line is the error's, not a constant. */
	assert_int_equal(parse(f, xstrdup("name = \"x\";\n\n"
	    "steps = ( { name = ; } );\n")), -EINVAL);
	assert_err(f, 3, "syntax error");
}

static void
test_runbook_unknown_verb(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .verb = "ldap.nope" };

	parse_bad(f, &o, L_VERB, "unknown verb 'ldap.nope'");
	o.verb = "nope.disable_account";
	parse_bad(f, &o, L_VERB, "unknown verb 'nope.disable_account'");
	o.verb = "ldap.disable_account";
	parse_ok(f, &o);
}

static void
test_runbook_missing_required_param(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { 0 };

	parse_ok(f, &o);
	expand_bad(f, json_object(), L_ACCOUNTS,
	    "missing parameter 'accounts'");
	/* Given the others, still missing. */
	expand_bad(f, json_pack("{s:s,s:s}", "limit", "5", "reason", "x"),
	    L_ACCOUNTS, "missing parameter 'accounts'");
	expand_ok(f, json_pack("{s:s}", "accounts", "alice"), BIG);
	assert_int_equal(f->n, 1);
}

static void
test_runbook_unknown_param_given(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { 0 };

	parse_ok(f, &o);
	/* No line of the file holds it: the file's first line. */
	expand_bad(f, json_pack("{s:s,s:s}", "accounts", "alice",
	    "acount", "bob"), 1, "unknown parameter 'acount'");
	expand_bad(f, json_pack("{s:s,s:s}", "accounts", "alice",
	    "item", "bob"), 1, "unknown parameter 'item'");
}

static void
test_runbook_int_param_checked(void **state)
{
	struct fixture	*f = *state;
	static const char *bad[] = { "abc", "", "12x", "1.5", "0x10",
	    "99999999999999999999" };
	struct rb_opts	 o = { .args = "account = \"${item}\"; "
	    "limit = \"${limit}\";" };
	size_t		 i;

	parse_ok(f, &o);
	expand_bad(f, json_pack("{s:s,s:s}", "accounts", "alice", "limit",
	    "abc"), L_LIMIT, "parameter 'limit' must be an integer");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		expand_bad(f, json_pack("{s:s,s:s}", "accounts", "alice",
		    "limit", bad[i]), L_LIMIT,
		    "parameter 'limit' must be an integer");
	/* A JSON number is not the string the CLI sends. */
	expand_bad(f, json_pack("{s:s,s:i}", "accounts", "alice", "limit",
	    5), L_LIMIT, "parameter 'limit' must be a single value");
	expand_ok(f, json_pack("{s:s,s:s}", "accounts", "alice", "limit",
	    "-12"), BIG);
	assert_int_equal(f->n, 1);
	assert_string_equal(act_param(f->v[0], "limit"), "-12");
}

static void
test_runbook_bool_param_checked(void **state)
{
	struct fixture	*f = *state;
	static const char *bad[] = { "maybe", "", "1", "yes", "TRUE",
	    "true " };
	struct rb_opts	 o = { .args = "account = \"${item}\"; "
	    "force = \"${force}\";" };
	size_t		 i;

	parse_ok(f, &o);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		expand_bad(f, json_pack("{s:s,s:s}", "accounts", "alice",
		    "force", bad[i]), L_FORCE,
		    "parameter 'force' must be true or false");
	expand_ok(f, json_pack("{s:s,s:s}", "accounts", "alice", "force",
	    "true"), BIG);
	assert_string_equal(act_param(f->v[0], "force"), "true");
	expand_ok(f, json_pack("{s:s,s:s}", "accounts", "alice", "force",
	    "false"), BIG);
	assert_string_equal(act_param(f->v[0], "force"), "false");
}

static void
test_runbook_target_not_defined(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .target = "hr-ldap" };

	/* Targets belong to the customer: known only at expand. */
	parse_ok(f, &o);
	expand_bad(f, json_pack("{s:s}", "accounts", "alice"), L_STEP,
	    "step 'lock': customer 'acme' has no target or target group 'hr-ldap'");
	o.target = "corp-ldap ";
	parse_ok(f, &o);
	expand_bad(f, json_pack("{s:s}", "accounts", "alice"), L_STEP,
	    "step 'lock': customer 'acme' has no target or target group 'corp-ldap '");
}

static void
test_runbook_verb_family_mismatch(void **state)
{
	struct fixture	*f = *state;
	static const char *types[] = { "ssh", "lda", "ldapx", "" };
	struct rb_opts	 o = { 0 };
	char		 msg[256];
	size_t		 i;
	int		 n;

	parse_ok(f, &o);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		f->t.type = (char *)(uintptr_t)types[i];
		n = snprintf(msg, sizeof(msg), "step 'lock': target "
		    "'corp-ldap' is of type '%s', verb "
		    "'ldap.disable_account' needs another", types[i]);
		assert_true(n > 0 && (size_t)n < sizeof(msg));
		expand_bad(f, json_pack("{s:s}", "accounts", "alice"),
		    L_STEP, msg);
	}
	f->t.type = "ldap";
	expand_ok(f, json_pack("{s:s}", "accounts", "alice"), BIG);
	assert_int_equal(f->n, 1);

	/* A real verb of another family, where that driver is built in. */
	if (driver_verb("ssh.lock_account", NULL) == NULL)
		return;
	o.verb = "ssh.lock_account";
	parse_ok(f, &o);
	expand_bad(f, json_pack("{s:s}", "accounts", "alice"), L_STEP,
	    "step 'lock': target 'corp-ldap' is of type 'ldap', verb "
	    "'ssh.lock_account' needs another");
}

static void
test_runbook_foreach_empty_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *empty[] = { "", ",", ",,", ",,," };
	struct rb_opts	 o = { 0 };
	size_t		 i;

	parse_ok(f, &o);
	for (i = 0; i < ARRAY_SIZE(empty); i++) {
		expand_bad(f, json_pack("{s:s}", "accounts", empty[i]),
		    L_STEP, "step 'lock': foreach '${accounts}' is empty");
		assert_non_null(strstr(f->err, "never means all"));
	}
	expand_bad(f, json_pack("{s:[]}", "accounts"), L_STEP,
	    "step 'lock': foreach '${accounts}' is empty");
	assert_non_null(strstr(f->err, "never means all"));

	/* An optional list left unset is empty too, never "all". */
	o.accounts = "";
	parse_ok(f, &o);
	expand_bad(f, json_object(), L_STEP,
	    "step 'lock': foreach '${accounts}' is empty");
	assert_non_null(strstr(f->err, "never means all"));

	/* Empty items between commas are dropped, not kept as "". */
	expand_ok(f, json_pack("{s:s}", "accounts", ",alice,,bob,"), BIG);
	assert_int_equal(f->n, 2);
	assert_account(f, 0, "alice");
	assert_account(f, 1, "bob");
}

static void
test_runbook_value_length_cap(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { 0 };
	char		*s = xmalloc(RUNBOOK_VALUE_MAX + 2);

	parse_ok(f, &o);
	memset(s, 'a', RUNBOOK_VALUE_MAX + 1);
	s[RUNBOOK_VALUE_MAX + 1] = '\0';
	expand_bad(f, json_pack("{s:s}", "accounts", s), L_ACCOUNTS,
	    "parameter 'accounts' item 1 is too long (1025 bytes, "
	    "at most 1024)");
	expand_bad(f, json_pack("{s:[s,s]}", "accounts", "bob", s),
	    L_ACCOUNTS, "parameter 'accounts' item 2 is too long");
	expand_bad(f, json_pack("{s:s,s:s}", "accounts", "bob", "reason", s),
	    L_REASON, "parameter 'reason' item 1 is too long");

	s[RUNBOOK_VALUE_MAX] = '\0';
	expand_ok(f, json_pack("{s:s}", "accounts", s), BIG);
	assert_int_equal(f->n, 1);
	assert_account(f, 0, s);
	expand_ok(f, json_pack("{s:[s]}", "accounts", s), BIG);
	assert_int_equal(f->n, 1);
	assert_account(f, 0, s);
	free(s);
}

static void
test_runbook_value_nul_refused(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .args = "account = \"${item}\"; "
	    "reason = \"${reason}\";" };
	json_t		*given;

	parse_ok(f, &o);
	given = json_object();
	(void)json_object_set_new(given, "accounts", json_stringn("a\0b", 3));
	expand_bad(f, given, L_ACCOUNTS,
	    "parameter 'accounts' contains a NUL byte");

	given = json_pack("{s:[s]}", "accounts", "alice");
	(void)json_array_append_new(json_object_get(given, "accounts"),
	    json_stringn("a\0b", 3));
	expand_bad(f, given, L_ACCOUNTS,
	    "parameter 'accounts' item 2 contains a NUL byte");

	given = json_pack("{s:s}", "accounts", "alice");
	(void)json_object_set_new(given, "reason", json_stringn("a\0b", 3));
	expand_bad(f, given, L_REASON,
	    "parameter 'reason' item 1 contains a NUL byte");
}

static void
test_runbook_metachars_pass_verbatim(void **state)
{
	struct fixture	*f = *state;
	static const char *v[] = { "*)(uid=*", "bob,ou=x", "${reason}",
	    "a b\\c\"" };
	struct rb_opts	 o = { 0 };
	size_t		 i;

	parse_ok(f, &o);
	/* No escaping here, and no second round of substitution. */
	expand_ok(f, json_pack("{s:[s,s,s,s]}", "accounts", v[0], v[1], v[2],
	    v[3]), BIG);
	assert_int_equal(f->n, ARRAY_SIZE(v));
	for (i = 0; i < ARRAY_SIZE(v); i++)
		assert_account(f, i, v[i]);
}

static void
test_runbook_foreach_non_list_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *fe[] = { "${reason}", "${limit}", "${nobody}",
	    "${accounts} ", "accounts", "${item}", "" };
	struct rb_opts	 o = { 0 };
	char		 line[64];
	size_t		 i;
	int		 n;

	for (i = 0; i < ARRAY_SIZE(fe); i++) {
		n = snprintf(line, sizeof(line), "foreach = \"%s\";", fe[i]);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		o.foreach = line;
		parse_bad(f, &o, L_FOREACH,
		    "foreach must be \"${name}\" of a list parameter");
	}
	o.foreach = "foreach = \"${accounts}\";";
	parse_ok(f, &o);
}

static void
test_runbook_unknown_reference_refused(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .args = "account = \"${unknown}\";" };

	parse_bad(f, &o, L_ARGS,
	    "arg 'account': unknown reference '${unknown}'");
	o.args = "account = \"${item}\"; note = \"x-${reasons}\";";
	parse_bad(f, &o, L_ARGS, "arg 'note': unknown reference '${reasons}'");
	o.args = "account = \"${item\";";
	parse_bad(f, &o, L_ARGS, "arg 'account': unknown reference '${item'");
	o.args = "account = \"${}\";";
	parse_bad(f, &o, L_ARGS, "arg 'account': unknown reference '${}'");
	/* ${item} only exists inside a foreach. */
	o.foreach = "";
	o.args = "account = \"${item}\";";
	parse_bad(f, &o, L_ARGS, "arg 'account': unknown reference '${item}'");
}

static void
test_runbook_max_actions_cap(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { 0 };

	parse_ok(f, &o);
	assert_int_equal(expand(f, json_pack("{s:s}", "accounts",
	    "alice,bob,carol"), 2), -EINVAL);
	assert_err(f, L_STEP, "run would exceed 2 actions");
	assert_int_equal(expand(f, json_pack("{s:[s,s,s]}", "accounts",
	    "alice", "bob", "carol"), 2), -EINVAL);
	assert_err(f, L_STEP, "run would exceed 2 actions");
	/* Exactly at the cap is allowed. */
	expand_ok(f, json_pack("{s:s}", "accounts", "alice,bob,carol"), 3);
	assert_int_equal(f->n, 3);
	assert_account(f, 2, "carol");
	expand_ok(f, json_pack("{s:s}", "accounts", "alice,bob"), 2);
	assert_int_equal(f->n, 2);
}

static void
test_runbook_approval_none(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .extra = "approval = \"none\";" };

	parse_ok(f, &o);
	assert_int_equal(f->rb->steps[0].approval_required, 0);
	expand_ok(f, json_pack("{s:s}", "accounts", "alice,bob"), BIG);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->v[0]->approval_required, 0);
	assert_int_equal(f->v[1]->approval_required, 0);

	/* Left out, approval is required. */
	o.extra = "";
	parse_ok(f, &o);
	assert_int_equal(f->rb->steps[0].approval_required, 1);
	expand_ok(f, json_pack("{s:s}", "accounts", "alice"), BIG);
	assert_int_equal(f->v[0]->approval_required, 1);

	o.extra = "approval = \"None\";";
	parse_bad(f, &o, L_STEP, "approval must be \"required\" or \"none\"");
	o.extra = "approval = \"\";";
	parse_bad(f, &o, L_STEP, "approval must be \"required\" or \"none\"");
}

static char *
two_steps(const char *first, const char *then)
{
	return xasprintf(
	    /* 1 */ "params = ( { name = \"accounts\"; type = \"list\"; } );\n"
	    /* 2 */ "steps = (\n"
	    /* 3 */ "\t{ name = \"one\"; verb = \"%s\"; target = \"corp-ldap\";\n"
	    /* 4 */ "\t  foreach = \"${accounts}\"; args = { account = "
		    "\"${item}\"; }; },\n"
	    /* 5 */ "\t{ name = \"two\"; verb = \"%s\"; target = \"corp-ldap\";\n"
	    /* 6 */ "\t  foreach = \"${accounts}\"; args = { account = "
		    "\"${item}\"; }; }\n"
	    /* 7 */ ");\n", first, then);
}

/*
 * On OpenLDAP a password change removes the ppolicy lock: a runbook that
 * locks and then resets is refused before anything is queued; reset
 * first, or the AD flavour, is fine.
 */
static void
test_runbook_openldap_reset_before_lock(void **state)
{
	struct fixture	*f = *state;

	(void)json_object_set_new(f->t.opts, "flavour",
	    json_string("openldap"));
	assert_int_equal(parse(f, two_steps("ldap.disable_account",
	    "ldap.reset_password")), 0);
	expand_bad(f, json_pack("{s:s}", "accounts", "alice"), 5,
	    "step 'two' after step 'one' on target 'corp-ldap': on OpenLDAP "
	    "a password change removes the lock, so ldap.reset_password "
	    "must come before ldap.disable_account");
	assert_int_equal(parse(f, two_steps("ldap.reset_password",
	    "ldap.disable_account")), 0);
	expand_ok(f, json_pack("{s:s}", "accounts", "alice"), BIG);
	assert_int_equal(f->n, 2);
	(void)json_object_set_new(f->t.opts, "flavour", json_string("ad"));
	assert_int_equal(parse(f, two_steps("ldap.disable_account",
	    "ldap.reset_password")), 0);
	expand_ok(f, json_pack("{s:s}", "accounts", "alice"), BIG);
	assert_int_equal(f->n, 2);
}

static void
test_runbook_on_failure_checked(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = { .extra = "on_failure = \"ignore\";" };

	/* The step's line, not the setting's (as for approval). */
	parse_bad(f, &o, L_STEP, "on_failure must be \"stop\" or \"continue\"");
	o.extra = "on_failure = \"\";";
	parse_bad(f, &o, L_STEP, "on_failure must be \"stop\" or \"continue\"");
	o.extra = "on_failure = true;";
	parse_bad(f, &o, L_STEP, "step 'lock': foreach, approval and "
	    "on_failure must be strings");

	o.extra = "on_failure = \"continue\";";
	parse_ok(f, &o);
	assert_int_equal(f->rb->steps[0].stop_on_fail, 0);
	o.extra = "on_failure = \"stop\";";
	parse_ok(f, &o);
	assert_int_equal(f->rb->steps[0].stop_on_fail, 1);
	o.extra = "";
	parse_ok(f, &o);
	assert_int_equal(f->rb->steps[0].stop_on_fail, 1);
}

static void
test_runbook_defaults_used(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = {
		.accounts = "default = \"carol,dave\";",
		.args = "account = \"${item}\"; note = \"${reason}\";",
	};

	parse_ok(f, &o);
	assert_string_equal(f->rb->params[0].def, "carol,dave");
	assert_int_equal(f->rb->params[0].required, 0);
	assert_string_equal(f->rb->params[3].def, "incident");

	expand_ok(f, json_object(), BIG);
	assert_int_equal(f->n, 2);
	assert_string_equal(act_param(f->v[0], "account"), "carol");
	assert_string_equal(act_param(f->v[1], "account"), "dave");
	assert_string_equal(act_param(f->v[0], "note"), "incident");
	assert_string_equal(act_param(f->v[1], "note"), "incident");

	/* A given value wins over the default. */
	expand_ok(f, json_pack("{s:s,s:s}", "accounts", "erin",
	    "reason", "INC-7"), BIG);
	assert_int_equal(f->n, 1);
	assert_string_equal(act_param(f->v[0], "account"), "erin");
	assert_string_equal(act_param(f->v[0], "note"), "INC-7");
}

static void
test_runbook_substitution(void **state)
{
	struct fixture	*f = *state;
	struct rb_opts	 o = {
		.args = "account = \"pre-${item}-post\"; "
		    "note = \"${reason}/${item}/${limit}$\";",
	};

	parse_ok(f, &o);
	expand_ok(f, json_pack("{s:s,s:s}", "accounts", "alice,bob",
	    "reason", "r"), BIG);
	assert_int_equal(f->n, 2);
	assert_string_equal(act_param(f->v[0], "account"), "pre-alice-post");
	assert_string_equal(act_param(f->v[1], "account"), "pre-bob-post");
	/* An optional parameter left unset expands to nothing. */
	assert_string_equal(act_param(f->v[0], "note"), "r/alice/$");
	assert_string_equal(act_param(f->v[1], "note"), "r/bob/$");
	assert_int_equal(json_object_size(f->v[0]->params), 2);

	expand_ok(f, json_pack("{s:s,s:s}", "accounts", "carol",
	    "limit", "7"), BIG);
	assert_int_equal(f->n, 1);
	assert_string_equal(act_param(f->v[0], "account"), "pre-carol-post");
	assert_string_equal(act_param(f->v[0], "note"),
	    "incident/carol/7$");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_runbook_valid_expands_accounts),
		T(test_runbook_syntax_error),
		T(test_runbook_unknown_verb),
		T(test_runbook_missing_required_param),
		T(test_runbook_unknown_param_given),
		T(test_runbook_int_param_checked),
		T(test_runbook_bool_param_checked),
		T(test_runbook_target_not_defined),
		T(test_runbook_verb_family_mismatch),
		T(test_runbook_foreach_empty_refused),
		T(test_runbook_value_length_cap),
		T(test_runbook_value_nul_refused),
		T(test_runbook_metachars_pass_verbatim),
		T(test_runbook_foreach_non_list_refused),
		T(test_runbook_unknown_reference_refused),
		T(test_runbook_max_actions_cap),
		T(test_runbook_approval_none),
		T(test_runbook_openldap_reset_before_lock),
		T(test_runbook_on_failure_checked),
		T(test_runbook_defaults_used),
		T(test_runbook_substitution),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
