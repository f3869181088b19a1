#!/bin/sh
# Keep the kernel from handing out cordon's fixed test ports.
#
# The integration tests, the demo and the benchmarks listen on loopback
# ports 38900-38999.  Those lie inside Linux's ephemeral range (32768-
# 60999 by default), so any outgoing connection on the machine -- an ssh
# client, curl, a browser -- can be given one as its local port first,
# and a slapd or fake vendor server then fails with "Address already in
# use".  Adding the block to net.ipv4.ip_local_reserved_ports stops the
# kernel from choosing them automatically; binding them explicitly still
# works.  Idempotent; needs root (does nothing, successfully, without it).
set -eu
RANGE=38900-38999
F=/proc/sys/net/ipv4/ip_local_reserved_ports
[ -w "$F" ] || exit 0
cur=$(cat "$F")
case ",$cur," in
*",$RANGE,"*) exit 0 ;;
esac
if [ -n "$cur" ]; then
	printf '%s,%s\n' "$cur" "$RANGE" >"$F"
else
	printf '%s\n' "$RANGE" >"$F"
fi
