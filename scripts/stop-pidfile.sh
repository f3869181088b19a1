#!/bin/sh
# Stop the daemon whose pid is in PIDFILE, by that pid only, if it is
# still ours (its command line matches the grep pattern PATTERN): TERM,
# 5 s, then KILL.  Exits 0 if none was running; removes PIDFILE.
#   stop-pidfile.sh PIDFILE PATTERN NAME
set -eu

[ $# -eq 3 ] || { echo "usage: stop-pidfile.sh PIDFILE PATTERN NAME" >&2
	exit 2; }
f=$1 pat=$2 name=$3
[ -s "$f" ] || exit 0
pid=$(cat "$f")
case $pid in '' | *[!0-9]*)
	echo "$name: bad pid in '$f'" >&2
	exit 1 ;;
esac

# A zombie still answers kill -0, and init may reap it late.
alive() {
	[ -r "/proc/$pid/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}
# A stale pidfile may name a pid reused by an unrelated process.
ours() {
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pat"
}
wait_gone() {
	i=0
	while alive && [ $i -lt "$1" ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

if alive && ours; then
	kill -TERM "$pid" 2>/dev/null || true
	wait_gone 100
	if alive; then
		echo "$name: pid $pid ignored SIGTERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone 20
		if alive; then
			echo "$name: pid $pid survived SIGKILL" >&2
			exit 1
		fi
	fi
fi
rm -f "$f"
