#!/bin/sh
# Stop what samba-ad-start.sh DIR started: samba by its pid (SIGTERM,
# bounded wait, then SIGKILL of every process left in our own network
# namespace, by pid), then the namespace and the veth pair.  Safe to run
# twice or after a half-finished start.
set -u

[ $# -eq 1 ] || { echo "usage: samba-ad-stop.sh DIR" >&2; exit 2; }
D=$1
STOP_WAIT_S=10

NS= HV=
if [ -f "$D/netns" ]; then
	NS=$(sed -n 's/^AD_NETNS=//p' "$D/netns")
	HV=$(sed -n 's/^AD_HVETH=//p' "$D/netns")
fi
case $NS in cdad* | cdab*) ;; *) NS= ;; esac
case $HV in cdad* | cdab*) ;; *) HV= ;; esac

if [ -s "$D/samba.pid" ]; then
	pid=$(cat "$D/samba.pid")
	case $pid in '' | *[!0-9]*) pid= ;; esac
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
		i=0
		while kill -0 "$pid" 2>/dev/null &&
		    [ $i -lt $((STOP_WAIT_S * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$D/samba.pid"
fi
if [ -n "$NS" ] && ip netns list | cut -d" " -f1 | grep -qx "$NS"; then
	# Samba's children, should any outlive their parent: only the
	# processes inside the namespace this fixture created.
	for p in $(ip netns pids "$NS" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
fi
if [ -n "$HV" ] && ip link show "$HV" >/dev/null 2>&1; then
	ip link del "$HV" 2>/dev/null
fi
rm -f "$D/netns"
exit 0
