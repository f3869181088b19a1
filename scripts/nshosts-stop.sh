#!/bin/sh
# Tear down what nshosts-start.sh DIR started: each host's sshd by the pid
# in DIR/hI/bgpid (if its command line is still sshd on DIR), then every
# process left in the host's namespace (its sessions), by pid; then the
# veths, the namespaces and the bridge.  Safe to run twice and after a
# partial start.  Leaves DIR in place (the private /etc copies are plain
# directories once no process holds the mount namespace).
set -u

[ $# -eq 1 ] || { echo "usage: nshosts-stop.sh DIR" >&2; exit 2; }
D=$1
case $D in /*) ;; *) D=$(pwd)/$D ;; esac
[ -s "$D/net" ] || exit 0
NET=$(cat "$D/net")
case $NET in [0-3]) ;; *) echo "nshosts-stop: bad '$D/net'" >&2; exit 1 ;; esac
N=$(cat "$D/count" 2>/dev/null || echo 0)
case $N in '' | *[!0-9]*) N=0 ;; esac
BR=cdsh-br$NET
PFX=cdsh$NET
rc=0

alive() {
	[ -r "/proc/$1/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# 1: TERM every sshd that is still ours.
i=1
while [ "$i" -le "$N" ]; do
	f=$D/h$i/bgpid
	if [ -s "$f" ]; then
		pid=$(cat "$f")
		if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		    grep -q -- "sshd.*$D/h$i/"; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	fi
	i=$((i + 1))
done
# 2: whatever is left in our namespaces (sessions, the sshds), by pid.
pids_left() {
	i=1
	while [ "$i" -le "$N" ]; do
		ip netns pids "$PFX-h$i" 2>/dev/null
		i=$((i + 1))
	done
}
t=0
while [ -n "$(pids_left)" ] && [ $t -lt 100 ]; do	# 5 s
	sleep 0.05
	t=$((t + 1))
done
left=$(pids_left)
if [ -n "$left" ]; then
	# shellcheck disable=SC2086
	kill -KILL $left 2>/dev/null || true
	t=0
	while [ -n "$(pids_left)" ] && [ $t -lt 40 ]; do
		sleep 0.05
		t=$((t + 1))
	done
	if [ -n "$(pids_left)" ]; then
		echo "nshosts-stop: pids survived SIGKILL: $(pids_left)" >&2
		rc=1
	fi
fi
# 3: links and namespaces (ip netns del is lazy: delete veths explicitly).
i=1
while [ "$i" -le "$N" ]; do
	ip link del "$PFX-v$i" 2>/dev/null || true
	if ip netns list 2>/dev/null | grep -q "^$PFX-h$i\( \|$\)"; then
		ip netns del "$PFX-h$i" || rc=1
	fi
	rm -f "$D/h$i/bgpid" "$D/h$i/sshd.pid"
	i=$((i + 1))
done
if ip link show "$BR" >/dev/null 2>&1; then
	ip link del "$BR" || rc=1
fi
rm -f "$D/hosts" "$D/net"
exit $rc
