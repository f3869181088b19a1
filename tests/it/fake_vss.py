#!/usr/bin/python3
"""fake_vss: stands in for a Windows host with shadow copies in it_snapvss.

No Windows host can run in cordon's tests.  This is the login shell of a
test user on a real sshd, so cordon's snapshot driver (backend "vss")
talks to it over real SSH exactly as to Windows OpenSSH: sshd runs
`SHELL -c COMMAND`.

It accepts only the one command form cordon sends,
    powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass
        -EncodedCommand <base64>
(anything else exits 127, as a missing program would), decodes the script
from UTF-16LE, appends it to STATE/scripts.log and answers only the six
script kinds of cordon's vss back end (list, inspect, probe, manifest,
robocopy restore, remove), each recognised by its fixed statements.
Nothing in a script is executed: every value is read back from its
`$name = '...'` line with PowerShell's single-quoted string rule, so a
quoting mistake in cordon shows up as a wrong path.

The Windows file system is a real directory tree: drive C: is STATE/vol,
\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopyN is STATE/shadow/N,
and a symbolic link stands for a junction (a reparse point).  So the
bytes robocopy copies and Get-FileHash hashes are real.  The shadow copy
list (Win32_ShadowCopy) and the drive's free space come from
STATE/vss.json.  If STATE/tamper exists, robocopy overwrites the start of
every file it copies with its content, keeping the size (a copy gone
wrong that only the SHA-256 shows, for verify to catch).  Output
ends lines with CRLF, as PowerShell does.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import sys

STATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vssstate")
PREFIX = ("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy "
          "Bypass -EncodedCommand ")
HEAD = "$ErrorActionPreference = 'Stop'\n"
UTF8 = "[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false\n"
SQ = "'\u2018\u2019\u201a\u201b"
DEV = "\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy"


def die(code, msg):
    sys.stderr.write(msg + "\r\n")
    sys.exit(code)


def out(lines):
    sys.stdout.write("".join(x + "\r\n" for x in lines))


def literal(s, i):
    """PowerShell's single-quoted string at s[i]: (value, end index)."""
    if s[i] not in SQ:
        die(98, "fake_vss: no literal")
    i += 1
    val = []
    while True:
        if i >= len(s):
            die(98, "fake_vss: unterminated literal")
        c = s[i]
        if c in SQ:
            if i + 1 < len(s) and s[i + 1] in SQ:
                i += 1
                c = s[i]
            else:
                return "".join(val), i + 1
        val.append(c)
        i += 1


def variables(script):
    """The `$name = 'literal'` lines after the head, as a dict."""
    v = {}
    i = 0
    for h in (HEAD, UTF8):
        if script.startswith(h, i):
            i += len(h)
    while True:
        m = re.match("\\$([a-z]+) = (?=[" + SQ + "])", script[i:])
        if not m:
            return v, script[i:]
        val, end = literal(script, i + m.end())
        if script[end] != "\n":
            die(95, "fake_vss: literal does not end the statement")
        v[m.group(1)] = val
        i = end + 1


def host_path(p):
    """The Linux path standing for Windows path p."""
    if p.startswith(DEV):
        rest = p[len(DEV):]
        m = re.match(r"([0-9]+)(.*)$", rest, re.S)
        if not m:
            die(91, "fake_vss: bad device path")
        base, rest = os.path.join(STATE, "shadow", m.group(1)), m.group(2)
    elif re.match(r"[Cc]:", p):
        base, rest = os.path.join(STATE, "vol"), p[2:]
    else:
        die(91, "fake_vss: path '%s' on no volume this host has" % p)
    parts = [x for x in re.split(r"[\\/]", rest) if x != ""]
    for x in parts:
        # Windows would resolve these; cordon must never send them.
        if x in (".", "..") or ":" in x or "*" in x or "?" in x:
            die(90, "fake_vss: path component '%s' cordon must not send"
                % x)
    return os.path.join(base, *parts) if parts else base


def exists(p):
    return os.path.lexists(p)


def walk_to(base, below, last_may_miss, missing_code, missing_msg):
    """Wk: down the components of below from base (Windows paths)."""
    parts = below.split("\\")
    c = base
    for i, n in enumerate(parts):
        c = c + "\\" + n
        h = host_path(c)
        if not exists(h):
            if last_may_miss and i == len(parts) - 1:
                return
            die(missing_code, missing_msg)
        if os.path.islink(h):
            die(5, "path goes through a junction or symbolic link")


