#!/bin/sh
# Start a throwaway Samba AD DC (realm CORDON.TEST) for cordon tests,
# inside its own network namespace so its ports never collide with
# anything: provisioned into DIR, reachable from the root namespace at
# ldaps://IP only (a veth pair NETNS_NAMEh -- NETNS_NAMEn, point to point
# 10.77.0.1 <-> IP).  TLS uses a CA and server certificate made here
# (subjectAltName IP:IP), so clients verify it; nothing turns that off.
#
# Writes DIR/samba.pid, DIR/env (sourceable: AD_URI AD_IP AD_BASE AD_CA
# AD_ADMIN AD_ADMIN_PW AD_SVC AD_SVC_DN AD_NETNS AD_SMBCONF) and DIR/svc.pw
# (0600, the password of CN=cordon-svc, a Domain Admin cordon binds as).
# Stop it with samba-ad-stop.sh DIR.  See RECIPES-more.md section 1.
set -eu

usage() {
	echo "usage: samba-ad-start.sh DIR NETNS_NAME IP" >&2
	echo "       (NETNS_NAME: cdad* or cdab*, at most 14 characters;" >&2
	echo "        IP: 10.77.0.N, 2 <= N <= 254)" >&2
	exit 2
}
[ $# -eq 3 ] || usage
D=$1 NS=$2 IP=$3
case $NS in cdad* | cdab*) ;; *) usage ;; esac
case $NS in *[!a-z0-9-]*) usage ;; esac
[ ${#NS} -le 14 ] || usage
case $IP in 10.77.0.*) ;; *) usage ;; esac
last=${IP#10.77.0.}
case $last in '' | *[!0-9]*) usage ;; esac
if [ "$last" -lt 2 ] || [ "$last" -gt 254 ]; then usage; fi
case $D in /*) ;; *) D=$(pwd)/$D ;; esac
here=$(cd "$(dirname "$0")" && pwd)

REALM=CORDON.TEST DOMAIN=CORDON BASE=DC=cordon,DC=test
ADMIN_PW='Adm1n!Pass-2024'
SVC_PW='Svc!Cordon-2024x'
HV=${NS}h NV=${NS}n
START_WAIT_S=30

# A namespace left by a killed run is empty: reap it; a live one is not.
"$here/netns-reap.sh" -l "$HV" "$NS" || {
	echo "samba-ad-start: network namespace '$NS' is in use" >&2
	exit 1
}
if [ -s "$D/samba.pid" ] && kill -0 "$(cat "$D/samba.pid")" 2>/dev/null
then
	echo "samba-ad-start: '$D' is in use by pid $(cat "$D/samba.pid")" >&2
	exit 1
fi
for x in samba samba-tool openssl ldapsearch ip; do
	command -v "$x" >/dev/null 2>&1 || {
		echo "samba-ad-start: '$x' not installed" \
		    "(scripts/install-deps.sh)" >&2
		exit 1
	}
done

mkdir -p "$D"
chmod 0711 "$D"
rm -rf "$D/etc" "$D/private" "$D/state" "$D/cache" "$D/bind-dns" \
    "$D/tls" "$D/run" "$D/log" "$D/ncalrpc" "$D/ntp_signd" "$D/winbindd"
rm -f "$D/env" "$D/svc.pw" "$D/samba.pid" "$D/samba.out"
# Written before anything is created, so stop finds what to remove.
printf 'AD_NETNS=%s\nAD_HVETH=%s\n' "$NS" "$HV" >"$D/netns"

ok=
trap '[ -n "$ok" ] || { echo "samba-ad-start: failed" >&2;
	tail -n 20 "$D/samba.out" >&2 2>/dev/null;
	"$here/samba-ad-stop.sh" "$D"; }' EXIT
trap 'exit 1' HUP INT TERM

t0=$(date +%s)
samba-tool domain provision --targetdir="$D" --realm=$REALM \
    --domain=$DOMAIN --adminpass="$ADMIN_PW" --use-rfc2307 \
    --server-role=dc --dns-backend=SAMBA_INTERNAL --host-name=dc1 \
    --host-ip="$IP" >"$D/provision.log" 2>&1 || {
	tail -n 20 "$D/provision.log" >&2
	exit 1
}

# Own CA and a server certificate that names the address clients use.
mkdir -p "$D/tls"
(
	cd "$D/tls"
	umask 077
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
	    -subj "/CN=cordon test CA" -keyout ca.key -out ca.pem \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=dc1.cordon.test" \
	    -keyout key.pem -out req.pem
	printf 'subjectAltName=DNS:dc1.cordon.test,IP:%s\n' "$IP" >ext.cnf
	printf 'extendedKeyUsage=serverAuth\n' >>ext.cnf
	openssl x509 -req -in req.pem -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -sha256 -extfile ext.cnf -out cert.pem
	chmod 600 key.pem ca.key
	chmod 644 ca.pem cert.pem
) >"$D/tls.log" 2>&1 || { cat "$D/tls.log" >&2; exit 1; }

# Keep every path inside DIR (the provisioned file points at /var, /run).
mkdir -p "$D/run" "$D/log" "$D/cache"
sed -i -e '/^\tdns forwarder = /d' -e '/^\tlog file = /d' -e "/^\[global\]/a\\
\tpid directory = $D/run\\
\tlog file = $D/log/log.%m\\
\tncalrpc dir = $D/ncalrpc\\
\tntp signd socket directory = $D/ntp_signd\\
\twinbindd socket directory = $D/winbindd\\
\tinterfaces = lo $NV\\
\tbind interfaces only = yes\\
\tdns update command = /bin/true\\
\ttls enabled = yes\\
\ttls keyfile = $D/tls/key.pem\\
\ttls certfile = $D/tls/cert.pem\\
\ttls cafile = $D/tls/ca.pem" "$D/etc/smb.conf"

# The bind account cordon uses: a Domain Admin that is not Administrator.
samba-tool user create cordon-svc "$SVC_PW" -s "$D/etc/smb.conf" \
    -H "$D/private/sam.ldb" >>"$D/provision.log" 2>&1
samba-tool group addmembers "Domain Admins" cordon-svc \
    -s "$D/etc/smb.conf" -H "$D/private/sam.ldb" >>"$D/provision.log" 2>&1
(umask 077; printf '%s\n' "$SVC_PW" >"$D/svc.pw")
(umask 077; printf '%s\n' "$ADMIN_PW" >"$D/admin.pw")
t1=$(date +%s)

ip netns add "$NS"
ip link add "$HV" type veth peer name "$NV"
ip link set "$NV" netns "$NS"
ip addr add 10.77.0.1 peer "$IP/32" dev "$HV"
ip link set "$HV" up
ip netns exec "$NS" sh -c "ip addr add $IP peer 10.77.0.1/32 dev $NV &&
    ip link set $NV up && ip link set lo up"

# ip netns exec execs samba, so $! is samba's root process.
ip netns exec "$NS" samba -i -s "$D/etc/smb.conf" </dev/null \
    >"$D/samba.out" 2>&1 &
echo $! >"$D/samba.pid"

export LDAPTLS_CACERT="$D/tls/ca.pem"
i=0
until LDAPTIMEOUT=2 ldapsearch -x -o nettimeout=2 -H "ldaps://$IP" \
    -D "Administrator@cordon.test" -w "$ADMIN_PW" -b '' -s base 1.1 \
    >/dev/null 2>&1; do
	if ! kill -0 "$(cat "$D/samba.pid")" 2>/dev/null; then
		echo "samba-ad-start: samba exited" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ $i -gt $((START_WAIT_S * 5)) ]; then
		echo "samba-ad-start: no ldaps bind after ${START_WAIT_S}s" >&2
		exit 1
	fi
	sleep 0.2
done
t2=$(date +%s)

cat >"$D/env" <<EOF
AD_URI=ldaps://$IP
AD_IP=$IP
AD_BASE=$BASE
AD_CA=$D/tls/ca.pem
AD_ADMIN=Administrator@cordon.test
AD_ADMIN_PW='$ADMIN_PW'
AD_SVC=cordon-svc
AD_SVC_DN=CN=cordon-svc,CN=Users,$BASE
AD_NETNS=$NS
AD_SMBCONF=$D/etc/smb.conf
EOF
ok=1
echo "samba-ad-start: up at ldaps://$IP (provision $((t1 - t0))s," \
    "start $((t2 - t1))s)" >&2
