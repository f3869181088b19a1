/*
 * ssh_win: Windows OpenSSH targets, an ssh target with os = "windows".
 *
 * Windows OpenSSH starts commands through cmd.exe by default, whose
 * quoting rules differ from every POSIX shell.  So no runbook value ever
 * meets cmd.exe: each remote command is exactly
 *
 *   powershell -NoProfile -NonInteractive -EncodedCommand <base64>
 *
 * where <base64> is the UTF-16LE text of a fixed script, and the only
 * characters cmd.exe sees are letters, digits, '-', ' ', '+', '/', '='.
 * Inside the script every runbook value is a PowerShell single-quoted
 * literal (ssh_win_quote): ' and the four Unicode quotes PowerShell also
 * takes as single quotes (U+2018, U+2019, U+201A, U+201B) are doubled,
 * nothing else is special there.  NUL and invalid UTF-8 are refused.
 * Secrets travel only on stdin: the new password is read character by
 * character into a SecureString, never into a string or the command line.
 *
 * Verbs (same names, parameters and undo rules as the Unix ones):
 *   rotate_password         Set-LocalUser -Password (stdin); verify: the
 *                           PasswordLastSet time moved.  Irreversible.
 *   lock_account            Disable-LocalUser; undo: Enable-LocalUser if
 *                           check saw it enabled.  Verify reads Enabled.
 *   rotate_authorized_keys  for an administrator: the shared
 *                           C:\ProgramData\ssh\administrators_authorized_keys,
 *                           make-before-break as on Unix, written to a
 *                           temporary file that gets the ACL
 *                           (icacls /inheritance:r, Administrators and
 *                           SYSTEM full control, by SID so any Windows
 *                           language works) before it replaces the file;
 *                           verify reads the bytes and the ACL back.
 *   end_sessions            not available on Windows (fails the action).
 *
 * No Windows host can run in cordon's tests: what is tested is the exact
 * text of every command and script, and the quoting of hostile values.
 */
#ifndef CORDON_SSH_WIN_H
#define CORDON_SSH_WIN_H

#include <stddef.h>

#include "../agent/driver.h"
#include "../agent/util.h"

/* cmd.exe's command line limit is 8191 characters. */
#define SSH_WIN_CMD_MAX		8000
#define SSH_WIN_SCRIPT_MAX	2800		/* UTF-16 units */
#define SSH_WIN_ACCOUNT_MAX	20		/* a SAM account name */
#define SSH_WIN_AK_PATH \
	"C:\\ProgramData\\ssh\\administrators_authorized_keys"

/* The verbs of the ssh driver, for Unix and Windows targets alike. */
extern const struct verb	ssh_os_verbs[];

/*
 * The target's os setting: 1 for "windows", 0 for "linux" or none, else
 * -EINVAL with err set.
 */
int	ssh_win_os(const struct target *, char *err, size_t errlen);
/* Validates a Windows target's settings; err has no prefix. */
int	ssh_win_target_check(const struct target *, char *err, size_t errlen);

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
