#!/bin/sh
# make demo: the "compromised account" runbook end to end on a throwaway
# environment built here, then the breach register and its audit bundle.
#
#   - a slapd with a few users on 127.0.0.1 (the directory);
#   - three network namespaces (scripts/netns-gw-start.sh): a client, a
#     Linux gateway running sshd and nftables, and a server "web1" behind
#     it; the demo starts a second sshd inside web1, reached by the agent
#     through the gateway (the agent's own path, on the allow list);
#   - a local HTTPS server speaking OPNsense's alias API (the test
#     server tests/it/fake_vendors.py, with its own CA; TLS verified);
#   - a directory-snapshot tree on web1 with a snapshot from before the
#     incident, then files "encrypted" by ransomware, then a snapshot
#     after;
#   - local users: an operator who requests, a lead who approves, the
#     agent's SSH login (sudo) and "webuser", the compromised account.
#
# Then: open an incident, plan, run, four-eyes approval, and show with
# real logins, pings and hashes what changed: the directory account is
# locked, the old password and the attacker's key no longer log in and
# his session is gone, the client cannot reach web1 (the agent still
# can), and the pre-incident file is back in a staging copy.  Undo one
# lock, fill in the register, export the report and the audit bundle
# and verify it with standard tools only.  Everything started is
# stopped again; build/demo/ keeps the journal export, the reports and
# the bundle.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CORDON=${CORDON_BIN:-$top/build/cordon}
PORT=${DEMO_PORT:-38987}
FAKE_PORT=${DEMO_FAKE_PORT:-38988}
NS=cddm				# namespaces cddmc, cddmg, cddmh
NET=216				# 10.216.x: the tests use 10.213.x
WEB1=10.$NET.121.2		# web1, behind the gateway
GW=10.$NET.131.1		# the gateway's sshd, on the agent's path
AGENT_ADDR=10.$NET.131.2	# the agent's own address on that path
LOCK=/run/cordon-demo.pid	# one demo at a time
OUT=$top/build/demo
OP=cordon-demo-op
LEAD=cordon-demo-lead
SSHU=cordon-demo-agent		# cordon's SSH login on web1 and the gateway
VICTIM=cordon-demo-web		# the compromised local account on web1
RUNBOOK=$top/config/runbooks/compromised-account.runbook

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates local" \
    "users and network namespaces)" >&2; exit 2; }
[ -x "$CORDON" ] || { echo "demo: build first (make)" >&2; exit 2; }
"$here/reserve-ports.sh"	# its ports lie in the ephemeral range
# A demo killed before its cleanup ran (SIGKILL, a machine stopped) leaves
# its namespaces behind; they are ours by name, so remove them, unless a
# live demo owns them.
if [ -s $LOCK ] && kill -0 "$(cat $LOCK)" 2>/dev/null; then
	echo "demo: another demo is running (pid $(cat $LOCK))" >&2
	exit 2
fi
echo $$ >$LOCK
if ip netns list | grep -q "^$NS[cgh]\( \|$\)"; then
	echo "demo: removing the network of an interrupted demo"
	"$here/netns-gw-stop.sh" /nonexistent "$NS" >/dev/null
fi

W=$(mktemp -d /tmp/cordon-demo.XXXXXX)
chmod 711 "$W"
AGENT_PID= FAKE_PID= SESS_PID= made_users= net_up=
cleanup() {
	set +e
	for p in $AGENT_PID $FAKE_PID $SESS_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -s "$W/web1/sshd.pid" ] && "$here/stop-pidfile.sh" \
	    "$W/web1/sshd.pid" >/dev/null 2>&1
	[ -n "$net_up" ] && "$here/netns-gw-stop.sh" "$W/net" "$NS" \
	    >/dev/null 2>&1
	"$here/slapd-stop.sh" "$W/ldap" >/dev/null 2>&1
	rm -f "/etc/sudoers.d/$SSHU"
	for u in $made_users; do userdel -f -r "$u" 2>/dev/null; done
	rm -rf "$W"
	rm -f $LOCK
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# Run cordon as a local user: the agent knows callers only by their uid.
as() {
	u=$1; shift
	echo "[$u]\$ cordon $*"
	setpriv --reuid="$u" --regid="$u" --init-groups \
	    env CORDON_SOCKET="$W/sock" "$CORDON" "$@"
}
adduser_demo() {	# NAME SHELL [home]
	id "$1" >/dev/null 2>&1 && return 0
	useradd ${3:+-m} -s "$2" "$1"
	made_users="$made_users $1"
}
ok_or_not() {	# LABEL COMMAND...: prints whether the command succeeded
	l=$1; shift
	if "$@" >/dev/null 2>&1; then echo "  $l: yes"; else echo "  $l: NO"; fi
}

