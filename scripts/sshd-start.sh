#!/bin/sh
# Start a throwaway OpenSSH sshd for cordon tests: its own ed25519 host key
# and config in DIR, listening on 127.0.0.1:PORT only, UsePAM yes, password
# and key authentication.  Checks the config (sshd -t) first, waits a
# bounded time for the pidfile, and writes DIR/known_hosts (the pinned line
# cordon uses) and DIR/host_fp (the key's SHA256 fingerprint).  Stop it
# with sshd-stop.sh DIR.  See RECIPES-core.md section 2.
set -eu

usage() {
	echo "usage: sshd-start.sh DIR PORT  (1024 <= PORT <= 65535)" >&2
	exit 2
}
[ $# -eq 2 ] || usage
D=$1 P=$2
case $P in '' | *[!0-9]*) usage ;; esac
if [ "$P" -lt 1024 ] || [ "$P" -gt 65535 ]; then usage; fi
case $D in /*) ;; *) D=$(pwd)/$D ;; esac

alive() {
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}
if [ -s "$D/sshd.pid" ] && alive "$(cat "$D/sshd.pid")"; then
	echo "sshd-start: '$D' is in use by pid $(cat "$D/sshd.pid")" >&2
	exit 1
fi
mkdir -p "$D"
# sshd refuses to start without its privilege separation directory.
install -d -m 755 /run/sshd
rm -f "$D/hostkey" "$D/hostkey.pub" "$D/sshd.pid" "$D/sshd.log"
ssh-keygen -q -t ed25519 -N '' -C cordon-test-host -f "$D/hostkey"
cat >"$D/sshd_config" <<CFG
ListenAddress 127.0.0.1:$P
HostKey $D/hostkey
PidFile $D/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
MaxStartups 100:30:200
MaxSessions 50
LogLevel VERBOSE
CFG
if ! /usr/sbin/sshd -t -f "$D/sshd_config"; then
	echo "sshd-start: config check failed" >&2
	exit 1
fi
# Without -D sshd daemonizes and writes the pidfile once it listens.
/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
i=0
while ! [ -s "$D/sshd.pid" ]; do
	if [ $i -ge 100 ]; then			# 5 s
		echo "sshd-start: no pidfile after 5 s; log:" >&2
		tail -20 "$D/sshd.log" >&2 || true
		exit 1
	fi
	sleep 0.05
	i=$((i + 1))
done
printf '[127.0.0.1]:%s %s\n' "$P" "$(cut -d' ' -f1,2 "$D/hostkey.pub")" \
    >"$D/known_hosts"
chmod 644 "$D/known_hosts"
ssh-keygen -lf "$D/hostkey.pub" | awk '{print $2}' >"$D/host_fp"
