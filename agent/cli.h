/*
 * cli: the client side of every subcommand.  Clients parse, send, print;
 * all logic and all credentials stay in the agent.  Output is for people
 * by default (tables, a live progress line on a terminal) and for scripts
 * with --json.  Values from targets are printed with control characters
 * escaped, so a hostile account name cannot rewrite the operator's screen.
 */
#ifndef CORDON_CLI_H
#define CORDON_CLI_H

#define CORDON_VERSION "0.1.0"
#define CORDON_DEFAULT_SOCKET "/run/cordon/cordon.sock"

struct cmd {
	const char	*name;
	int		(*fn)(int argc, char **argv);
	const char	*usage;
	const char	*summary;
};

int	cmd_incident(int, char **);
int	cmd_plan(int, char **);
int	cmd_run(int, char **);
int	cmd_wait(int, char **);
int	cmd_queue(int, char **);
int	cmd_show(int, char **);
int	cmd_approve(int, char **);
int	cmd_reject(int, char **);
int	cmd_undo(int, char **);
int	cmd_journal(int, char **);
int	cmd_check_config(int, char **);
int	cmd_secret(int, char **);
int	cmd_secret_seal(int, char **);
int	cmd_register(int, char **);
int	cmd_hosts(int, char **);
int	cmd_retry(int, char **);
int	cmd_keys(int, char **);

extern const struct cmd	cmds[];
extern const char	*cli_socket;
void	cmd_usage(const struct cmd *);
const struct cmd *cmd_find(const char *);

#endif
