#!/bin/sh
# Start N throwaway sshd "hosts" for cordon's fan-out tests and benchmark,
# each in its own network namespace and with its own private /etc
# (RECIPES-core.md section 3).  Stop them with nshosts-stop.sh DIR.
#
#   nshosts-start.sh DIR N [NET]     (1 <= N <= 1000, NET 0..3, default 0)
#   nshosts-start.sh DIR --restart I (host I's sshd again, same host key,
#                                    after it was stopped: "back up")
#
# Network: bridge cdsh-brNET in the root namespace with 10.214.(NET*64).1/18;
# host I lives in namespace cdshNET-hI behind veth cdshNET-vI, address
# 10.214.(NET*64 + 1 + (I-1)/250).((I-1)%250 + 1), sshd on port 22.  No
# address outside 10.214.0.0/16 is used, no other interface is touched.
#
# Accounts, the same on every host but in each host's private /etc (a copy
# of /etc, bind-mounted over /etc in the host's own mount namespace, so a
# password change on one host leaves every other host and the real
# /etc/shadow unchanged):
#   cdsh-agent   cordon's login: key DIR/agent_key, NOPASSWD sudo for the
#                commands the ssh driver runs (DIR/sudoers is the rule);
#   cdsh-user,   accounts to act on: password in DIR/user.pw, key
#   cdsh-user2   DIR/user_key authorized.
# Homes are under DIR/home (shared by all hosts, like an NFS /home).
#
# Output in DIR: known_hosts (one pinned line per host), hosts (I ADDR NS
# per line), hI/{etc,sshd_config,hostkey,sshd.pid,sshd.log}.  Every wait is
# bounded; on failure everything started so far is torn down.
set -eu

usage() {
	echo "usage: nshosts-start.sh DIR N [NET]  (1 <= N <= 1000, NET 0..3)" >&2
	echo "       nshosts-start.sh DIR --restart I" >&2
	exit 2
}

# sshd of host I in its namespace and its own mount namespace (ip netns
# exec makes one, slave to ours) with the private /etc over /etc.  sh
# execs sshd, so the background pid is sshd's.
start_sshd() {
	h=$D/h$1
	rm -f "$h/sshd.pid"
	ip netns exec "$PFX-h$1" sh -c 'mount --bind "$1/etc" /etc &&
	    exec /usr/sbin/sshd -D -f "$1/sshd_config" -E "$1/sshd.log"' \
	    sh "$h" </dev/null >"$h/start.log" 2>&1 &
	echo $! >"$h/bgpid"
}