adduser_demo $OP /usr/sbin/nologin
adduser_demo $LEAD /usr/sbin/nologin
adduser_demo $SSHU /bin/sh home
adduser_demo $VICTIM /bin/sh home

step "start a throwaway slapd (ppolicy, pwdLockout: TRUE) on 127.0.0.1:$PORT"
"$here/slapd-start.sh" "$W/ldap" "$PORT" >/dev/null
. "$W/ldap/env"
echo "directory users: alice bob carol dave breakglass"

step "build the network: client -> gateway (nftables, sshd) -> web1"
net_up=1
"$here/netns-gw-start.sh" "$W/net" "$NS" $NET >/dev/null
# The agent reaches web1 through the gateway, as a management host would.
ip route add 10.$NET.121.0/24 via $GW
# cordon's SSH login: key only, sudo (the verbs run chpasswd, usermod,
# nft...; restrict the commands in production).
ssh-keygen -q -t ed25519 -N '' -C cordon-demo -f "$W/agent_key"
h=$(getent passwd $SSHU | cut -d: -f6)
install -d -m 700 -o $SSHU "$h/.ssh"
install -m 600 -o $SSHU "$W/agent_key.pub" "$h/.ssh/authorized_keys"
printf '%s ALL=(ALL) NOPASSWD: ALL\n' $SSHU >"$W/sudoers"
install -m 440 "$W/sudoers" "/etc/sudoers.d/$SSHU"
# web1's own sshd, inside its namespace, with its own pinned host key.
mkdir -p "$W/web1"
ssh-keygen -q -t ed25519 -N '' -C cordon-demo-web1 -f "$W/web1/hostkey"
cat >"$W/web1/sshd_config" <<CFG
ListenAddress $WEB1:22
HostKey $W/web1/hostkey
PidFile $W/web1/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
StrictModes yes
CFG
/usr/sbin/sshd -t -f "$W/web1/sshd_config"
ip netns exec ${NS}h /usr/sbin/sshd -f "$W/web1/sshd_config" \
    -E "$W/web1/sshd.log"
printf '%s %s\n' $WEB1 "$(cut -d' ' -f1,2 "$W/web1/hostkey.pub")" \
    >"$W/web1/known_hosts"
i=0
until nc -z -w1 $WEB1 22 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "web1 sshd not up" >&2; exit 1; }
	sleep 0.1
done
echo "client 10.$NET.111.2, gateway $GW, web1 $WEB1, agent $AGENT_ADDR"

step "the compromised account on web1: a password and the attacker's key"
printf '%s:%s\n' $VICTIM 'Summer2026!' | chpasswd
ssh-keygen -q -t ed25519 -N '' -C attacker -f "$W/attacker_key"
h=$(getent passwd $VICTIM | cut -d: -f6)
install -d -m 700 -o $VICTIM "$h/.ssh"
install -m 600 -o $VICTIM "$W/attacker_key.pub" "$h/.ssh/authorized_keys"
SSHO="-o ConnectTimeout=5 -o UserKnownHostsFile=$W/web1/known_hosts -o StrictHostKeyChecking=yes"
pw_login() {
	SSHPASS=$1 sshpass -e ssh $SSHO -o PubkeyAuthentication=no \
	    -o NumberOfPasswordPrompts=1 $VICTIM@$WEB1 true
}
key_login() {
	ssh $SSHO -o BatchMode=yes -o IdentitiesOnly=yes \
	    -i "$W/attacker_key" $VICTIM@$WEB1 true
}
ok_or_not "old password logs in" pw_login 'Summer2026!'
ok_or_not "attacker's key logs in" key_login
# The attacker's live session, from the client namespace.
ip netns exec ${NS}c ssh $SSHO -o BatchMode=yes -o IdentitiesOnly=yes -i "$W/attacker_key" \
    $VICTIM@$WEB1 sleep 600 >/dev/null 2>&1 &
SESS_PID=$!
i=0
until pgrep -u $VICTIM -x sleep >/dev/null; do
	i=$((i + 1)); [ $i -lt 50 ] || { echo "no session" >&2; exit 1; }
	sleep 0.1
done
echo "  attacker's session open: yes (pid $SESS_PID)"
ok_or_not "client pings web1" ip netns exec ${NS}c ping -c1 -W1 -q $WEB1

step "files on web1: a snapshot before the incident, ransomware, one after"
D=$W/files
mkdir -p "$D/data/shared" "$D/snaps"
printf 'id,name,email\n1,Ada,ada@example.test\n' \
    >"$D/data/shared/customers.csv"
pre=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
occurred=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
post=$(date -u -d '-5 minutes' +%Y-%m-%dT%H:%M:%SZ)
cp -a "$D/data" "$D/snaps/$pre"
printf 'ENCRYPTED BY RANSOMWARE. Pay 1 BTC.\n' >"$D/data/shared/customers.csv"
cp -a "$D/data" "$D/snaps/$post"
chown -R $SSHU "$D"
echo "snapshots: $pre (before the incident) and $post (after)"
sha256sum "$D/snaps/$pre/shared/customers.csv" | sed 's/ .*/  (original)/'
sha256sum "$D/data/shared/customers.csv" | sed 's/ .*/  (now: encrypted)/'

