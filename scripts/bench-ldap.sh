#!/bin/sh
# Benchmark: lock N accounts in a durable throwaway slapd with (a) one
# ldapmodify process, the standard tool, and (b) cordon, which also checks
# each entry first, reads it back, and journals every step.  Same slapd,
# same run.  Last line: "ratio R" = cordon time / ldapmodify time.
#   scripts/bench-ldap.sh [N] [PORT]
set -eu
N=${1:-10000}
PORT=${2:-38960}
here=$(cd "$(dirname "$0")" && pwd)
"$here/reserve-ports.sh"	# its ports lie in the ephemeral range
top=$(dirname "$here")
CORDON=${CORDON_BIN:-$top/build/cordon}
W=$(mktemp -d /tmp/cordon-bench.XXXXXX)
AGENT_PID=

cleanup() {
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	"$here/slapd-stop.sh" "$W/ldap" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "bench-ldap: $N users, durable slapd (no olcDbNoSync) on 127.0.0.1:$PORT"
"$here/slapd-start.sh" "$W/ldap" "$PORT" "$N" >/dev/null
. "$W/ldap/env"
SVC="-x -H $LDAP_URI -D $LDAP_SVC_DN -y $LDAP_SVC_PW_FILE"

seq -f 'u%05g' 1 "$N" >"$W/accounts"
awk -v b="ou=people,$LDAP_BASE" '{
	printf "dn: uid=%s,%s\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n", $1, b
}' "$W/accounts" >"$W/lock.ldif"
awk -v b="ou=people,$LDAP_BASE" '{
	printf "dn: uid=%s,%s\nchangetype: modify\ndelete: pwdAccountLockedTime\n\n", $1, b
}' "$W/accounts" >"$W/unlock.ldif"

# (a) the standard tool
t0=$(now)
# shellcheck disable=SC2086
ldapmodify $SVC -f "$W/lock.ldif" >/dev/null
t1=$(now)
T_LDAPMODIFY=$(elapsed "$t0" "$t1")
# shellcheck disable=SC2086
ldapmodify $SVC -f "$W/unlock.ldif" >/dev/null	# back to all enabled

# (b) cordon, end to end through the agent
cat >"$W/cordon.conf" <<CONF
agent: { socket = "$W/sock"; store = "$W/cordon.db"; batch = 2000; };
customers = ( {
	name = "bench";
	roles = ( { user = "$(id -un)"; role = "operator"; } );
	targets = ( {
		name = "corp-ldap"; type = "ldap"; flavour = "openldap";
		uri = "$LDAP_URI"; bind_dn = "$LDAP_SVC_DN";
		password_file = "$LDAP_SVC_PW_FILE";
		base_dn = "ou=people,$LDAP_BASE";
		policy_dn = "cn=policy,$LDAP_BASE";
	} );
} );
CONF
"$CORDON" agent -v -c "$W/cordon.conf" 2>"$W/agent.log" &
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
"$CORDON" run "$top/bench/disable-accounts-noapproval.runbook" \
    --incident "$INC" --set-file accounts="$W/accounts" --wait \
    >"$W/run.out"
t1=$(now)
T_CORDON=$(elapsed "$t0" "$t1")
RSS=$(awk '/VmHWM/ { print $2, $3 }' "/proc/$AGENT_PID/status")

# The result must be real: every account locked, and the journal whole.
locked=$(ldapsearch -LLL -x -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW" -b "ou=people,$LDAP_BASE" \
    '(pwdAccountLockedTime=000001010000Z)' dn | grep -c '^dn:' || true)
"$CORDON" journal export -o "$W/journal" 2>/dev/null ||
    "$CORDON" journal show --limit 1 >/dev/null
entries=$(wc -l <"$W/journal" 2>/dev/null || echo 0)

echo "ldapmodify: ${T_LDAPMODIFY}s for $N lock modifications"
echo "cordon:     ${T_CORDON}s for $N actions (check, lock, read back," \
    "journal)"
echo "locked after cordon: $locked of $N; journal entries: $entries"
echo "agent peak RSS: $RSS"
[ -n "${BENCH_VERBOSE:-}" ] && grep -E "exec:|run\$" "$W/agent.log" >&2
[ "$locked" -ge "$N" ] || { echo "bench-ldap: not all locked" >&2; exit 1; }
awk -v c="$T_CORDON" -v l="$T_LDAPMODIFY" 'BEGIN { printf "ratio %.2f\n", c / l }'
