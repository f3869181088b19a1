/*
 * main: `cordon COMMAND ...`, git-style.  The table of subcommands is in
 * cmds.c; help and version work without an agent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cli.h"
#include "log.h"

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
