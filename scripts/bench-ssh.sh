#!/bin/sh
# Benchmark: rotate the password of one account (cdsh-user) on N sshd
# hosts in network namespaces (scripts/nshosts-start.sh, default 50), in
# one run, three ways:
#   cordon   one `cordon run --wait` over a target group of all N hosts
#            (check, vault write, chpasswd on stdin, read-back, journal),
#            agent.parallel = N, timed from the start of `cordon run` to
#            its end;
#   pssh     parallel-ssh -p N running `sudo -n chpasswd`, the same
#            user:password line on stdin (-I);
#   ansible  ad-hoc `ansible -f N -b -m user` with a precomputed hash and a
#            generated inventory.
# All three log in as cdsh-agent with the same key and pinned known_hosts.
# Ansible's become needs sudo for sh and python3, so this benchmark adds a
# NOPASSWD ALL rule to the hosts' throwaway private /etc only.
# Before any timing, one untimed `parallel-ssh true` to every host warms
# every sshd (first fork, PAM and library pages) for all three alike:
# whoever ran first used to pay that alone.  cordon's agent log then gives
# where its seconds went (sessions: connect+kex, auth; each exec channel).
# Last line: "ratio R" = cordon time / pssh time (target <= 1.2; and
# cordon >= 5x faster than ansible).
#   scripts/bench-ssh.sh [N]       (as root; NET 1 of nshosts-start.sh)
set -eu
N=${1:-50}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CORDON=${CORDON_BIN:-$top/build/cordon}
for p in parallel-ssh ansible sshpass openssl; do
	command -v "$p" >/dev/null ||
	    { echo "bench-ssh: no '$p' (scripts/install-deps.sh)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench-ssh: must run as root" >&2; exit 1; }

W=$(mktemp -d /tmp/cordon-bench-ssh.XXXXXX)
chmod 711 "$W"
H=$W/nsh
AGENT_PID=''
cleanup() {
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	"$here/nshosts-stop.sh" "$H" >/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# CPU seconds, to split each tool's run into its own work and the
# targets': every CPU's busy time (/proc/stat), this shell's waited-for
# children (pssh, ansible and their ssh processes), the agent's threads.
HZ=$(getconf CLK_TCK)
sys_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
kids_cpu() { sed 's/.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'; }
proc_cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# TOOL SYS0 SYS1 OWN0 OWN1: prints the split and sets TGT (seconds).
cpu_split() {
	TGT=$(awk -v s="$(($3 - $2))" -v o="$(($5 - $4))" -v hz="$HZ" \
	    'BEGIN { printf "%.2f", (s - o) / hz }')
	awk -v t="$1" -v s="$(($3 - $2))" -v o="$(($5 - $4))" -v hz="$HZ" \
	    'BEGIN { printf "%-8s CPU: its own %.2f s, the targets %.2f s\n",
	    t, o / hz, (s - o) / hz }'
}

echo "bench-ssh: $N hosts, one account, password rotation"
t0=$(now)
"$here/nshosts-start.sh" "$H" "$N" 1
echo "hosts up in $(elapsed "$t0" "$(now)") s"
i=1
while [ "$i" -le "$N" ]; do
	echo 'cdsh-agent ALL=(root) NOPASSWD: ALL' \
	    >"$H/h$i/etc/sudoers.d/cdsh-bench"
	chmod 440 "$H/h$i/etc/sudoers.d/cdsh-bench"
	i=$((i + 1))
done
awk '{ print $2 }' "$H/hosts" >"$W/addrs"
SSHOPT="-F /dev/null -i $H/agent_key -o IdentitiesOnly=yes
 -o UserKnownHostsFile=$H/known_hosts -o GlobalKnownHostsFile=/dev/null
 -o BatchMode=yes -o ConnectTimeout=10"
SSHOPT=$(echo $SSHOPT)

# --- warm-up (untimed, the same for all) ---------------------------------
# shellcheck disable=SC2086
parallel-ssh -h "$W/addrs" -l cdsh-agent -p "$N" -t 120 -x "$SSHOPT" true \
    >"$W/warm.out" 2>&1 ||
    { tail -5 "$W/warm.out" >&2; echo "bench-ssh: warm-up failed" >&2
      exit 1; }

# --- cordon ------------------------------------------------------------
{
	printf 'agent: {\n\tsocket = "%s/cordon.sock";\n\tstore = "%s/store.db";\n' \
	    "$W" "$W"
	printf '\tsecrets_dir = "%s/vault";\n\tparallel = %d;\n};\n' "$W" "$N"
	printf 'customers = ( {\n\tname = "bench";\n'
	printf '\troles = ( { user = "root"; role = "lead"; } );\n'
	printf '\ttargets = (\n'
	while read -r i a ns; do
		printf '\t\t{ name = "h%s"; type = "ssh"; host = "%s"; ' "$i" "$a"
		printf 'user = "cdsh-agent"; key_file = "%s/agent_key"; ' "$H"
		printf 'known_hosts = "%s/known_hosts"; timeout = 30; }' "$H"
		[ "$i" -lt "$N" ] && printf ','
		printf '\n'
	done <"$H/hosts"
	printf '\t);\n\ttarget_groups = ( { name = "all"; members = [ '
	awk -v n="$N" '{ printf "\"h%s\"%s", $1, $1 < n ? ", " : "" }' \
	    "$H/hosts"
	printf ' ]; } );\n} );\n'
} >"$W/cordon.conf"
chmod 600 "$W/cordon.conf"
cat >"$W/rotate.runbook" <<'RB'
name = "bench-rotate";
params = ( { name = "accounts"; type = "list"; required = true; } );
steps = ( { name = "rotate"; verb = "ssh.rotate_password"; target = "all";
  foreach = "${accounts}"; args = { account = "${item}"; };
  approval = "none"; on_failure = "continue"; } );
