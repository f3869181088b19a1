#!/bin/sh
# Stop the sshd that sshd-start.sh DIR started, by the pid in DIR/sshd.pid
# only.  Exits 0 if none was running; leaves DIR in place.  Sessions
# already open keep their own processes until their clients leave.
set -eu

[ $# -eq 1 ] || { echo "usage: sshd-stop.sh DIR" >&2; exit 2; }
D=$1
f=$D/sshd.pid
[ -s "$f" ] || exit 0
pid=$(cat "$f")
case $pid in '' | *[!0-9]*)
	echo "sshd-stop: bad pid in '$f'" >&2
	exit 1 ;;
esac

alive() {
	[ -r "/proc/$pid/stat" ] &&
	    [ "$(sed 's/.*) //; s/ .*//' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}
# A stale pidfile may name a pid reused by an unrelated process.
ours() {
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "sshd.*$D"
}

if alive && ours; then
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while alive && [ $i -lt 100 ]; do	# 5 s
		sleep 0.05
		i=$((i + 1))
	done
	if alive; then
		echo "sshd-stop: pid $pid ignored SIGTERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.1
		if alive; then
			echo "sshd-stop: pid $pid survived SIGKILL" >&2
			exit 1
		fi
	fi
fi
rm -f "$f"
