#!/bin/sh
# make demo-ad: the "compromised account" runbook end to end against a
# throwaway Samba AD DC (scripts/samba-ad-start.sh, in its own network
# namespace): disable, strip privileged groups, reset the password,
# quarantine.  An operator requests, a second person (a lead) approves;
# the directory is read back by independent tools (ldapsearch as the
# domain Administrator, a bind as the user); then the journal is printed,
# exported and verified.  Everything started is stopped again; the
# exported journal stays at build/demo-ad/journal.export.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CORDON=${CORDON_BIN:-$top/build/cordon}
NS=${DEMO_AD_NETNS:-cdabdemo}
IP=${DEMO_AD_IP:-10.77.0.253}
OUT=$top/build/demo-ad
OP=cordon-ademo-op
LEAD=cordon-ademo-lead
RUNBOOK=$top/config/runbooks/compromised-account-ad.runbook
USER_PW='Al1ce!Pass-2024x'

[ "$(id -u)" -eq 0 ] || { echo "demo-ad: run as root (network namespace," \
    "two local users for four-eyes approval)" >&2; exit 2; }
[ -x "$CORDON" ] || { echo "demo-ad: build first (make)" >&2; exit 2; }

T0=$(date +%s)
W=$(mktemp -d /tmp/cordon-demo-ad.XXXXXX)
chmod 711 "$W"
AGENT_PID= made_users=
cleanup() {
	set +e
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	"$here/samba-ad-stop.sh" "$W/ad" >/dev/null 2>&1
	for u in $made_users; do userdel "$u" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
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

step "provision and start a throwaway Samba AD DC (realm CORDON.TEST)"
"$here/samba-ad-start.sh" "$W/ad" "$NS" "$IP"
. "$W/ad/env"
export LDAPTLS_CACERT="$AD_CA"
tr -d '\n' <"$W/ad/admin.pw" >"$W/admin.pw"
chmod 600 "$W/admin.pw"
ADM="-x -H $AD_URI -D $AD_ADMIN -y $W/admin.pw"
B64=$(printf '"%s"' "$USER_PW" | iconv -f UTF-8 -t UTF-16LE | base64 -w0)
# shellcheck disable=SC2086
ldapmodify $ADM -a >/dev/null <<LDIF
dn: OU=Quarantine,$AD_BASE
objectClass: organizationalUnit

dn: CN=Alice Admin,CN=Users,$AD_BASE
objectClass: user
sAMAccountName: alice
userPrincipalName: alice@cordon.test
unicodePwd:: $B64
userAccountControl: 512

dn: CN=Bob,CN=Users,$AD_BASE
objectClass: user
sAMAccountName: bob
userPrincipalName: bob@cordon.test
unicodePwd:: $B64
userAccountControl: 512
LDIF
# shellcheck disable=SC2086
ldapmodify $ADM >/dev/null <<LDIF
dn: CN=Domain Admins,CN=Users,$AD_BASE
changetype: modify
add: member
member: CN=Alice Admin,CN=Users,$AD_BASE
-

dn: CN=Backup Operators,CN=Builtin,$AD_BASE
changetype: modify
add: member
member: CN=Alice Admin,CN=Users,$AD_BASE
-
LDIF
echo "alice (a Domain Admin and Backup Operator) and bob; both can log in"

show_alice() {
	# shellcheck disable=SC2086
	ldapsearch -LLL -o ldif-wrap=no $ADM -b "$AD_BASE" \
	    '(sAMAccountName=alice)' userAccountControl memberOf pwdLastSet |
	    grep -v -e '^$' -e '^#' | sed 's/^/    /'
	if ldapsearch -x -H "$AD_URI" -D alice@cordon.test -w "$USER_PW" \
	    -b '' -s base 1.1 >/dev/null 2>&1; then
		echo "    bind as alice with her old password: SUCCEEDS"
	else
		echo "    bind as alice with her old password: REFUSED"
	fi
}
step "alice before containment (as the domain Administrator reads her)"
show_alice

step "write the agent's config and start the agent"
mkdir -p "$W/vault"
chmod 700 "$W/vault"
cat >"$W/cordon.conf" <<CONF
agent: { socket = "$W/sock"; store = "$W/cordon.db";
	secrets_dir = "$W/vault"; approval_ttl = "1h"; };
customers = ( {
	name = "acme";
	protected = [ "breakglass" ];
	protected_groups = [ "CN=Enterprise Admins,CN=Users,$AD_BASE" ];
	roles = (
		{ user = "$OP"; role = "operator"; },
		{ user = "$LEAD"; role = "lead"; },
		{ user = "root"; role = "auditor"; }
	);
	targets = ( {
		name = "corp-ad"; type = "ldap"; flavour = "ad";
		uri = "$AD_URI"; ca_file = "$AD_CA";
		bind_dn = "$AD_SVC_DN"; password_file = "$W/ad/svc.pw";
		base_dn = "$AD_BASE"; user_attr = "sAMAccountName";
		quarantine_ou = "OU=Quarantine,$AD_BASE";
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

step "the operator opens an incident"
as $OP incident open --customer acme --title "alice's credentials phished" \
    | tee "$W/incident"
INC=$(sed -n "s/^\(INC-[0-9]*-[0-9]*\).*/\1/p" "$W/incident")

step "plan: read-only; Administrator is refused (protected)"
as $OP plan "$RUNBOOK" --incident "$INC" --set accounts=alice,Administrator \
    || true

step "run: every action waits for a lead's approval"
as $OP run "$RUNBOOK" --incident "$INC" --set accounts=alice || true
as $OP queue

step "four-eyes: the operator cannot approve; the lead can"
as $OP approve --all-for "$INC" || echo "(refused, exit $?)"
as $LEAD approve --all-for "$INC"
as $OP wait 1 --timeout 300
as $OP queue --all

step "alice after containment (read back without cordon)"
show_alice
# shellcheck disable=SC2086
ldapsearch -LLL -o ldif-wrap=no $ADM -b "OU=Quarantine,$AD_BASE" \
    '(sAMAccountName=alice)' 1.1 | grep '^dn:' | sed 's/^/    now at /'

step "the journal: every request, approval, change and read-back"
as root journal show --incident "$INC"
mkdir -p "$OUT"
"$CORDON" --socket "$W/sock" journal export -o "$OUT/journal.export"
step "verify the exported journal without the agent"
"$CORDON" journal verify "$OUT/journal.export"
echo
echo "demo-ad done in $(($(date +%s) - T0))s; the exported journal is" \
    "$OUT/journal.export"