RB
export CORDON_SOCKET="$W/cordon.sock"
"$CORDON" agent -c "$W/cordon.conf" -v 2>"$W/agent.log" &
AGENT_PID=$!
i=0
until [ -S "$W/cordon.sock" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$W/agent.log" >&2; exit 1; }
	sleep 0.05
done
"$CORDON" incident open --customer bench --title bench-ssh >"$W/inc"
INC=$(grep -o 'INC-[0-9]*-[0-9]*' "$W/inc" | head -1)
s0=$(sys_cpu) a0=$(proc_cpu "$AGENT_PID") k0=$(kids_cpu)
t0=$(now)
"$CORDON" run "$W/rotate.runbook" --incident "$INC" \
    --set accounts=cdsh-user --wait --timeout 600 >"$W/cordon.out"
t1=$(now)
s1=$(sys_cpu) a1=$(proc_cpu "$AGENT_PID") k1=$(kids_cpu)
T_CORDON=$(elapsed "$t0" "$t1")
grep -q "done $N failed 0" "$W/cordon.out" ||
    { cat "$W/cordon.out" >&2; echo "bench-ssh: cordon run failed" >&2
      exit 1; }
echo "cordon   $T_CORDON s  ($(grep 'exec:' "$W/agent.log" |
    sed 's/.*exec: //' | head -1))"
# Where cordon's time went, summed over all hosts (thread time, not wall).
awk '/ssh-time .* connect / { n++; c += $(NF-2); a += $NF }
    /ssh-time .* exec / { e++; x += $NF }
    END { printf "cordon   profile: %d sessions (connect+kex avg %.3f s, " \
	"auth avg %.3f s), %d exec channels (avg %.3f s)\n", n, n ? c / n : 0,
	n ? a / n : 0, e, e ? x / e : 0 }' "$W/agent.log"
cpu_split cordon "$s0" "$s1" $((a0 + k0)) $((a1 + k1))

# --- parallel-ssh --------------------------------------------------------
PW=$(openssl rand -base64 18)
s0=$(sys_cpu) k0=$(kids_cpu)
t0=$(now)
# shellcheck disable=SC2086
printf 'cdsh-user:%s\n' "$PW" | parallel-ssh -h "$W/addrs" -l cdsh-agent \
    -p "$N" -t 120 -x "$SSHOPT" -I 'sudo -n /usr/sbin/chpasswd' \
    >"$W/pssh.out" 2>&1 ||
    { tail -5 "$W/pssh.out" >&2; echo "bench-ssh: pssh failed" >&2
      exit 1; }
t1=$(now)
s1=$(sys_cpu) k1=$(kids_cpu)
T_PSSH=$(elapsed "$t0" "$t1")
echo "pssh     $T_PSSH s"
cpu_split pssh "$s0" "$s1" "$k0" "$k1"
TGT_PSSH=$TGT

# --- ansible -------------------------------------------------------------
HASH=$(openssl rand -base64 18 | openssl passwd -6 -stdin)
{
	echo '[all]'
	awk '{ print $2 }' "$H/hosts"
	echo '[all:vars]'
	echo 'ansible_user=cdsh-agent'
	echo "ansible_ssh_private_key_file=$H/agent_key"
	echo "ansible_ssh_common_args='-F /dev/null -o IdentitiesOnly=yes" \
	    "-o UserKnownHostsFile=$H/known_hosts" \
	    "-o GlobalKnownHostsFile=/dev/null -o BatchMode=yes'"
	echo 'ansible_python_interpreter=/usr/bin/python3'
} >"$W/inventory"
mkdir -p "$W/ansible"
s0=$(sys_cpu) k0=$(kids_cpu)
t0=$(now)
ANSIBLE_HOME=$W/ansible ANSIBLE_LOCAL_TEMP=$W/ansible/tmp \
ANSIBLE_SSH_CONTROL_PATH_DIR=$W/ansible/cp ANSIBLE_PIPELINING=True \
ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 \
ANSIBLE_RETRY_FILES_ENABLED=False \
    ansible all -i "$W/inventory" -f "$N" -b -m user \
    -a "name=cdsh-user password=$HASH" >"$W/ansible.out" 2>&1 ||
    { tail -20 "$W/ansible.out" >&2; echo "bench-ssh: ansible failed" >&2
      exit 1; }
t1=$(now)
s1=$(sys_cpu) k1=$(kids_cpu)
T_ANS=$(elapsed "$t0" "$t1")
echo "ansible  $T_ANS s"
cpu_split ansible "$s0" "$s1" "$k0" "$k1"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
# The targets share this machine's CPUs with the tool under test, so no
# tool can finish before the targets' own work for pssh's minimal job
# (one login and one sudo chpasswd per host) is spread over every CPU.
awk -v t="$TGT_PSSH" -v n="$(nproc)" -v a="$T_ANS" 'BEGIN {
	printf "floor    %.2f s: the targets CPU for the minimal job / %d " \
	    "CPUs (5x ansible needs %.2f s)\n", t / n, n, a / 5 }'
awk -v c="$T_CORDON" -v p="$T_PSSH" -v a="$T_ANS" 'BEGIN {
	printf "ansible / cordon %.2f (target >= 5)\n", a / c
	printf "cordon / pssh %.2f (target <= 1.2)\n", c / p
	printf "ratio %.2f\n", c / p }'
