#!/bin/sh
# Stop the sshd that sshd-start.sh DIR started, by the pid in DIR/sshd.pid
# only.  Exits 0 if none was running; leaves DIR in place.  Sessions
# already open keep their own processes until their clients leave.
set -eu

[ $# -eq 1 ] || { echo "usage: sshd-stop.sh DIR" >&2; exit 2; }
exec "$(dirname "$0")/stop-pidfile.sh" "$1/sshd.pid" "sshd.*$1" sshd-stop
