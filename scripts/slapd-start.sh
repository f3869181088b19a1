#!/bin/sh
# Start a throwaway slapd 2.5 with the ppolicy overlay for cordon tests:
# cn=config in DIR/slapd.d, mdb in DIR/db, listening on 127.0.0.1:PORT
# only.  Writes DIR/slapd.pid, DIR/env (sourceable) and DIR/svc.pw (0600).
# Stop it with slapd-stop.sh DIR.  See RECIPES-core.md section 1.
# SLAPD_NOSYNC=1 trades durability for speed; the default is durable, as a
# production directory would be.
set -eu

usage() {
	echo "usage: slapd-start.sh DIR PORT [NUSERS]" >&2
	echo "       (1024 <= PORT <= 65535, NUSERS <= 99999)" >&2
	exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
D=$1 P=$2 N=${3:-0}
case $P in '' | *[!0-9]*) usage ;; esac
case $N in '' | *[!0-9]*) usage ;; esac
if [ "$P" -lt 1024 ] || [ "$P" -gt 65535 ]; then usage; fi
# ldap-gen-users.sh refuses more, and its failure would be lost in a pipe.
if [ ${#N} -gt 5 ]; then usage; fi
case $D in /*) ;; *) D=$(pwd)/$D ;; esac	# slapd.d stores the db path
here=$(cd "$(dirname "$0")" && pwd)
B=dc=example,dc=test
H=ldap://127.0.0.1:$P

# kill -0 also succeeds on a zombie, and init may reap one late.
alive() {
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}
# Wiping the db under a live slapd would corrupt it, not restart it.
if [ -s "$D/slapd.pid" ] && alive "$(cat "$D/slapd.pid")"; then
	echo "slapd-start: '$D' is in use by pid $(cat "$D/slapd.pid")" >&2
	exit 1
fi
# Probes time out: a silent listener on PORT would hang them for ever.
probe() { LDAPTIMEOUT=1 ldapwhoami -x -H "$H" >/dev/null 2>&1; }
# Another server on PORT would answer our readiness probe.
if probe; then
	echo "slapd-start: port $P already answers LDAP" >&2
	exit 1
fi
rm -rf "$D/slapd.d" "$D/db"
rm -f "$D/config.ldif" "$D/slapd.log" "$D/slapd.pid" "$D/env" "$D/svc.pw"
mkdir -p "$D/slapd.d" "$D/db"

ok=
trap '[ -n "$ok" ] || { tail -n 20 "$D/slapd.log" >&2 2>/dev/null;
	"$here/slapd-stop.sh" "$D"; }' EXIT
trap 'exit 1' HUP INT TERM	# so that the EXIT trap cleans up

# An empty line would end the entry early (RECIPES-core.md pitfalls), so
# the optional line carries its own newline.
pw=$(slappasswd -s secret)
nosync=
[ "${SLAPD_NOSYNC:-0}" = 1 ] && nosync='olcDbNoSync: TRUE
'
cat >"$D/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={1}mdb,cn=config
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $B
olcDbDirectory: $D/db
olcDbMaxSize: 1073741824
olcDbIndex: objectClass eq
olcDbIndex: uid eq
${nosync}olcRootDN: cn=admin,$B
olcRootPW: $pw
olcAccess: {0}to attrs=userPassword by dn.exact="cn=svc,$B" write
  by anonymous auth by self write by * none
olcAccess: {1}to attrs=pwdAccountLockedTime by dn.exact="cn=svc,$B" write
  by * read
olcAccess: {2}to * by dn.exact="cn=svc,$B" write by * read

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy
olcPPolicyHashCleartext: TRUE
olcPPolicyDefault: cn=policy,$B
EOF
slapadd -q -n0 -F "$D/slapd.d" -l "$D/config.ldif"
slaptest -Q -u -F "$D/slapd.d"

# Entries without a hashed password go in offline: for 10,000 users
# slapadd -q took 0.2 s, ldapadd to a durable slapd 13 s.  Bulk users must
# be in the same run as ou=people, since mdb cannot add an orphan.  The
# policy is here because adding it online logs "policy subentry missing".
{
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\n' "$B"
	printf 'o: Example\n\n'
	for ou in people groups; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\n' $ou "$B"
		printf 'ou: %s\n\n' $ou
	done
	printf 'dn: cn=policy,%s\nobjectClass: device\nobjectClass: pwdPolicy\n' "$B"
	printf 'pwdAttribute: userPassword\npwdLockout: TRUE\n\n'
	"$here/ldap-gen-users.sh" "$N" "$B"
} | slapadd -q -F "$D/slapd.d" -b "$B"

# -d keeps slapd in the foreground, so $! is its pid; level "none" logs
# only errors, such as a failed bind, where -d 0 logs nothing at all.
# No fd of ours may stay open in it, or a caller reading our output would
# never see EOF.
slapd -d none -h "$H/" -F "$D/slapd.d" </dev/null >"$D/slapd.log" 2>&1 &
pid=$!
echo "$pid" >"$D/slapd.pid"
end=$(($(date +%s) + 10))
until probe; do
	if [ "$(date +%s)" -ge $end ] || ! alive "$pid"; then
		echo "slapd-start: slapd on port $P did not come up" >&2
		exit 1
	fi
	sleep 0.05
done

# These go through slapd so that ppolicy hashes their passwords, as in
# production; the bulk users keep cleartext 'pw' (slapadd bypasses ppolicy).
{
	printf 'dn: cn=svc,%s\nobjectClass: inetOrgPerson\n' "$B"
	printf 'sn: svc\nuserPassword: svcpw\n\n'
	for u in alice bob carol dave breakglass; do
		printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\n' $u "$B"
		printf 'uid: %s\ncn: %s\nsn: %s\nuserPassword: %spw\n\n' $u $u $u $u
	done
} | ldapadd -x -H "$H" -D "cn=admin,$B" -w secret >/dev/null

(umask 077 && printf svcpw >"$D/svc.pw")
cat >"$D/env" <<EOF
LDAP_URI='$H'
LDAP_BASE='$B'
LDAP_ADMIN_DN='cn=admin,$B'
LDAP_ADMIN_PW='secret'
LDAP_SVC_DN='cn=svc,$B'
LDAP_SVC_PW_FILE='$D/svc.pw'
SLAPD_DIR='$D'
SLAPD_PID=$pid
EOF
ok=1
