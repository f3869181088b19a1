#!/bin/sh
# Stop the slapd that slapd-start.sh DIR started, by the pid in
# DIR/slapd.pid only.  Exits 0 if none was running; leaves DIR in place.
set -eu

[ $# -eq 1 ] || { echo "usage: slapd-stop.sh DIR" >&2; exit 2; }
D=$1
f=$D/slapd.pid
[ -s "$f" ] || exit 0
pid=$(cat "$f")
case $pid in '' | *[!0-9]*)
	echo "slapd-stop: bad pid in '$f'" >&2
	exit 1 ;;
esac

# A zombie still answers kill -0, and init may reap it late.
alive() {
	[ -r "/proc/$pid/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}
# A stale pidfile may name a pid reused by an unrelated process.
ours() {
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^[^ ]*slapd '
}

if alive && ours; then
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while alive && [ $i -lt 100 ]; do	# 5 s
		sleep 0.05
		i=$((i + 1))
	done
	if alive; then
		echo "slapd-stop: pid $pid ignored SIGTERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
		i=0
		while alive && [ $i -lt 20 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		if alive; then
			echo "slapd-stop: pid $pid survived SIGKILL" >&2
			exit 1
		fi
	fi
fi
rm -f "$f"