def sha(h):
    with open(h, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest().upper()


def tree(h, with_hash):
    """W: the manifest lines of host path h."""
    def f(p, name):
        x = sha(p) if with_hash else "-"
        return "f|%d|%s|%s" % (os.path.getsize(p), x, name)

    if os.path.isfile(h) and not os.path.islink(h):
        return [f(h, os.path.basename(h))]
    res = []
    q = [""]
    while q:
        r = q.pop(0)
        for name in os.listdir(h + r.replace("\\", "/")):
            n = r + "\\" + name
            p = h + n.replace("\\", "/")
            if os.path.islink(p):
                res.append("o|" + n[1:])
            elif os.path.isdir(p):
                res.append("d|" + n[1:])
                q.append(n)
            else:
                res.append(f(p, n[1:]))
    return res


def state():
    with open(os.path.join(STATE, "vss.json"), encoding="utf-8") as f:
        return json.load(f)


def do_list(v):
    st = state()
    if v.get("root", "").lower() != st["volume"].lower():
        die(4, "no such volume")
    lines = []
    for c in st["copies"]:
        t = datetime.datetime.fromtimestamp(c["at"], datetime.timezone.utc)
        lines.append("%s|%s|%s" % (c["id"], t.strftime("%Y-%m-%d %H:%M:%SZ"),
                                   c["dev"]))
    out(lines)


def do_inspect(v):
    if not os.path.isdir(host_path(v["root"])) or \
            os.path.islink(host_path(v["root"])):
        die(3, "root does not exist")
    walk_to(v["drv"], v["below"], True, 4,
            "a folder on the way does not exist")
    live = v["drv"] + "\\" + v["below"]
    out(["exists=%d" % exists(host_path(live)),
         "avail=%d" % state()["free"],
         "staged=%d" % exists(host_path(live + v["sfx"]))])


def do_probe(v):
    walk_to(v["dev"], v["below"], False, 4, "not in the snapshot")
    h = host_path(v["dev"] + "\\" + v["below"])
    t = tree(h, False)
    b = sum(int(x.split("|")[1]) for x in t if x[0] == "f")
    out(["dir=%d" % (os.path.isdir(h) and not os.path.islink(h)),
         "bytes=%d" % b, "links=%d" % sum(x[0] == "o" for x in t)])


def do_manifest(v):
    h = host_path(v["p"])
    if not exists(h):
        die(4, "not a file or directory")
    if os.path.islink(h):
        die(5, "is a junction or symbolic link")
    out(tree(h, True))


def do_remove(v):
    p = v["p"]
    if not re.search(r"\.cordon-restore-A[0-9]+$", p, re.I):
        die(7, "not a staging copy")
    h = host_path(p)
    if not exists(h):
        sys.exit(0)
    if os.path.islink(h):
        die(5, "is a junction or symbolic link")
    if any(x[0] == "o" for x in tree(h, False)):
        die(5, "holds a junction or symbolic link: remove it by hand")
    if os.path.isdir(h):
        shutil.rmtree(h)
    else:
        os.unlink(h)


def tamper(path):
    """Overwrites the start of every copied file with STATE/tamper's
    bytes: same size, so only the SHA-256 can tell."""
    t = os.path.join(STATE, "tamper")
    if not os.path.exists(t):
        return
    with open(t, "rb") as f:
        extra = f.read()
    for d, _, files in os.walk(path):
        for n in files:
            p = os.path.join(d, n)
            if os.path.getsize(p) >= len(extra):
                with open(p, "r+b") as f:
                    f.write(extra)


def do_robocopy(v, script):
    src, dst = host_path(v["src"]), host_path(v["dst"])
    if exists(dst):
        die(6, "destination exists")
    part = host_path(v["dst"] + ".part")
    # The script refuses a leftover .part (it may be a planted junction)
    # and makes a new one, locked to Administrators and SYSTEM, itself.
    if exists(part) or os.path.islink(part):
        die(9, "a leftover %s.part exists (an interrupted copy, or "
            "planted): check it holds no junction, remove it by hand, "
            "then retry" % v["dst"])
    if "Set-Acl -LiteralPath $part -AclObject $acl\n" not in script or \
            "Remove-Item" in script:
        die(99, "fake_vss: a restore script it does not know")
    os.mkdir(part)
    # robocopy's own answer for a missing source: exit 16.
    if "name" in v:
        f = os.path.join(src, v["name"])
        if "$name /XJ /COPY:DATS " not in script or not os.path.isfile(f) \
                or os.path.islink(f):
            die(16, "ERROR 2 (0x00000002) Accessing Source File")
        shutil.copy2(f, os.path.join(part, v["name"]))
    else:
        if " /E /XJ /COPY:DATS " not in script or not os.path.isdir(src) or \
                os.path.islink(src):
            die(16, "ERROR 2 (0x00000002) Accessing Source Directory")
        # /XJ: junctions (here: symbolic links) are not copied.
        shutil.copytree(src, part, symlinks=True, dirs_exist_ok=True,
                        ignore=lambda d, names: [
                            n for n in names
                            if os.path.islink(os.path.join(d, n))])
    tamper(part)
    os.rename(part, dst)
    sys.exit(0)     # the script exits 0 after the rename


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "-c":
        die(127, "fake_vss: not run as SHELL -c COMMAND")
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
    if not script.startswith(HEAD):
        die(97, "fake_vss: script without cordon's head")
    v, body = variables(script)
    live = script.startswith(HEAD + UTF8)
    if "Get-CimInstance -ClassName Win32_ShadowCopy" in body:
        do_list(v)
    elif live and "'staged=' + [int](Ex ($live + $sfx))\n" in body:
        do_inspect(v)
    elif live and "'links=' + $o\n" in body:
        do_probe(v)
    elif live and body.endswith("W $p 1\n"):
        do_manifest(v)
    elif live and body.endswith(
            "Remove-Item -LiteralPath $p -Recurse -Force\n"):
        do_remove(v)
    elif "& robocopy.exe $src $part" in body and \
            body.endswith("if ($LASTEXITCODE -ge 8) { exit $LASTEXITCODE }\n"
                          "Rename-Item -LiteralPath $part -NewName "
                          "([IO.Path]::GetFileName($dst))\nexit 0\n"):
        do_robocopy(v, body)
    else:
        die(99, "fake_vss: a script it does not know")


main()
