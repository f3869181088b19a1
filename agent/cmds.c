/*
 * cmds: the one table of subcommands, { name, fn, usage, summary }, that
 * main dispatches on and --help prints.  Apart from main.c so that tests
 * link the real table.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "cli.h"

static int cmd_agent(int argc, char **argv) { return agent_main(argc, argv); }

const struct cmd cmds[] = {
	{ "agent", cmd_agent, "agent -c FILE [-d] [-v]",
	    "run the daemon that owns config, credentials and the store" },
	{ "check-config", cmd_check_config, "check-config FILE",
	    "validate a config file without starting anything" },
	{ "incident", cmd_incident,
	    "incident open --customer C --title T [--aware-at TIME]\n"
	    "       cordon incident list|due [--hours N] [--json]\n"
	    "       cordon incident show|close ID [--json]\n"
	    "       cordon incident update ID --set FIELD=VALUE...\n"
	    "       cordon incident report ID [--format md|html|json] "
	    "[-o FILE]\n"
	    "       cordon incident fields",
	    "the breach register: incidents, their record and deadlines" },
	{ "register", cmd_register, "register export [--format csv|json] "
	    "[--customer C] [-o FILE]",
	    "the breach register, one row per incident (RFC 4180 CSV)" },
	{ "plan", cmd_plan, "plan RUNBOOK --incident ID [--set K=V]... "
	    "[--set-file K=FILE]... [--json]",
	    "show what a runbook would change (read-only)" },
	{ "run", cmd_run, "run RUNBOOK --incident ID [--set K=V]... "
	    "[--set-file K=FILE]... [--wait] [--timeout S] [--json]",
	    "queue a runbook's actions; unapproved steps wait for a lead" },
	{ "wait", cmd_wait, "wait RUN [--timeout S]",
	    "follow a run until every action is settled" },
	{ "queue", cmd_queue, "queue [--incident ID] [--run N] [--all] "
	    "[--json]", "list actions not yet settled (--all: every one)" },
	{ "show", cmd_show, "show ACTION [--json]",
	    "show exactly what an action changes, its approvals and record" },
	{ "approve", cmd_approve, "approve ACTION | --all-for INCIDENT",
	    "approve queued actions (a lead, never the requester)" },
	{ "reject", cmd_reject, "reject ACTION --reason TEXT",
	    "reject a queued action" },
	{ "undo", cmd_undo, "undo ACTION",
	    "queue the undo of a succeeded action (same approval policy)" },
	{ "journal", cmd_journal,
	    "journal show [--incident ID] [--limit N] [--json]\n"
	    "       cordon journal export [-o FILE | --bundle DIR "
	    "[--customer C]]\n"
	    "       cordon journal export --incident ID DIR\n"
	    "       cordon journal verify [FILE | DIR [--key-fp SHA256:...] "
	    "[--known-checkpoint FILE]]",
	    "read, export and verify the hash-chained journal" },
	{ "secret", cmd_secret, "secret show ACTION [LABEL]\n"
	    "       cordon secret seal ACTION [LABEL] --to NAME [-o FILE]",
	    "print a secret an action put in the vault, or seal it to a "
	    "recipient (journaled)" },
	{ "retry", cmd_retry, "retry RUN --failed [--wait] [--timeout S] "
	    "[--json]",
	    "queue again the failed actions of a run, freshly checked" },
	{ "hosts", cmd_hosts,
	    "hosts show TARGET [--customer C] [--json]\n"
	    "       cordon hosts scan [--customer C] [--json]\n"
	    "       cordon hosts trust TARGET --fingerprint SHA256:... "
	    "[--replace] [--customer C]",
	    "SSH host keys: what a server presents, and pinning it (lead)" },
	{ "keys", cmd_keys, "keys show [--customer C] [--json]",
	    "each customer's checkpoint signing key and its fingerprint, "
	    "for --key-fp" },
	{ NULL, NULL, NULL, NULL },
};

const struct cmd *
cmd_find(const char *name)
{
	const struct cmd	*c;

	for (c = cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
cmd_usage(const struct cmd *c)
{
	(void)fprintf(stderr, "usage: cordon %s\n", c->usage);
}

