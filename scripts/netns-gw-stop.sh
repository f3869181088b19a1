#!/bin/sh
# Tear down what netns-gw-start.sh DIR PREFIX built, also after a partial
# start: ends every process still inside the three namespaces (by pid,
# from `ip netns pids`: they only hold what the tests started there),
# deletes the veths explicitly (`ip netns del` is asynchronous) and the
# namespaces.  Leaves DIR in place.  Exits 0 when nothing is left.
set -u

[ $# -eq 2 ] || { echo "usage: netns-gw-stop.sh DIR PREFIX" >&2; exit 2; }
D=$1 P=$2
case $P in '' | *[!a-z0-9]*) echo "netns-gw-stop: bad PREFIX" >&2; exit 2 ;;
esac
C=${P}c G=${P}g H=${P}h

exists() { ip netns list 2>/dev/null | grep -q "^$1\( \|$\)"; }

alive() {
	[ -r "/proc/$1/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

pids=""
for n in $C $G $H; do
	exists "$n" && pids="$pids $(ip netns pids "$n" 2>/dev/null)"
done
# ip netns exec children that never entered a namespace (e.g. waiting).
for f in "$D"/*.pid; do
	[ -s "$f" ] || continue
	p=$(cat "$f")
	case $p in '' | *[!0-9]*) continue ;; esac
	tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" |
	    grep -q "netns\|sshd.*$D\|http.server\|nc -" && pids="$pids $p"
done
for p in $pids; do kill -TERM "$p" 2>/dev/null; done
i=0
for p in $pids; do
	while alive "$p" && [ $i -lt 40 ]; do	# 2 s for all
		sleep 0.05; i=$((i + 1))
	done
	alive "$p" && kill -KILL "$p" 2>/dev/null
done
ip link del "${P}r0" 2>/dev/null
for n in $C $G $H; do
	exists "$n" || continue
	ip -n "$n" link del c0 2>/dev/null
	ip -n "$n" link del t0 2>/dev/null
	ip netns del "$n" 2>/dev/null
done
rm -f "$D"/*.pid
left=""
for n in $C $G $H; do exists "$n" && left="$left $n"; done
ip link show "${P}r0" >/dev/null 2>&1 && left="$left ${P}r0"
if [ -n "$left" ]; then
	echo "netns-gw-stop: still there:$left" >&2
	exit 1
fi
exit 0
