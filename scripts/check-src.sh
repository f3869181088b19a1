#!/bin/sh
# House rules a compiler does not enforce: banned functions (unbounded
# copies, shell-outs, non-reentrant tokenisers, unchecked conversions).
set -eu
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atof|system|popen|gets)[[:space:]]*\('
if grep -nE "$banned" agent/*.c actions/*.c; then
	echo "check-src: banned function above (see STYLE.md)" >&2
	exit 1
fi
echo "check-src: ok"
