#!/bin/sh
# Print LDIF for N bulk test users uid=u00001..uNNNNN under ou=people,BASE,
# each with userPassword 'pw'.  Used by slapd-start.sh to fill a directory
# for scale tests.
set -eu

usage() {
	echo "usage: ldap-gen-users.sh N [BASE]  (0 <= N <= 99999)" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
n=$1
base=${2:-dc=example,dc=test}
case $n in '' | *[!0-9]*) usage ;; esac
# uids are fixed-width so that tests can sort and slice them as strings
[ ${#n} -le 5 ] || usage

# One awk process: a shell loop costs ~1 s per 10,000 users, awk ~10 ms.
awk -v n="$n" -v b="$base" 'BEGIN {
	for (i = 1; i <= n; i++) {
		u = sprintf("u%05d", i)
		printf "dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\n" \
		    "uid: %s\ncn: %s\nsn: %s\nuserPassword: pw\n\n", u, b, u, u, u
	}
}'
