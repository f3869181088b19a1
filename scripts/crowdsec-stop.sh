#!/bin/sh
# Stop the CrowdSec LAPI that crowdsec-start.sh DIR started, by the pid in
# DIR/crowdsec.pid only.  Exits 0 if none was running; leaves DIR in place.
set -eu

[ $# -eq 1 ] || { echo "usage: crowdsec-stop.sh DIR" >&2; exit 2; }
exec "$(dirname "$0")/stop-pidfile.sh" "$1/crowdsec.pid" '^[^ ]*crowdsec ' \
    crowdsec-stop
