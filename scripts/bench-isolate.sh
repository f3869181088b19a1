#!/bin/sh
# Benchmark: isolate N hosts through the OPNsense profile against the
# local fake vendor server (tests/it/fake_vendors.py, HTTPS, TLS verified)
# with (a) a shell loop of curl doing the same requests cordon does per
# host -- read the alias, add the address, read it back -- and (b) cordon,
# end to end through the agent (check, isolate, verify, journal), which
# reuses connections and keeps a bounded number of requests in flight
# (curl multi).  Same server, same run, emptied in between.
# Last line: "ratio R" = cordon time / curl-loop time (target <= 0.20).
#   scripts/bench-isolate.sh [N] [PORT]
set -eu
N=${1:-1000}
PORT=${2:-38961}
here=$(cd "$(dirname "$0")" && pwd)
"$here/reserve-ports.sh"	# its ports lie in the ephemeral range
top=$(dirname "$here")
CORDON=${CORDON_BIN:-$top/build/cordon}
W=$(mktemp -d /tmp/cordon-bench-isolate.XXXXXX)
AGENT_PID='' FAKE_PID=''
KEY=bench-key SECRET=bench-secret-0123456789

cleanup() {
	for p in $AGENT_PID $FAKE_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "bench-isolate: $N hosts, OPNsense profile, fake server on" \
    "127.0.0.1:$PORT"
mkdir -p "$W/fake"
printf '%s\n' "$KEY" >"$W/fw.key"
printf '%s\n' "$SECRET" >"$W/fw.secret"
chmod 600 "$W/fw.key" "$W/fw.secret"
python3 "$top/tests/it/fake_vendors.py" --dir "$W/fake" --port "$PORT" \
    --key-file "$W/fw.key" --secret-file "$W/fw.secret" \
    >"$W/fake.log" 2>&1 &
FAKE_PID=$!
i=0
until [ -e "$W/fake/fake.ready" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || { cat "$W/fake.log" >&2; exit 1; }
	sleep 0.1
done
URL=https://127.0.0.1:$PORT
ALIAS=cordon_quarantine
# The credentials go to curl in a 0600 config file (-K), never in argv
# where ps shows them to every user.
(umask 077; printf 'user = "%s:%s"\n' "$KEY" "$SECRET" >"$W/curl-auth")
ctl() { curl -sS --cacert "$W/fake/ca.pem" -X POST -d "${2:-{\}}" \
    "$URL/_ctl/$1" >/dev/null; }
count() {
	curl -sS --cacert "$W/fake/ca.pem" -K "$W/curl-auth" \
	    "$URL/api/firewall/alias_util/list/$ALIAS" |
	    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rows"]))'
}

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "10.%d.%d.%d\n", 100 + int(i / 62500), int(i / 250) % 250,
	    i % 250 + 1 }' >"$W/hosts"

# (a) a shell loop of curl: the same three requests per host
t0=$(now)
while read -r h; do
	curl -sS --cacert "$W/fake/ca.pem" -K "$W/curl-auth" \
	    "$URL/api/firewall/alias_util/list/$ALIAS" >/dev/null
	curl -sS --cacert "$W/fake/ca.pem" -K "$W/curl-auth" \
	    -H 'Content-Type: application/json' \
	    -d "{\"address\":\"$h\"}" \
	    "$URL/api/firewall/alias_util/add/$ALIAS" >/dev/null
	curl -sS --cacert "$W/fake/ca.pem" -K "$W/curl-auth" \
	    "$URL/api/firewall/alias_util/list/$ALIAS" >/dev/null
done <"$W/hosts"
t1=$(now)
T_CURL=$(elapsed "$t0" "$t1")
n_curl=$(count)
ctl reset

# (b) cordon, end to end through the agent
cat >"$W/isolate.runbook" <<'RB'
name = "bench-isolate";
params = ( { name = "hosts"; type = "list"; required = true; } );
steps = (
	{ name = "isolate"; verb = "firewall.isolate_host"; target = "edge";
	  foreach = "${hosts}"; args = { host = "${item}"; };
	  approval = "none"; on_failure = "continue"; }
);
RB
cat >"$W/cordon.conf" <<CONF
agent: { socket = "$W/sock"; store = "$W/cordon.db"; batch = 2000; };
customers = ( {
	name = "bench";
	roles = ( { user = "$(id -un)"; role = "operator"; } );
	targets = ( {
		name = "edge"; type = "firewall"; provider = "opnsense";
		base_url = "$URL"; ca_file = "$W/fake/ca.pem";
		key_file = "$W/fw.key"; secret_file = "$W/fw.secret";
		profile_dir = "$top/config/providers";
		max_parallel = 16; timeout = 30;
	} );
} );
CONF
"$CORDON" agent -c "$W/cordon.conf" 2>"$W/agent.log" &
AGENT_PID=$!
export CORDON_SOCKET="$W/sock"
i=0
until "$CORDON" incident open --customer bench --title bench \
    >"$W/incident" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$W/agent.log" >&2; exit 1; }
	sleep 0.05
done
INC=$(cut -d' ' -f1 "$W/incident")
t0=$(now)
"$CORDON" run "$W/isolate.runbook" --incident "$INC" \
    --set-file hosts="$W/hosts" --wait >"$W/run.out"
t1=$(now)
T_CORDON=$(elapsed "$t0" "$t1")
n_cordon=$(count)

echo "curl loop: ${T_CURL}s for $N hosts (3 requests each, new" \
    "connection each); alias holds $n_curl"
echo "cordon:    ${T_CORDON}s for $N actions (check, isolate, verify," \
    "journal); alias holds $n_cordon"
if [ "$n_curl" -ne "$N" ] || [ "$n_cordon" -ne "$N" ]; then
	echo "bench-isolate: not all hosts isolated" >&2
	exit 1
fi
awk -v c="$T_CORDON" -v l="$T_CURL" 'BEGIN { printf "ratio %.2f\n", c / l }'