step "start the fake OPNsense API on 127.0.0.1:$FAKE_PORT (TLS, own CA)"
mkdir -p "$W/fake"
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/fw.key"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/fw.secret"
umask 022
python3 "$top/tests/it/fake_vendors.py" --dir "$W/fake" --port $FAKE_PORT \
    --key-file "$W/fw.key" --secret-file "$W/fw.secret" \
    >"$W/fake.log" 2>&1 &
FAKE_PID=$!
i=0
until [ -e "$W/fake/fake.ready" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || { cat "$W/fake.log" >&2; exit 1; }
	sleep 0.1
done

step "write the agent's config and start the agent"
cat >"$W/cordon.conf" <<CONF
agent: {
	socket = "$W/sock"; store = "$W/cordon.db"; approval_ttl = "1h";
	secrets_dir = "$W/vault"; keys_dir = "$W/keys";
};
customers = ( {
	name = "acme";
	protected = [ "breakglass" ];
	secret_role = "lead";
	roles = (
		{ user = "$OP"; role = "operator"; },
		{ user = "$LEAD"; role = "lead"; },
		{ user = "root"; role = "auditor"; }
	);
	targets = (
		{ name = "corp-ldap"; type = "ldap"; flavour = "openldap";
		  uri = "$LDAP_URI"; bind_dn = "$LDAP_SVC_DN";
		  password_file = "$LDAP_SVC_PW_FILE";
		  base_dn = "ou=people,$LDAP_BASE";
		  policy_dn = "cn=policy,$LDAP_BASE"; },
		{ name = "web1"; type = "ssh"; host = "$WEB1"; user = "$SSHU";
		  key_file = "$W/agent_key"; known_hosts = "$W/web1/known_hosts";
		  sudo = true; timeout = 10; },
		{ name = "web1-files"; type = "snapshot"; backend = "dir";
		  host = "$WEB1"; user = "$SSHU"; key_file = "$W/agent_key";
		  known_hosts = "$W/web1/known_hosts"; timeout = 30;
		  root = "$D/data"; snapshots_dir = "$D/snaps"; },
		{ name = "gw"; type = "firewall"; provider = "nft";
		  host = "$GW"; user = "$SSHU"; key_file = "$W/agent_key";
		  known_hosts = "$W/net/known_hosts"; sudo = true;
		  timeout = 10; allow = [ "$AGENT_ADDR" ]; },
		{ name = "edge-fw"; type = "firewall"; provider = "opnsense";
		  profile_dir = "$top/config/providers";
		  base_url = "https://127.0.0.1:$FAKE_PORT";
		  ca_file = "$W/fake/ca.pem"; key_file = "$W/fw.key";
		  secret_file = "$W/fw.secret"; }
	);
} );
CONF
chmod 600 "$W/cordon.conf"
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
as $OP incident update "$INC" --set occurred_from="$occurred"

SET="--set accounts=alice,bob,carol --set users=$VICTIM --set hosts=$WEB1"
SET="$SET --set files=shared/customers.csv"
step "plan: read-only, every action's target, current state and exact change"
# shellcheck disable=SC2086
as $OP plan "$RUNBOOK" --incident "$INC" $SET

step "run: the actions wait for a lead's approval"
# shellcheck disable=SC2086
as $OP run "$RUNBOOK" --incident "$INC" $SET || true
as $OP queue

step "four-eyes: the operator cannot approve; the lead can"
as $OP approve --all-for "$INC" || echo "(refused, exit $?)"
as $LEAD show A1
as $LEAD approve --all-for "$INC"
as $OP wait 1 --timeout 90 || true
# Steps approved after earlier ones settled (list, restore) need nothing
# more; show where everything stands.
as $OP queue --run 1 --all

step "read everything back from the targets themselves"
echo "directory (a bind with each user's password):"
for u in alice bob carol dave; do
	if ldapwhoami -x -H "$LDAP_URI" -D "uid=$u,ou=people,$LDAP_BASE" \
	    -w "${u}pw" >/dev/null 2>&1; then
		echo "  $u: can log in"
	else
		echo "  $u: LOCKED (bind refused)"
	fi
done
echo "web1:"
ok_or_not "old password logs in" pw_login 'Summer2026!'
ok_or_not "attacker's key logs in" key_login
if kill -0 $SESS_PID 2>/dev/null; then
	echo "  attacker's session open: STILL OPEN"
else
	echo "  attacker's session open: no (ended)"
fi
NEWPW=$(setpriv --reuid=$LEAD --regid=$LEAD --init-groups env \
    CORDON_SOCKET="$W/sock" "$CORDON" secret show A4 2>/dev/null || true)
[ -n "$NEWPW" ] && ok_or_not "new password (from cordon secret show A4)" \
    pw_login "$NEWPW"
NEWPW=
echo "network:"
ok_or_not "client pings web1" ip netns exec ${NS}c ping -c1 -W1 -q $WEB1
ok_or_not "agent reaches web1's sshd" nc -z -w2 $WEB1 22
ip netns exec ${NS}g nft list set inet cordon quarantine4 | grep elements
# The credentials go to curl in a 0600 file, never in its argv.
(umask 077; printf 'user = "%s:%s"\n' "$(cat "$W/fw.key")" \
    "$(cat "$W/fw.secret")" >"$W/curl-auth")
curl -s --cacert "$W/fake/ca.pem" -K "$W/curl-auth" \
    "https://127.0.0.1:$FAKE_PORT/api/firewall/alias_util/list/cordon_quarantine"
echo
echo "files:"
for f in "$D"/data/shared/customers.csv.cordon-restore-*; do
	[ -e "$f" ] || { echo "  no staging copy"; break; }
	echo "  staging copy: ${f#"$D"/data/}"
	sha256sum "$f" | sed 's/ .*/  (restored)/'
done
sha256sum "$D/snaps/$pre/shared/customers.csv" | sed 's/ .*/  (original)/'

step "asking for the snapshot taken after the incident is refused"
cat >"$W/post.runbook" <<RB
name = "restore-post-incident";
params = ( { name = "files"; type = "list"; required = true; } );
steps = ( { name = "restore"; verb = "snapshot.restore";
  target = "web1-files"; foreach = "\${files}";
  args = { path = "\${item}"; snapshot = "$post"; mode = "staging"; };
  approval = "required"; } );
RB
chmod 644 "$W/post.runbook"
as $OP plan "$W/post.runbook" --incident "$INC" \
    --set files=shared/customers.csv | tee "$W/post.plan"
grep -q "not before the incident" "$W/post.plan" ||
    { echo "demo: the post-incident snapshot was NOT refused" >&2; exit 1; }

step "undo carol's lock: an action too, approved by the lead"
as $OP undo A3
UNDO=$(as $OP queue | sed -n 's/^\(A[0-9]*\) .*undo.*/\1/p' | head -n1)
as $LEAD approve "${UNDO:-A13}"
as $OP wait 1 --timeout 30 || true
ldapwhoami -x -H "$LDAP_URI" -D "uid=carol,ou=people,$LDAP_BASE" -w carolpw \
    >/dev/null && echo "carol: can log in again"

step "the breach register: facts, risk, measures and the Art. 33 clock"
as $OP incident update "$INC" --set type=confidentiality \
    --set description="phished credentials used on web1 and the directory" \
    --set cause="phishing e-mail" --set vector="stolen password and SSH key" \
    --set systems="corp-ldap, web1" --set data_categories="contact data" \
    --set approx_subjects=1200 --set numbers_estimated=true --set risk=risk \
    --set risk_rationale="customer contact data, no special categories" \
    --set contained_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --set authority_decision=notify \
    --set authority_reasoning="risk to customers' rights cannot be ruled out" \
    --set aware_at="$(TZ=Europe/Berlin date -d '-30 minutes' +%Y-%m-%dT%H:%M)[Europe/Berlin]" \
    --set aware_basis="the phished user reported it; logs confirmed the logins" \
    --set dpo_name="Dana Privacy" --set dpo_email=dpo@acme.example \
    --set consequences="targeted phishing of customers with their contact data" \
    --set preventive_measures="phishing-resistant MFA for all staff accounts" \
    --set advice_to_subjects="distrust e-mails asking for payments or passwords"
as $OP incident show "$INC"
as $OP incident due --hours 96 || true

step "the journal: every request, approval, change and read-back"
as root journal show --incident "$INC" --limit 25
rm -rf "$OUT"
mkdir -p "$OUT"
"$CORDON" --socket "$W/sock" journal export -o "$OUT/journal.export"
"$CORDON" --socket "$W/sock" incident report "$INC" --format md \
    -o "$OUT/report.md"
"$CORDON" --socket "$W/sock" incident report "$INC" --format html \
    -o "$OUT/report.html"
"$CORDON" --socket "$W/sock" journal export --incident "$INC" "$OUT/audit"

step "verify without the agent: cordon, then standard tools only"
"$CORDON" journal verify "$OUT/journal.export"
"$CORDON" journal verify "$OUT/audit"
"$here/verify-bundle.sh" "$OUT/audit"
echo
echo "demo done. In $OUT: journal.export, report.md, report.html and the"
echo "audit bundle audit/ (its README says how an auditor checks it)."
