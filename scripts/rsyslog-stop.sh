#!/bin/sh
# Stop the rsyslogd that rsyslog-start.sh DIR started, by the pid in
# DIR/rsyslog.pid only.  Exits 0 if none was running; leaves DIR in place.
set -eu

[ $# -eq 1 ] || { echo "usage: rsyslog-stop.sh DIR" >&2; exit 2; }
exec "$(dirname "$0")/stop-pidfile.sh" "$1/rsyslog.pid" '^[^ ]*rsyslogd ' \
    rsyslog-stop
