#!/bin/sh
# Start a throwaway rsyslogd for cordon's feed tests: RFC 5424 syslog on
# 127.0.0.1:UDPPORT (imudp) and 127.0.0.1:TCPPORT (imtcp, RFC 6587
# octet counting), the structured data parsed by mmpstrucdata, each
# message written as one JSON line to DIR/udp.jsonl or DIR/tcp.jsonl:
#   {"facility","severity","hostname","app","procid","msgid",
#    "sd" (mmpstrucdata's JSON, as a string),"msg"}
# Writes DIR/rsyslog.conf and DIR/rsyslog.pid; stop it with
# rsyslog-stop.sh DIR.  The config is checked (rsyslogd -N1) first.
set -eu

usage() {
	echo "usage: rsyslog-start.sh DIR UDPPORT TCPPORT" >&2
	exit 2
}
[ $# -eq 3 ] || usage
D=$1 U=$2 T=$3
for p in "$U" "$T"; do
	case $p in '' | *[!0-9]*) usage ;; esac
	if [ "$p" -lt 1024 ] || [ "$p" -gt 65535 ]; then usage; fi
done
case $D in /*) ;; *) D=$(pwd)/$D ;; esac
case $D in *'"'* | *'\'*) echo "rsyslog-start: odd DIR" >&2; exit 2 ;; esac
mkdir -p "$D/work"

# One JSON object per line: format="json" escapes each value.
field() {	# NAME PROPERTY [SEP]
	printf '\tconstant(value="%s\\"%s\\":\\"")\n' "${3:-, }" "$1"
	printf '\tproperty(name="%s" format="json")\n' "$2"
	printf '\tconstant(value="\\"")\n'
}
{
	printf 'global(workDirectory="%s/work" maxMessageSize="1m")\n' "$D"
	printf 'module(load="imudp")\nmodule(load="imtcp")\n'
	printf 'module(load="mmpstrucdata")\n'
	printf 'template(name="cordon_it" type="list") {\n'
	field facility syslogfacility '{'
	field severity syslogseverity
	field hostname hostname
	field app app-name
	field procid procid
	field msgid msgid
	field sd '$!rfc5424-sd'
	field msg msg
	printf '\tconstant(value="}\\n")\n}\n'
	for t in udp tcp; do
		printf 'ruleset(name="%s") {\n' "$t"
		printf '\taction(type="mmpstrucdata" sd_name.lowercase="off")\n'
		printf '\taction(type="omfile" file="%s/%s.jsonl" ' "$D" "$t"
		printf 'template="cordon_it")\n}\n'
	done
	printf 'input(type="imudp" address="127.0.0.1" port="%s" ' "$U"
	printf 'ruleset="udp")\n'
	printf 'input(type="imtcp" address="127.0.0.1" port="%s" ' "$T"
	printf 'ruleset="tcp")\n'
} >"$D/rsyslog.conf"

if ! rsyslogd -N1 -f "$D/rsyslog.conf" >"$D/check.log" 2>&1; then
	cat "$D/check.log" >&2
	exit 1
fi
rm -f "$D/rsyslog.pid"
rsyslogd -f "$D/rsyslog.conf" -i "$D/rsyslog.pid" >"$D/rsyslog.log" 2>&1
# Bounded wait: the pidfile, and both ports listening.
i=0
while [ $i -lt 100 ]; do
	if [ -s "$D/rsyslog.pid" ] &&
	    ss -Hltn "sport = :$T" | grep -q . &&
	    ss -Hlun "sport = :$U" | grep -q .; then
		exit 0
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "rsyslog-start: rsyslogd not listening on $U/udp and $T/tcp in 10 s" >&2
tail -n 20 "$D/rsyslog.log" >&2 || true
exit 1
