#!/bin/sh
# make demo: a containment runbook end to end on a throwaway environment.
# A slapd with a few users on 127.0.0.1, an agent, two local users (an
# operator who requests, a lead who approves), then: open an incident,
# plan, run, approve, show the accounts locked, undo one, print the
# journal and verify it.  Everything started is stopped again; the
# exported journal stays at build/demo/journal.export.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CORDON=${CORDON_BIN:-$top/build/cordon}
PORT=${DEMO_PORT:-38987}
OUT=$top/build/demo
OP=cordon-demo-op
LEAD=cordon-demo-lead
RUNBOOK=$top/config/runbooks/disable-accounts.runbook

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates two" \
    "local users to show four-eyes approval)" >&2; exit 2; }
[ -x "$CORDON" ] || { echo "demo: build first (make)" >&2; exit 2; }

W=$(mktemp -d /tmp/cordon-demo.XXXXXX)
chmod 711 "$W"
AGENT_PID= made_users=
cleanup() {
	set +e
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	"$here/slapd-stop.sh" "$W/ldap" >/dev/null 2>&1
	for u in $made_users; do userdel "$u" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# Run cordon as a local user: the agent knows callers only by their uid.
as() {
	u=$1; shift
	echo "[$u]\$ cordon $*"
	setpriv --reuid="$u" --regid="$u" --init-groups \
	    env CORDON_SOCKET="$W/sock" "$CORDON" "$@"
}
for u in $OP $LEAD; do
	if ! id "$u" >/dev/null 2>&1; then
		useradd -M -s /usr/sbin/nologin "$u"
		made_users="$made_users $u"
	fi
done

step "start a throwaway slapd (ppolicy, pwdLockout: TRUE) on 127.0.0.1:$PORT"
"$here/slapd-start.sh" "$W/ldap" "$PORT" >/dev/null
. "$W/ldap/env"
echo "users: alice bob carol dave breakglass (passwords <name>pw)"

step "write the agent's config and start the agent"
cat >"$W/cordon.conf" <<CONF
agent: { socket = "$W/sock"; store = "$W/cordon.db"; approval_ttl = "1h"; };
customers = ( {
	name = "acme";
	protected = [ "breakglass" ];
	roles = (
		{ user = "$OP"; role = "operator"; },
		{ user = "$LEAD"; role = "lead"; },
		{ user = "root"; role = "auditor"; }
	);
	targets = ( {
		name = "corp-ldap"; type = "ldap"; flavour = "openldap";
		uri = "$LDAP_URI"; bind_dn = "$LDAP_SVC_DN";
		password_file = "$LDAP_SVC_PW_FILE";
		base_dn = "ou=people,$LDAP_BASE";
		policy_dn = "cn=policy,$LDAP_BASE";
	} );
} );
CONF
"$CORDON" check-config "$W/cordon.conf"
"$CORDON" agent -c "$W/cordon.conf" 2>"$W/agent.log" &
AGENT_PID=$!
i=0
until [ -S "$W/sock" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$W/agent.log" >&2; exit 1; }
	sleep 0.05
done

step "the operator opens an incident (the GDPR 72-hour clock starts)"
as $OP incident open --customer acme --title "phished credentials" \
    | tee "$W/incident"
INC=$(sed -n "s/^\(INC-[0-9]*-[0-9]*\).*/\1/p" "$W/incident")

step "plan: read-only, shows each account's DN, state and the exact change"
as $OP plan "$RUNBOOK" --incident "$INC" --set accounts=alice,bob,carol,nobody

step "run: actions wait for a lead's approval"
as $OP run "$RUNBOOK" --incident "$INC" --set accounts=alice,bob,carol || true
as $OP queue

step "four-eyes: the operator cannot approve; the lead can"
as $OP approve --all-for "$INC" || echo "(refused, exit $?)"
as $LEAD show A1
as $LEAD approve --all-for "$INC"
as $OP wait 1 --timeout 30

step "read the directory back: the accounts are locked"
for u in alice bob carol dave; do
	if ldapwhoami -x -H "$LDAP_URI" -D "uid=$u,ou=people,$LDAP_BASE" \
	    -w "${u}pw" >/dev/null 2>&1; then
		echo "$u: can log in"
	else
		echo "$u: LOCKED (bind refused)"
	fi
done

step "undo carol's lock: an action too, approved by the lead"
as $OP undo A3
as $LEAD approve A4
as $OP wait 1 --timeout 30
ldapwhoami -x -H "$LDAP_URI" -D "uid=carol,ou=people,$LDAP_BASE" -w carolpw \
    >/dev/null && echo "carol: can log in again"
as $OP queue --all

step "the breach register: facts, risk and the Art. 33 clock"
as $OP incident update "$INC" --set type=confidentiality \
    --set description="phished credentials used against the directory" \
    --set approx_subjects=3 --set risk=risk \
    --set risk_rationale="three staff accounts, no customer data seen"
as $OP incident show "$INC"

step "the journal: every request, approval, change and read-back"
as root journal show --incident "$INC"
mkdir -p "$OUT"
"$CORDON" --socket "$W/sock" journal export -o "$OUT/journal.export"
"$CORDON" --socket "$W/sock" incident report "$INC" --format md \
    -o "$OUT/report.md"
"$CORDON" --socket "$W/sock" incident report "$INC" --format html \
    -o "$OUT/report.html"
step "verify the exported journal without the agent"
"$CORDON" journal verify "$OUT/journal.export"
echo
echo "demo done; the exported journal is $OUT/journal.export," \
    "the authority report $OUT/report.md and .html"
