#!/bin/sh
# Run every test binary of a build: unit tests (build/tests/test_*) then
# integration tests against real peers (build/it/it_*).  Each is a cmocka
# program; its own output carries the per-test results.  Prints a closing
# "N passed, N failed" line over the binaries and exits non-zero if any
# failed.
#
# Integration tests find the binary under test in $CORDON_BIN and the
# scripts in $CORDON_SCRIPTS, so the ASan build tests the ASan binary.
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
CORDON_BIN=$top/$B/cordon
CORDON_SCRIPTS=$here
export CORDON_BIN CORDON_SCRIPTS
# LeakSanitizer is part of ASan here; abort on the first UB report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The tests' fixed loopback ports lie in the ephemeral range: reserve them.
"$here/reserve-ports.sh"

pass=0 fail=0 failed=""
for t in "$top/$B"/tests/test_* "$top/$B"/it/it_*; do
	[ -x "$t" ] || continue
	case $t in *.d|*.o) continue ;; esac
	echo "== $(basename "$t")"
	if "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $(basename "$t")"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
