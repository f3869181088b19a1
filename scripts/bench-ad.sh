#!/bin/sh
# Benchmark: disable N Active Directory accounts on a throwaway Samba AD
# DC (scripts/samba-ad-start.sh) with (a) one ldapmodify process applying
# a generated LDIF, the standard tool, and (b) cordon, pipelined on one
# connection, which also looks each account up, reads it back, and
# journals every step.  Both write the same change: userAccountControl
# 544 -> 546 as a delete-old/add-new compare-and-swap.  Same DC, same run.
# Last line: "ratio R" = cordon time / ldapmodify time.
#   scripts/bench-ad.sh [N] [NETNS] [IP]
set -eu
N=${1:-2000}
NS=${2:-cdabbench}
IP=${3:-10.77.0.252}
here=$(cd "$(dirname "$0")" && pwd)
CORDON=${CORDON_BIN:-$(dirname "$here")/build/cordon}
W=$(mktemp -d /tmp/cordon-bench-ad.XXXXXX)
AGENT_PID=

cleanup() {
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	"$here/samba-ad-stop.sh" "$W/ad" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "bench-ad: $N users, Samba AD DC at ldaps://$IP (netns $NS)"
"$here/samba-ad-start.sh" "$W/ad" "$NS" "$IP"
. "$W/ad/env"
export LDAPTLS_CACERT="$AD_CA"
OU="OU=Bench,$AD_BASE"
ADM() { ldapmodify -x -H "$AD_URI" -D "$AD_ADMIN" -y "$W/ad/admin.pw.raw" "$@"; }
# ldapmodify -y reads the password file whole: no trailing newline.
tr -d '\n' <"$W/ad/admin.pw" >"$W/ad/admin.pw.raw"
chmod 600 "$W/ad/admin.pw.raw"

# Users without passwords (UAC 544 = NORMAL_ACCOUNT | PASSWD_NOTREQD),
# written into sam.ldb in one transaction with ldbadd: over LDAP each add
# is its own transaction (seconds for 2,000 on an idle machine, minutes
# on a busy one; with passwords ~37 s idle).  Not part of the timing.
seq -f 'bu%05g' 1 "$N" >"$W/accounts"
{
	printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$OU"
	awk -v ou="$OU" '{
		printf "dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserAccountControl: 544\n\n", $1, ou, $1
	}' "$W/accounts"
} >"$W/users.ldif"
t0=$(now)
ldbadd --nosync -H "$W/ad/private/sam.ldb" "$W/users.ldif" >/dev/null
echo "bench-ad: $N users created in $(elapsed "$t0" "$(now)")s"

awk -v ou="$OU" '{
	printf "dn: CN=%s,%s\nchangetype: modify\ndelete: userAccountControl\nuserAccountControl: 544\n-\nadd: userAccountControl\nuserAccountControl: 546\n-\n\n", $1, ou
}' "$W/accounts" >"$W/disable.ldif"
awk -v ou="$OU" '{
	printf "dn: CN=%s,%s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 544\n-\n\n", $1, ou
}' "$W/accounts" >"$W/enable.ldif"

disabled() {
	ldapsearch -LLL -x -H "$AD_URI" -D "$AD_ADMIN" -y "$W/ad/admin.pw.raw" \
	    -E pr=1000/noprompt -b "$OU" \
	    '(userAccountControl:1.2.840.113556.1.4.803:=2)' 1.1 |
	    grep -c '^dn:' || true
}

# (a) the standard tool
t0=$(now)
ADM -f "$W/disable.ldif" >/dev/null
t1=$(now)
T_LDAPMODIFY=$(elapsed "$t0" "$t1")
n=$(disabled)
[ "$n" -eq "$N" ] || { echo "bench-ad: ldapmodify disabled $n" >&2; exit 1; }
ADM -f "$W/enable.ldif" >/dev/null		# back to all enabled
[ "$(disabled)" -eq 0 ] || { echo "bench-ad: re-enable failed" >&2; exit 1; }

# (b) cordon, end to end through the agent
cat >"$W/disable.runbook" <<'RB'
name = "bench-ad-disable";
params = ( { name = "accounts"; type = "list"; required = true; } );
steps = ( { name = "disable"; verb = "ldap.disable_account";
	target = "corp-ad"; foreach = "${accounts}";
	args = { account = "${item}"; }; approval = "none";
	on_failure = "continue"; } );
RB
cat >"$W/cordon.conf" <<CONF
agent: { socket = "$W/sock"; store = "$W/cordon.db"; batch = $N; };
customers = ( {
	name = "bench";
	roles = ( { user = "$(id -un)"; role = "operator"; } );
	targets = ( {
		name = "corp-ad"; type = "ldap"; flavour = "ad";
		uri = "$AD_URI"; ca_file = "$AD_CA";
		bind_dn = "$AD_SVC_DN"; password_file = "$W/ad/svc.pw";
		base_dn = "$OU"; user_attr = "sAMAccountName";
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
"$CORDON" run "$W/disable.runbook" --incident "$INC" \
    --set-file accounts="$W/accounts" --wait >"$W/run.out" || {
	echo "bench-ad: cordon run failed; first failures:" >&2
	"$CORDON" queue --run 1 --all 2>&1 | grep -v succeeded | head -5 >&2
	tail -5 "$W/agent.log" >&2
	exit 1
}
t1=$(now)
T_CORDON=$(elapsed "$t0" "$t1")

# The result must be real: every account disabled, as AD itself says.
n=$(disabled)
echo "ldapmodify: ${T_LDAPMODIFY}s for $N userAccountControl changes"
echo "cordon:     ${T_CORDON}s for $N actions (look up, compare-and-swap," \
    "read back, journal)"
echo "disabled after cordon: $n of $N"
[ -n "${BENCH_VERBOSE:-}" ] && grep -E "exec:" "$W/agent.log" >&2
[ "$n" -eq "$N" ] || { echo "bench-ad: not all disabled" >&2; exit 1; }
awk -v c="$T_CORDON" -v l="$T_LDAPMODIFY" \
    'BEGIN { printf "ratio %.2f\n", c / l }'