if [ $# -eq 3 ] && [ "$2" = --restart ]; then
	D=$1 I=$3
	case $D in /*) ;; *) D=$(pwd)/$D ;; esac
	case $I in '' | *[!0-9]*) usage ;; esac
	[ "$(id -u)" -eq 0 ] ||
	    { echo "nshosts-start: must run as root" >&2; exit 1; }
	[ -s "$D/net" ] && [ -d "$D/h$I" ] && [ -s "$D/count" ] &&
	    [ "$I" -ge 1 ] && [ "$I" -le "$(cat "$D/count")" ] ||
	    { echo "nshosts-start: no host $I in '$D'" >&2; exit 1; }
	PFX=cdsh$(cat "$D/net")
	if [ -s "$D/h$I/bgpid" ] && kill -0 "$(cat "$D/h$I/bgpid")" 2>/dev/null
	then
		echo "nshosts-start: sshd of h$I is running" >&2
		exit 1
	fi
	start_sshd "$I"
	t=0
	while ! [ -s "$D/h$I/sshd.pid" ]; do
		if ! kill -0 "$(cat "$D/h$I/bgpid")" 2>/dev/null; then
			cat "$D/h$I/start.log" >&2 2>/dev/null || true
			echo "nshosts-start: sshd of h$I exited" >&2
			exit 1
		fi
		[ $t -ge 200 ] &&
		    { echo "nshosts-start: h$I not ready after 10 s" >&2; exit 1; }
		sleep 0.05
		t=$((t + 1))
	done
	exit 0
fi
[ $# -eq 2 ] || [ $# -eq 3 ] || usage
D=$1 N=$2 NET=${3:-0}
case $N in '' | *[!0-9]*) usage ;; esac
case $NET in [0-3]) ;; *) usage ;; esac
if [ "$N" -lt 1 ] || [ "$N" -gt 1000 ]; then usage; fi
case $D in /*) ;; *) D=$(pwd)/$D ;; esac
[ "$(id -u)" -eq 0 ] || { echo "nshosts-start: must run as root" >&2; exit 1; }

BR=cdsh-br$NET
PFX=cdsh$NET
BASE=$((NET * 64))
PW='cdsh old pw 1'
HERE=$(cd "$(dirname "$0")" && pwd)

# Namespaces, veths and the bridge of NET that a killed run left behind
# are reaped (netns-reap.sh); those of a live run are not.
reap_old() {
	set -- $(ip netns list | cut -d' ' -f1 | grep -x "$PFX-h[0-9]*")
	for l in $(ip -o link show | awk -F': ' '{ sub("@.*", "", $2);
	    print $2 }' | grep -x "$PFX-v[0-9]*"); do
		set -- -l "$l" "$@"
	done
	"$HERE/netns-reap.sh" -l "$BR" "$@"
}
reap_old || {
	echo "nshosts-start: hosts of net $NET are in use (another run, or" \
	    "run nshosts-stop.sh on its DIR)" >&2
	exit 1
}
if [ -e "$D/hosts" ]; then
	echo "nshosts-start: '$D' holds hosts already" >&2
	exit 1
fi

fail() {
	echo "nshosts-start: $*" >&2
	printf '%s\n' "$N" >"$D/count" 2>/dev/null || true
	"$HERE/nshosts-stop.sh" "$D" >&2 || true
	exit 1
}
trap 'fail "interrupted"' INT TERM HUP

mkdir -p "$D"
chmod 711 "$D"
printf '%s\n' "$NET" >"$D/net"
printf '%s\n' "$N" >"$D/count"
install -d -m 755 /run/sshd

# --- the private /etc template ---------------------------------------
R=$D/tmpl
T=$R/etc
rm -rf "$R"
mkdir -p "$R"
cp -a /etc "$T" || fail "cannot copy /etc"
install -d -m 711 "$D/home"
rm -f "$D/agent_key" "$D/agent_key.pub" "$D/user_key" "$D/user_key.pub"
ssh-keygen -q -t ed25519 -N '' -C cdsh-agent -f "$D/agent_key"
ssh-keygen -q -t ed25519 -N '' -C cdsh-user -f "$D/user_key"
printf '%s' "$PW" >"$D/user.pw"
chmod 600 "$D/user.pw"
hash=$(printf '%s\n' "$PW" | openssl passwd -6 -stdin) ||
    fail "openssl passwd failed"

# uids free in the real /etc/passwd, so files in DIR/home never look owned
# by a real user of this machine.
uid=59500
for u in cdsh-agent cdsh-user cdsh-user2; do
	while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null
	do
		uid=$((uid + 1))
	done
	h=$D/home/$u
	groupadd --prefix "$R" -g "$uid" "$u" || fail "groupadd $u failed"
	useradd --prefix "$R" -M -g "$uid" -u "$uid" -d "$h" -s /bin/sh -p "$hash" \
	    "$u" || fail "useradd $u failed"
	install -d -m 755 -o "$uid" -g "$uid" "$h"
	install -d -m 700 -o "$uid" -g "$uid" "$h/.ssh"
	if [ "$u" = cdsh-agent ]; then
		cp "$D/agent_key.pub" "$h/.ssh/authorized_keys"
	else
		cp "$D/user_key.pub" "$h/.ssh/authorized_keys"
	fi
	chown "$uid:$uid" "$h/.ssh/authorized_keys"
	chmod 600 "$h/.ssh/authorized_keys"
	uid=$((uid + 1))
done

# sudo for exactly what actions/ssh.c runs (README, SSH section).
p() { command -v "$1" || fail "no '$1'"; }
{
	echo "Defaults:cdsh-agent !lecture, !syslog, !pam_session"
	echo "cdsh-agent ALL=(root) NOPASSWD: $(p getent) shadow *," \
	    "$(p chpasswd), $(p usermod), $(p chage), $(p loginctl)," \
	    "$(p pkill), $(p pgrep)"
	echo "cdsh-agent ALL=(ALL,!root) NOPASSWD: $(p sh), $(p rm)"
} >"$D/sudoers"
install -m 440 "$D/sudoers" "$T/sudoers.d/cdsh-agent"
visudo -c -q -f "$T/sudoers.d/cdsh-agent" >/dev/null ||
    fail "sudoers rule does not parse"

# --- network ---------------------------------------------------------
ip link add "$BR" type bridge || fail "cannot add bridge $BR"
ip addr add "10.214.$BASE.1/18" dev "$BR"
ip link set "$BR" up

: >"$D/known_hosts"
: >"$D/hosts.tmp"
i=1
while [ "$i" -le "$N" ]; do
	ns=$PFX-h$i
	a=10.214.$((BASE + 1 + (i - 1) / 250)).$(((i - 1) % 250 + 1))
	h=$D/h$i
	rm -rf "$h"
	mkdir -p "$h"
	ip netns add "$ns" || fail "cannot add netns $ns"
	ip link add "$PFX-v$i" type veth peer name eth0 netns "$ns" ||
	    fail "cannot add veth $PFX-v$i"
	ip link set "$PFX-v$i" master "$BR" up
	ip -n "$ns" addr add "$a/18" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ssh-keygen -q -t ed25519 -N '' -C "cdsh-h$i" -f "$h/hostkey"
	cat >"$h/sshd_config" <<CFG
ListenAddress $a:22
HostKey $h/hostkey
PidFile $h/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
MaxStartups 200:30:400
MaxSessions 50
UseDNS no
LogLevel INFO
CFG
	echo "$a $(cut -d' ' -f1,2 "$h/hostkey.pub")" >>"$D/known_hosts"
	echo "$i $a $ns" >>"$D/hosts.tmp"
	i=$((i + 1))
done
/usr/sbin/sshd -t -f "$D/h1/sshd_config" || fail "sshd config check failed"

# The private /etc copies, in parallel (the slow part).
i=1
while [ "$i" -le "$N" ]; do
	cp -a "$T" "$D/h$i/etc" &
	i=$((i + 1))
	[ $((i % 25)) -eq 0 ] && wait
done
wait
i=1
while [ "$i" -le "$N" ]; do
	[ -f "$D/h$i/etc/sudoers.d/cdsh-agent" ] ||
	    fail "private /etc of h$i is incomplete"
	i=$((i + 1))
done

# sshd in each namespace (start_sshd).
i=1
while [ "$i" -le "$N" ]; do
	start_sshd "$i"
	i=$((i + 1))
done

# Ready when every sshd wrote its pidfile (after binding): 10 s at most.
t=0
i=1
while [ "$i" -le "$N" ]; do
	if [ -s "$D/h$i/sshd.pid" ]; then
		i=$((i + 1))
		continue
	fi
	if ! kill -0 "$(cat "$D/h$i/bgpid")" 2>/dev/null; then
		cat "$D/h$i/start.log" "$D/h$i/sshd.log" >&2 2>/dev/null || true
		fail "sshd of h$i exited"
	fi
	[ $t -ge 200 ] && fail "sshd of h$i not ready after 10 s"
	sleep 0.05
	t=$((t + 1))
done
chmod 644 "$D/known_hosts"
mv "$D/hosts.tmp" "$D/hosts"
trap - INT TERM HUP
exit 0
