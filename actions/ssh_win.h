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
#include "ssh_win_ps.h"

/* The verbs of the ssh driver, for Unix and Windows targets alike. */
extern const struct verb	ssh_os_verbs[];

/*
 * The target's os setting: 1 for "windows", 0 for "linux" or none, else
 * -EINVAL with err set.
 */
int	ssh_win_os(const struct target *, char *err, size_t errlen);
/* Validates a Windows target's settings; err has no prefix. */
int	ssh_win_target_check(const struct target *, char *err, size_t errlen);

#endif
