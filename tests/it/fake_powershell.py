#!/usr/bin/python3
"""fake_powershell: stands in for a Windows OpenSSH host in it_sshwin.

No Windows host can run in cordon's tests.  This is the login shell of a
test user on a real sshd, so cordon's ssh driver talks to it over real SSH
exactly as it would to Windows OpenSSH: sshd runs `SHELL -c COMMAND`.

It accepts only the one command form cordon may send,
    powershell -NoProfile -NonInteractive -EncodedCommand <base64>
(anything else exits 127, as a missing program would), decodes the script
from UTF-16LE, appends it to STATE/scripts.log, and answers the four
script kinds cordon sends (read an account, set its password from stdin,
disable it, enable it) from STATE/accounts.json the way PowerShell would,
with CRLF line ends.  administrators_authorized_keys is the real
~/.ssh/authorized_keys of the Linux user ADMIN_FILE_OWNER (written through
sudo -u, so a key cordon puts there really logs in), its ACL a record in
STATE/acl.json that only a script with cordon's icacls lines makes exact.  Nothing in the script is executed: the account name
is read back with PowerShell's single-quoted string rule, so a quoting
mistake in cordon shows up as a wrong or missing account.  The password
read from stdin is kept in STATE/password-<n> (0600) for the test to
compare with cordon's vault.
"""
import base64
import datetime
import json
import os
import re
import subprocess
import sys

STATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "winstate")
PREFIX = "powershell -NoProfile -NonInteractive -EncodedCommand "
PRE = ("$ErrorActionPreference = 'Stop'\n"
       "$ProgressPreference = 'SilentlyContinue'\n"
       "try {\n")
POST = ("} catch {\n"
        "\t[Console]::Error.WriteLine($_.Exception.Message)\n"
        "\texit 1\n"
        "}\n")
SQ = "'\u2018\u2019\u201a\u201b"
ADMIN_FILE_OWNER = "cordon-t-wadm"
ADMIN_FILE = "/home/%s/.ssh/authorized_keys" % ADMIN_FILE_OWNER
ACL_EXACT = {"protected": True,
             "aces": ["S-1-5-32-544 Allow", "S-1-5-18 Allow"]}
ICACLS = ("& icacls.exe $t /inheritance:r /grant '*S-1-5-32-544:F' "
          "/grant '*S-1-5-18:F' | Out-Null\n")


def die(code, msg):
    sys.stderr.write(msg + "\r\n")
    sys.exit(code)


def literal(s, i):
    """PowerShell's single-quoted string at s[i]: (value, end index)."""
    if s[i] not in SQ:
        die(98, "fake_powershell: no literal")
    i += 1
    out = []
    while True:
        if i >= len(s):
            die(98, "fake_powershell: unterminated literal")
        c = s[i]
        if c in SQ:
            if i + 1 < len(s) and s[i + 1] in SQ:
                i += 1
                c = s[i]
            else:
                return "".join(out), i + 1
        out.append(c)
        i += 1


def as_owner(argv, data=None):
    """Runs argv as ADMIN_FILE_OWNER; its stdout."""
    r = subprocess.run(["sudo", "-n", "-u", ADMIN_FILE_OWNER] + argv,
                       input=data, capture_output=True, timeout=20)
    if r.returncode != 0:
        die(1, "fake_powershell: %s failed" % argv[0])
    return r.stdout


def acl_load():
    try:
        with open(os.path.join(STATE, "acl.json"), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return ACL_EXACT


def akeys_read(u):
    out = ["admin=%s" % ("True" if u.get("admin") else "False")]
    if subprocess.run(["sudo", "-n", "-u", ADMIN_FILE_OWNER, "test", "-f",
                       ADMIN_FILE]).returncode != 0:
        return out + ["exists=False"]
    data = as_owner(["cat", "--", ADMIN_FILE])
    acl = acl_load()
    return out + ["exists=True",
                  "b64=" + base64.b64encode(data).decode(),
                  "protected=%s" % acl["protected"]] + \
        ["ace=" + a for a in acl["aces"]]


def akeys_write(script):
    if ICACLS not in script or "/remove ('*' + $s)" not in script:
        die(94, "fake_powershell: a write without cordon's ACL")
    data = base64.b64decode(sys.stdin.read().strip(), validate=True)
    as_owner(["sh", "-c", 'umask 077; cat >"$1.tmp" && mv -f "$1.tmp" '
              '"$1"', "sh", ADMIN_FILE], data)
    with open(os.path.join(STATE, "acl.json"), "w", encoding="utf-8") as f:
        json.dump(ACL_EXACT, f)


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "-c":
        die(127, "fake_powershell: not run as SHELL -c COMMAND")
    cmd = sys.argv[2]
    if not cmd.startswith(PREFIX) or \
            not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", cmd[len(PREFIX):]):
        die(127, "'%s' is not recognized as an internal or external "
            "command" % cmd.split(" ")[0])
    script = base64.b64decode(cmd[len(PREFIX):], validate=True) \
        .decode("utf-16-le")
    with open(os.path.join(STATE, "scripts.log"), "a",
              encoding="utf-8") as f:
        f.write(script + "\f\n")
    if not script.startswith(PRE) or not script.endswith(POST):
        die(97, "fake_powershell: script without cordon's frame")
    path = os.path.join(STATE, "accounts.json")
    with open(path, encoding="utf-8") as f:
        accounts = json.load(f)
    u = None
    m = script.find("\t$n = ")
    if m >= 0:
        name, end = literal(script, m + 6)
        if script[end] != "\n":
            die(95, "fake_powershell: literal does not end the statement")
        # Windows compares account names without case.
        key = next((k for k in accounts if k.lower() == name.lower()),
                   None)
        if key is None:
            die(2, "no such local account")
        u = accounts[key]
    if "[IO.File]::WriteAllBytes($t, $b)" in script:
        akeys_write(script)
        sys.exit(0)
    if "\tif (Test-Path -LiteralPath $f) { Remove-Item -LiteralPath $f " \
            "-Force }\n" in script:
        as_owner(["rm", "-f", "--", ADMIN_FILE])
        sys.exit(0)
    if u is None:
        die(96, "fake_powershell: no account in the script")
    out = []
    if "\tSet-LocalUser -InputObject $u -Password $p\n" in script:
        pw = sys.stdin.readline()
        pw = pw[:-1] if pw.endswith("\n") else pw
        if not pw:
            die(3, "no password on stdin")
        n = len([x for x in os.listdir(STATE) if x.startswith("password-")])
        fd = os.open(os.path.join(STATE, "password-%d" % n),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, pw.encode())
        os.close(fd)
        u["pwlastset"] = datetime.datetime.now(datetime.timezone.utc) \
            .strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    elif "\tDisable-LocalUser -InputObject $u\n" in script:
        u["enabled"] = False
    elif "\tEnable-LocalUser -InputObject $u\n" in script:
        u["enabled"] = True
    elif "\t'admin=' + ($m.Count -eq 1)\n" in script:
        out = akeys_read(u)
    elif "\t'enabled=' + $u.Enabled\n" in script:
        out = ["enabled=%s" % ("True" if u["enabled"] else "False"),
               "sid=" + u["sid"], "pwlastset=" + u["pwlastset"]]
    else:
        die(99, "fake_powershell: a script it does not know")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(accounts, f, ensure_ascii=False)
    os.replace(path + ".tmp", path)
    sys.stdout.write("".join(line + "\r\n" for line in out))


main()
