#!/bin/sh
# Start a throwaway CrowdSec 1.4 Local API for cordon tests: config, data,
# sqlite db and TLS material under DIR, listening on https://127.0.0.1:PORT
# only, no Central API, no agent (no acquisition).  Registers a machine
# (watcher) and a bouncer and writes their credentials to files (0600):
#   DIR/machine.id DIR/machine.pw  the watcher's login and password
#   DIR/bouncer.key                the bouncer's API key
#   DIR/tls/ca.pem                 the CA that signed the LAPI's certificate
#   DIR/config.yaml                for cscli -c (decisions, alerts, ...)
#   DIR/crowdsec.pid               stop it with crowdsec-stop.sh DIR
# See RECIPES-more.md section 5.
set -eu

usage() {
	echo "usage: crowdsec-start.sh DIR PORT (1024 <= PORT <= 65535)" >&2
	exit 2
}
[ $# -eq 2 ] || usage
D=$1 P=$2
case $P in '' | *[!0-9]*) usage ;; esac
if [ "$P" -lt 1024 ] || [ "$P" -gt 65535 ]; then usage; fi
case $D in /*) ;; *) D=$(pwd)/$D ;; esac	# config.yaml stores the paths
here=$(cd "$(dirname "$0")" && pwd)
U=https://127.0.0.1:$P

alive() {
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}
if [ -s "$D/crowdsec.pid" ] && alive "$(cat "$D/crowdsec.pid")"; then
	echo "crowdsec-start: '$D' is in use by pid $(cat "$D/crowdsec.pid")" >&2
	exit 1
fi
# The HTTP code of an unauthenticated request, 000 when nothing answers.
probe() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
	    --cacert "$D/tls/ca.pem" "$U/v1/decisions" 2>/dev/null || true
}
# Another server on PORT would answer our readiness probe.
if curl -s -k -o /dev/null --max-time 2 "$U/" 2>/dev/null ||
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$P/" 2>/dev/null; then
	echo "crowdsec-start: port $P already answers" >&2
	exit 1
fi
rm -rf "$D/data" "$D/tls" "$D/notifications"
rm -f "$D/config.yaml" "$D/lapi.log" "$D/crowdsec.pid" "$D/machine.id" \
    "$D/machine.pw" "$D/bouncer.key" "$D/local_api_credentials.yaml" \
    "$D/console.yaml"
mkdir -p "$D/data" "$D/tls" "$D/notifications"
chmod 700 "$D/data"

ok=
trap '[ -n "$ok" ] || { tail -n 20 "$D/lapi.log" >&2 2>/dev/null;
	"$here/crowdsec-stop.sh" "$D"; }' EXIT
trap 'exit 1' HUP INT TERM	# so that the EXIT trap cleans up

# A CA of our own and a server certificate for the loopback address: the
# LAPI speaks TLS, and clients verify it.
T=$D/tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
    -subj /CN=cordon-test-crowdsec-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/key.pem" -out "$T/server.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n%s\n' \
    'extendedKeyUsage=serverAuth' >"$T/server.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -extfile "$T/server.ext" \
    -out "$T/cert.pem" 2>/dev/null
chmod 600 "$T/ca.key" "$T/key.pem"
chmod 644 "$T/ca.pem"

# Hub, index and profiles come from the package; everything that is
# written lives under DIR.  No online_client: no Central API at all.
: >"$D/local_api_credentials.yaml"
chmod 600 "$D/local_api_credentials.yaml"
cat >"$D/config.yaml" <<EOF
common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: .
config_paths:
  config_dir: $D/
  data_dir: $D/data/
  simulation_path: /etc/crowdsec/simulation.yaml
  hub_dir: /var/lib/crowdsec/hub/
  index_path: /var/lib/crowdsec/hub/.index.json
  notification_dir: $D/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
cscli:
  output: human
db_config:
  log_level: info
  type: sqlite
  db_path: $D/data/crowdsec.db
  use_wal: true
api:
  client:
    insecure_skip_verify: false
    credentials_path: $D/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:$P
    profiles_path: /etc/crowdsec/profiles.yaml
    console_path: $D/console.yaml
    tls:
      cert_file: $T/cert.pem
      key_file: $T/key.pem
prometheus:
  enabled: false
EOF

crowdsec -c "$D/config.yaml" -no-cs </dev/null >"$D/lapi.log" 2>&1 &
echo $! >"$D/crowdsec.pid"
i=0
# An unauthenticated request is refused (403) once the LAPI serves.
while [ "$(probe)" != 403 ]; do
	if ! alive "$(cat "$D/crowdsec.pid")"; then
		echo "crowdsec-start: crowdsec exited" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ $i -gt 200 ]; then
		echo "crowdsec-start: LAPI not up on $U in 20 s" >&2
		exit 1
	fi
	sleep 0.1
done

# Credentials never go through argv: cscli generates the machine's
# password (--auto) into the credentials file and prints the bouncer key.
umask 077
cscli -c "$D/config.yaml" machines add cordon-test --auto --force \
    -u "$U/" -f "$D/local_api_credentials.yaml" >/dev/null 2>&1
# cscli's own LAPI calls (decisions add/list) verify the LAPI with our CA.
echo "ca_cert_path: $T/ca.pem" >>"$D/local_api_credentials.yaml"
sed -n 's/^login: *//p' "$D/local_api_credentials.yaml" >"$D/machine.id"
sed -n 's/^password: *//p' "$D/local_api_credentials.yaml" >"$D/machine.pw"
cscli -c "$D/config.yaml" bouncers add cordon-test -o raw >"$D/bouncer.key"
for f in machine.id machine.pw bouncer.key; do
	if [ ! -s "$D/$f" ]; then
		echo "crowdsec-start: no $f" >&2
		exit 1
	fi
done
ok=1
