#!/bin/sh
# Remove network namespaces (and root-namespace links) that a test run
# killed before its cleanup left behind, so the next run can start.
#
#   netns-reap.sh [-l LINK]... NAME...
#
# A namespace counts as left behind when no process is inside it: every
# fixture here runs at least one server in its namespaces (sshd, samba),
# and those die with the run that started them.  A namespace with a live
# process belongs to a run still going: it is left alone and the exit
# status is 1, naming it.  Each -l LINK is a root-namespace link deleted
# when it exists and all the namespaces are gone or were left behind
# (a veth's root end outlives an `ip netns del` only briefly, but a
# bridge stays).  Names are the callers' own fixed prefixes; nothing
# else is touched.  Exit 0 when none of the names is in use.
set -u

links=
while [ $# -gt 0 ]; do
	case $1 in
	-l) [ $# -ge 2 ] || { echo "netns-reap: -l needs a link" >&2
	    exit 2; }
	    links="$links $2"; shift 2 ;;
	*) break ;;
	esac
done
case $* in *[!a-z0-9\ -]*) echo "netns-reap: bad name" >&2; exit 2 ;; esac

exists() { ip netns list 2>/dev/null | cut -d' ' -f1 | grep -qx "$1"; }

busy=
for n in "$@"; do
	exists "$n" || continue
	if [ -n "$(ip netns pids "$n" 2>/dev/null)" ]; then
		busy="$busy $n"
	fi
done
if [ -n "$busy" ]; then
	echo "netns-reap: in use by a live run:$busy" >&2
	exit 1
fi
reaped=
for n in "$@"; do
	exists "$n" || continue
	ip netns del "$n" || exit 1
	reaped="$reaped $n"
done
for l in $links; do
	if ip link show "$l" >/dev/null 2>&1; then
		# Its namespace end may have taken it with it just now.
		ip link del "$l" 2>/dev/null ||
		    ! ip link show "$l" >/dev/null 2>&1 || exit 1
		reaped="$reaped $l"
	fi
done
[ -z "$reaped" ] || echo "netns-reap: removed what an interrupted run" \
    "left:$reaped" >&2
exit 0
