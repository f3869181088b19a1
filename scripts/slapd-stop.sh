#!/bin/sh
# Stop the slapd that slapd-start.sh DIR started, by the pid in
# DIR/slapd.pid only.  Exits 0 if none was running; leaves DIR in place.
set -eu

[ $# -eq 1 ] || { echo "usage: slapd-stop.sh DIR" >&2; exit 2; }
exec "$(dirname "$0")/stop-pidfile.sh" "$1/slapd.pid" '^[^ ]*slapd ' \
    slapd-stop
