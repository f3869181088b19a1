#!/bin/sh
# Build a throwaway routed network in namespaces for the nftables tests
# (RECIPES-core.md section 4): PREFIXc (client), PREFIXg (gateway, IPv4
# and IPv6 forwarding) and PREFIXh (host), plus a veth from the root
# namespace into the gateway: the agent's own path.  Addresses live only
# inside these links:
#
#   client  c0  10.N.111.2  fd00:N:111::2  -> gw gc0 .111.1 / ::1
#   host    t0  10.N.121.2  fd00:N:121::2  -> gw gt0 .121.1 / ::1
#   root PREFIXr0 10.N.131.2 fd00:N:131::2 -> gw gr0 .131.1 / ::1
#
# N is the optional third argument (default 213), so that two users of
# this script (the tests and the demo) never share a subnet: a network
# left behind by an interrupted run would otherwise shadow the other's
# routes.  The start refuses when the root namespace already routes any
# of these subnets, naming the interface.
#
# In the gateway a real sshd listens on 10.N.131.1:22 (its own host key
# and config in DIR; DIR/known_hosts pins it).  In the host, a Python
# HTTP server on [::]:8080 answers new connections, and `nc -l` on 9004
# (IPv4) and 9006 (IPv6) write what a stream sends into DIR/stream4.bytes
# and DIR/stream6.bytes.  Waits (bounded) until the client reaches the
# host over IPv4 and IPv6.  Undo everything with netns-gw-stop.sh DIR
# PREFIX, also after a partial start.
set -eu

usage() {
	echo "usage: netns-gw-start.sh DIR PREFIX [N]  (PREFIX: 2-6 of" \
	    "[a-z0-9]; N: 10.N.x.y, 1-254, default 213)" >&2
	exit 2
}
[ $# -eq 2 ] || [ $# -eq 3 ] || usage
D=$1 P=$2 N=${3:-213}
case $N in '' | *[!0-9]*) usage ;; esac
[ "$N" -ge 1 ] && [ "$N" -le 254 ] || usage
case $P in ?? | ??? | ???? | ????? | ??????) ;; *) usage ;; esac
case $P in *[!a-z0-9]*) usage ;; esac
case $D in /*) ;; *) D=$(pwd)/$D ;; esac
C=${P}c G=${P}g H=${P}h

fail() {
	echo "netns-gw-start: $*" >&2
	for f in "$D"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $f" >&2
		tail -10 "$f" >&2
	done
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
"$here/netns-reap.sh" -l "${P}r0" $C $G $H ||
    fail "namespaces $C $G $H are in use (netns-gw-stop.sh DIR $P)"
for net in 111 121 131; do
	r=$(ip route show to match "10.$N.$net.1" | grep -v '^default' || true)
	r6=$(ip -6 route show to match "fd00:$N:$net::1" |
	    grep -v '^default' || true)
	if [ -n "$r$r6" ]; then
		fail "10.$N.$net.0/24 or fd00:$N:$net::/64 is routed already" \
		    "($r$r6): a network left by an interrupted run?" \
		    "netns-gw-stop.sh DIR PREFIX removes it"
	fi
done
mkdir -p "$D"
install -d -m 755 /run/sshd

for n in $C $G $H; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
ip link add c0 netns "$C" type veth peer name gc0 netns "$G"
ip link add t0 netns "$H" type veth peer name gt0 netns "$G"
ip link add "${P}r0" type veth peer name gr0 netns "$G"

addr() {	# NS DEV V4 V6 (NS "" is the root namespace)
	if [ -n "$1" ]; then set -- "-n" "$1" "$2" "$3" "$4"
	else set -- "" "" "$2" "$3" "$4"; fi
	# shellcheck disable=SC2086
	ip $1 $2 addr add "$4/24" dev "$3"
	# shellcheck disable=SC2086
	ip $1 $2 addr add "$5/64" dev "$3" nodad
	# shellcheck disable=SC2086
	ip $1 $2 link set "$3" up
}
addr "$C" c0 10.$N.111.2 fd00:$N:111::2
addr "$G" gc0 10.$N.111.1 fd00:$N:111::1
addr "$H" t0 10.$N.121.2 fd00:$N:121::2
addr "$G" gt0 10.$N.121.1 fd00:$N:121::1
addr "" "${P}r0" 10.$N.131.2 fd00:$N:131::2
addr "$G" gr0 10.$N.131.1 fd00:$N:131::1
ip -n "$C" route add default via 10.$N.111.1
ip -n "$C" -6 route add default via fd00:$N:111::1
ip -n "$H" route add default via 10.$N.121.1
ip -n "$H" -6 route add default via fd00:$N:121::1
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1 \
    net.ipv6.conf.all.forwarding=1

# sshd in the gateway namespace.
rm -f "$D/hostkey" "$D/hostkey.pub" "$D/sshd.pid"
ssh-keygen -q -t ed25519 -N '' -C cordon-test-gw -f "$D/hostkey"
cat >"$D/sshd_config" <<CFG
ListenAddress 10.$N.131.1:22
HostKey $D/hostkey
PidFile $D/sshd.pid
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
LogLevel VERBOSE
CFG
/usr/sbin/sshd -t -f "$D/sshd_config" || fail "sshd config check failed"
ip netns exec "$G" /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
printf '%s %s\n' "10.$N.131.1" "$(cut -d' ' -f1,2 "$D/hostkey.pub")" \
    >"$D/known_hosts"
chmod 644 "$D/known_hosts"

# Services in the host namespace; ip netns exec execs, so $! is theirs.
ip netns exec "$H" python3 -m http.server --bind :: 8080 \
    >"$D/http.log" 2>&1 &
echo $! >"$D/http.pid"
ip netns exec "$H" nc -4 -l 10.$N.121.2 9004 >"$D/stream4.bytes" \
    2>"$D/nc4.log" &
echo $! >"$D/nc4.pid"
ip netns exec "$H" nc -6 -l fd00:$N:121::2 9006 >"$D/stream6.bytes" \
    2>"$D/nc6.log" &
echo $! >"$D/nc6.pid"

# Bounded waits: sshd pidfile, then v4 and v6 end to end (IPv6 ~1 s).
i=0
until [ -s "$D/sshd.pid" ]; do
	[ $i -lt 100 ] || fail "sshd wrote no pidfile in 5 s"
	sleep 0.05; i=$((i + 1))
done
i=0
until ip netns exec "$C" ping -c1 -W1 -q 10.$N.121.2 >/dev/null 2>&1 &&
    ip netns exec "$C" ping -c1 -W1 -q fd00:$N:121::2 >/dev/null 2>&1 &&
    ip netns exec "$C" nc -z -w1 fd00:$N:121::2 8080 >/dev/null 2>&1; do
	[ $i -lt 50 ] || fail "client cannot reach host after 10 s"
	sleep 0.2; i=$((i + 1))
done
i=0
until ping -c1 -W1 -q 10.$N.131.1 >/dev/null 2>&1 &&
    nc -z -w1 10.$N.131.1 22 >/dev/null 2>&1; do
	[ $i -lt 50 ] || fail "root namespace cannot reach the gateway sshd"
	sleep 0.2; i=$((i + 1))
done
