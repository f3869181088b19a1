/*
 * ssh_win_ps: what cordon sends to a Windows OpenSSH host, as text.
 *
 * Each remote command is exactly
 *   powershell -NoProfile -NonInteractive -EncodedCommand <base64>
 * with <base64> the UTF-16LE text of one of the fixed scripts below, so
 * cmd.exe (Windows OpenSSH's default shell) sees only letters, digits,
 * '-', ' ', '+', '/' and '='.  The one runbook value a script holds, the
 * account name, is a PowerShell single-quoted literal (ssh_win_quote).
 *
 * Pure functions; returned strings are the caller's to free.  Limits:
 * SSH_WIN_SCRIPT_MAX UTF-16 units, SSH_WIN_CMD_MAX bytes of command line.
 */
#ifndef CORDON_SSH_WIN_PS_H
#define CORDON_SSH_WIN_PS_H

#include <stddef.h>

#include "../agent/util.h"

/* cmd.exe's command line limit is 8191 characters. */
#define SSH_WIN_CMD_MAX		8000
#define SSH_WIN_SCRIPT_MAX	2800		/* UTF-16 units */
#define SSH_WIN_ACCOUNT_MAX	20		/* a SAM account name */
#define SSH_WIN_AK_PATH \
	"C:\\ProgramData\\ssh\\administrators_authorized_keys"

/*
 * A local account name Windows accepts: 1 to 20 characters, no control
 * characters, none of " / \ [ ] : ; | = , + * ? < >, not only dots and
 * spaces, valid UTF-8.  Other characters (', $, `, spaces, Unicode
 * quotes) are allowed and must go through ssh_win_quote.
 */
int	ssh_win_account_ok(const char *);

/* Appends s as a PowerShell single-quoted literal; -EINVAL: NUL/UTF-8. */
int	ssh_win_quote(struct buf *, const char *s, size_t len) WARN_UNUSED;

/*
 * The scripts, as UTF-8 text (caller frees *ret).  acct is quoted with
 * ssh_win_quote; -EINVAL if it cannot be.
 *   user_read:     prints enabled=, sid=, pwlastset= lines; exit 2 if no
 *                  such account.
 *   set_password:  reads one line from stdin into a SecureString and
 *                  sets it.
 *   set_enabled:   Enable-LocalUser (enable) or Disable-LocalUser.
 *   ak_read:       admin= (acct in Administrators), exists=, b64= (the
 *                  file), protected= and one ace=SID TYPE per rule.
 *   ak_write:      stdin is the base64 of the new file: temp file, ACL,
 *                  replace, ACL again.
 *   ak_remove:     deletes the file.
 */
int	ssh_win_script_user_read(const char *acct, char **ret) WARN_UNUSED;
int	ssh_win_script_set_password(const char *acct, char **ret) WARN_UNUSED;
int	ssh_win_script_set_enabled(const char *acct, int enable, char **ret)
	    WARN_UNUSED;
int	ssh_win_script_ak_read(const char *acct, char **ret) WARN_UNUSED;
int	ssh_win_script_ak_write(char **ret) WARN_UNUSED;
int	ssh_win_script_ak_remove(char **ret) WARN_UNUSED;

/*
 * The command line for script: "powershell -NoProfile -NonInteractive
 * -EncodedCommand " + base64(UTF-16LE(script)).  -EINVAL for invalid
 * UTF-8 or NUL, -E2BIG past SSH_WIN_CMD_MAX.
 */
int	ssh_win_cmdline(const char *script, char **ret) WARN_UNUSED;

#endif
