/*
 * main: `cordon COMMAND ...`, git-style.  One table of subcommands; help
 * and version work without an agent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cli.h"
#include "log.h"

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
	    "       cordon incident fields",
	    "the breach register: incidents, their record and deadlines" },
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
	    "       cordon journal export [-o FILE]\n"
	    "       cordon journal verify [FILE]",
	    "read, export and verify the hash-chained journal" },
	{ "secret", cmd_secret, "secret show ACTION [LABEL]",
	    "print a secret an action put in the vault (journaled)" },
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

static void
help(FILE *f)
{
	const struct cmd	*c;

	(void)fprintf(f, "usage: cordon [--socket PATH] COMMAND [ARGS]\n"
	    "       cordon COMMAND --help | cordon --version\n\n"
	    "commands:\n");
	for (c = cmds; c->name; c++)
		(void)fprintf(f, "  %-13s %s\n", c->name, c->summary);
	(void)fprintf(f, "\nThe socket is --socket, $CORDON_SOCKET, or %s.\n"
	    "Exit codes: 0 ok, 1 an action failed, 2 usage or config "
	    "error,\n3 refused by policy, 4 agent unreachable.\n",
	    CORDON_DEFAULT_SOCKET);
}

int
main(int argc, char **argv)
{
	const struct cmd	*c;
	int			 i;

	log_init("cordon", 0);
	cli_socket = getenv("CORDON_SOCKET");
	if (cli_socket == NULL || *cli_socket == '\0')
		cli_socket = CORDON_DEFAULT_SOCKET;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			help(stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			(void)printf("cordon %s\n", CORDON_VERSION);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			cli_socket = argv[++i];
			continue;
		}
		(void)fprintf(stderr, "cordon: unknown option '%s'\n",
		    argv[i]);
		return EXIT_USAGE;
	}
	if (i == argc) {
		help(stderr);
		return EXIT_USAGE;
	}
	if ((c = cmd_find(argv[i])) == NULL) {
		(void)fprintf(stderr, "cordon: '%s' is not a command; see "
		    "'cordon --help'\n", argv[i]);
		return EXIT_USAGE;
	}
	if (argc - i > 1 && (strcmp(argv[i + 1], "--help") == 0 ||
	    strcmp(argv[i + 1], "-h") == 0)) {
		(void)printf("usage: cordon %s\n\n%s\n", c->usage, c->summary);
		return EXIT_OK;
	}
	return c->fn(argc - i, argv + i);
}
