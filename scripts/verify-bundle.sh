#!/bin/sh
# verify-bundle.sh DIR [SHA256:FINGERPRINT|""] [KNOWN-CHECKPOINT-FILE]
#
# Checks a cordon audit bundle (`cordon journal export --bundle DIR`) with
# standard tools only: POSIX sh, openssl 3, sha256sum, awk, sed, cmp.  No
# cordon binary, no jq.  Exit 0: intact; 1: tampered or unverifiable;
# 2: usage.
#
#  1. the key's fingerprint, SHA256 of the DER SubjectPublicKeyInfo; it
#     must equal FINGERPRINT when given (compare it with the one the DPO
#     wrote down at setup: a bundle re-signed with another key verifies,
#     but with another fingerprint);
#  2. the Ed25519 signature of checkpoint.txt (openssl pkeyutl -rawin);
#  3. the hash chain in chain.txt: each line is "prev hash canonical-json"
#     and hash = SHA-256(prev ‖ canonical-json), prev = the line before's
#     hash (64 zeros first);
#  4. journal.jsonl says what chain.txt says: each of its lines is the
#     canonical JSON with "hash" and "prev_hash" put in key order;
#  5. the entry count and last hash equal the checkpoint's size and head,
#     so removing the newest entries is detected;
#  6. the earlier checkpoints in checkpoints/ are signed by the same key,
#     chain by "prev", and each head is the hash of the entry it names;
#     checkpoint.txt is the newest of them;
#  7. with KNOWN-CHECKPOINT-FILE (a checkpoint text kept elsewhere: shipped
#     by a feed, or an earlier bundle's checkpoint.txt), the bundle reaches
#     it: same customer, at least its size, its head is that entry's hash.
#     A bundle cut back to one of its own earlier checkpoints passes 1-6;
#     only a later checkpoint held outside the host shows the cut.
#
# An incident bundle (`cordon journal export --incident ID DIR`) also has
# manifest.txt, signed by the same key (manifest.sig): the incident, the
# seqs of the entries given in full, and the SHA-256 of journal.jsonl,
# chain.txt and checkpoint.txt.  Its other entries are redacted to
# "prev hash -" in chain.txt (and {"hash","prev_hash","redacted","seq"} in
# journal.jsonl): their links are followed, their content is not shown,
# so not hashed.  Without a manifest, a redacted entry fails the bundle.
set -u

ZERO=0000000000000000000000000000000000000000000000000000000000000000

fail() {
	echo "verify-bundle: FAILED: $*" >&2
	exit 1
}

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
	echo "usage: verify-bundle.sh DIR [SHA256:FINGERPRINT|\"\"]" \
	    "[KNOWN-CHECKPOINT-FILE]" >&2
	exit 2
fi
dir=$1
want=${2:-}
known=
if [ $# -eq 3 ]; then
	case $3 in /*) known=$3 ;; *) known=$PWD/$3 ;; esac
	[ -f "$known" ] ||
	    { echo "verify-bundle: $3: not a file" >&2; exit 2; }
fi
[ -d "$dir" ] || { echo "verify-bundle: $dir: not a directory" >&2; exit 2; }
cd "$dir" || exit 2
for f in pubkey.pem checkpoint.txt checkpoint.sig journal.jsonl chain.txt; do
	[ -f "$f" ] || fail "$f is missing"
done

sha() {
	sha256sum | cut -d' ' -f1
}

# 1. The key.
fp=$(openssl pkey -pubin -in pubkey.pem -outform DER 2>/dev/null | sha) ||
    fail "pubkey.pem is not a public key"
echo "key fingerprint: SHA256:$fp"
if [ -n "$want" ] && [ "SHA256:$fp" != "$want" ]; then
	fail "the key is SHA256:$fp, not the expected $want"
fi
[ -n "$want" ] || echo "compare it with the fingerprint recorded at setup"

# 2. The final checkpoint's signature.
verify_sig() {	# text sig
	openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin -in "$1" \
	    -sigfile "$2" >/dev/null 2>&1
}
verify_sig checkpoint.txt checkpoint.sig ||
    fail "checkpoint.sig is not a signature of checkpoint.txt by pubkey.pem"
[ "$(wc -l < checkpoint.txt)" -eq 4 ] || fail "checkpoint.txt: not 4 lines"
origin=$(sed -n 1p checkpoint.txt)
size=$(sed -n 2p checkpoint.txt)
head=$(sed -n 3p checkpoint.txt)
case $origin in
cordon-journal/?*) ;;
*) fail "checkpoint.txt: bad origin" ;;
esac
case $size in ''|*[!0-9]*) fail "checkpoint.txt: bad size" ;; esac

# 2b. An incident bundle's manifest: signed, same customer, files as named.
inc=
entries=
if [ -e manifest.txt ]; then
	[ -f manifest.sig ] || fail "manifest.sig is missing"
	verify_sig manifest.txt manifest.sig ||
	    fail "manifest.sig is not a signature of manifest.txt by pubkey.pem"
	[ "$(wc -l < manifest.txt)" -eq 6 ] || fail "manifest.txt: not 6 lines"
	[ "$(sed -n 1p manifest.txt)" = "cordon-bundle/${origin#cordon-journal/}" ] ||
	    fail "manifest.txt: another customer than checkpoint.txt"
	inc=$(sed -n 2p manifest.txt)
	inc=${inc#incident }
	case $inc in ''|*[!A-Za-z0-9._-]*) fail "manifest.txt: bad incident" ;; esac
	entries=$(sed -n 3p manifest.txt)
	entries=${entries#entries }
	[ "$(sed -n '4,6p' manifest.txt | cut -d' ' -f1 | tr '\n' ' ')" = \
	    "journal.jsonl chain.txt checkpoint.txt " ] ||
	    fail "manifest.txt: unexpected file names"
	sed -n '4,6p' manifest.txt | awk '{ print $2 "  " $1 }' |
	    sha256sum -c --status 2>/dev/null ||
	    fail "journal.jsonl, chain.txt or checkpoint.txt is not as exported" \
	    "(SHA-256 differs from manifest.txt)"
	echo "incident bundle: $inc (other entries redacted to their hashes)"
fi

# 3. The hash chain.
prev=$ZERO
n=0
full=
while IFS= read -r l; do
	n=$((n + 1))
	p=${l%% *}
	r=${l#* }
	h=${r%% *}
	c=${r#* }
	[ "$p" = "$prev" ] ||
	    fail "chain.txt entry $n: prev_hash is not the previous hash"
	if [ "$c" = "-" ]; then
		# Redacted: only in an incident bundle; the link is checked.
		[ -n "$inc" ] || fail "chain.txt entry $n: redacted, and no manifest"
		case $h in *[!0-9a-f]*) fail "chain.txt entry $n: bad hash" ;; esac
		[ ${#h} -eq 64 ] || fail "chain.txt entry $n: bad hash"
		prev=$h
		continue
	fi
	if [ -n "$inc" ]; then
		case $c in
		*",\"incident\":\"$inc\",\"payload\":"*) ;;
		*) fail "chain.txt entry $n: in full, but not of $inc" ;;
		esac
		full="${full:+$full,}$n"
	fi
	x=$(printf '%s%s' "$p" "$c" | sha)
	[ "$x" = "$h" ] || fail "chain.txt entry $n: hash mismatch (altered)"
	prev=$h
done < chain.txt
if [ -n "$inc" ] && [ "${full:-none}" != "$entries" ]; then
	fail "the entries in full are not the ones manifest.txt names"
fi

# 4. journal.jsonl matches chain.txt line for line.
awk -v J=journal.jsonl '
{
	p = substr($0, 1, 64); h = substr($0, 66, 64); c = substr($0, 131)
	if (c == "-") {
		e = "{\"hash\":\"" h "\",\"prev_hash\":\"" p \
		    "\",\"redacted\":true,\"seq\":" NR "}"
		if ((getline l < J) <= 0 || l != e) {
			print "journal.jsonl line " NR " differs from chain.txt"
			bad = 1; exit 1
		}
		next
	}
	i = index(c, ",\"incident\":")
	if (!match(c, /,"seq":[0-9]+,"ts":"[^"]*"}$/) || i == 0) {
		print "chain.txt entry " NR ": not a journal entry"
		bad = 1; exit 1
	}
	k = RSTART
	e = substr(c, 1, i) "\"hash\":\"" h "\"," substr(c, i + 1, k - i) \
	    "\"prev_hash\":\"" p "\"," substr(c, k + 1)
	if ((getline l < J) <= 0 || l != e) {
		print "journal.jsonl line " NR " differs from chain.txt"
		bad = 1; exit 1
	}
}
END {
	if (bad)
		exit 1
	if ((getline l < J) > 0) {
		print "journal.jsonl has more lines than chain.txt"; exit 1
	}
}' chain.txt >&2 || fail "journal.jsonl does not match chain.txt"

# 5. Everything the checkpoint covers, and nothing more or less.
if [ "$n" != "$size" ] || [ "$prev" != "$head" ]; then
	fail "the journal holds $n entries with head $prev, the signed" \
	    "checkpoint covers $size with head $head (entries removed or added)"
fi

# 6. The stored checkpoints: signatures and links here, heads in one pass
# over chain.txt below.
last=
lastsha=
heads=
for t in checkpoints/*.txt; do
	[ -e "$t" ] || break
	s=${t%.txt}.sig
	verify_sig "$t" "$s" || fail "$s: bad signature"
	[ "$(wc -l < "$t")" -eq 4 ] || fail "$t: not 4 lines"
	[ "$(sed -n 1p "$t")" = "$origin" ] || fail "$t: another origin"
	cs=$(sed -n 2p "$t")
	case $cs in ''|*[!0-9]*) fail "$t: bad size" ;; esac
	[ "$cs" -le "$n" ] || fail "$t: covers $cs entries, the journal has $n"
	if [ -n "$lastsha" ] && [ "$(sed -n 4p "$t")" != "prev $lastsha" ]; then
		fail "$t: does not chain to the checkpoint before it"
	fi
	heads="$heads$cs $(sed -n 3p "$t") $t
"
	lastsha=$(sha < "$t")
	last=$t
done
if [ -n "$last" ]; then
	cmp -s "$last" checkpoint.txt ||
	    fail "checkpoint.txt is not the newest stored checkpoint"
	printf '%s' "$heads" | awk -v Z=$ZERO '
	NR == FNR { want[$1] = want[$1] " " $2; file[$1] = file[$1] " " $3
		if ($1 == 0 && $2 != Z) { print $3 ": bad head"; bad = 1 }
		next }
	FNR in want {
		split(substr(want[FNR], 2), w, " ")
		for (i in w)
			if (w[i] != $2) {
				print "checkpoint at entry " FNR ": head" \
				    " is not that entry'"'"'s hash"
				bad = 1
			}
	}
	END { exit bad }' - chain.txt >&2 ||
	    fail "a stored checkpoint does not match the journal"
fi

# 7. A checkpoint the auditor holds from elsewhere.
if [ -n "$known" ]; then
	[ "$(wc -l < "$known")" -eq 4 ] ||
	    fail "the known checkpoint is not a checkpoint text (4 lines)"
	[ "$(sed -n 1p "$known")" = "$origin" ] ||
	    fail "the known checkpoint is of another customer"
	ks=$(sed -n 2p "$known")
	kh=$(sed -n 3p "$known")
	case $ks in ''|*[!0-9]*) fail "the known checkpoint has a bad size" ;;
	esac
	[ "$ks" -le "$n" ] || fail "the bundle covers $n entries, the known" \
	    "checkpoint $ks: entries were removed (cut back to an earlier" \
	    "checkpoint)"
	if [ "$ks" -eq 0 ]; then
		[ "$kh" = "$ZERO" ] || fail "the known checkpoint has a bad head"
	else
		[ "$(awk -v N="$ks" 'NR == N { print $2; exit }' chain.txt)" = \
		    "$kh" ] || fail "entry $ks is not the one the known" \
		    "checkpoint names: the journal was rewritten"
	fi
	echo "reaches the known checkpoint: $ks entries, head $kh"
fi

echo "ok: ${origin#cordon-journal/}: $n entries, head $head, signed by" \
    "SHA256:$fp"
if [ -z "$want" ]; then
	# Re-signed with another key, a bundle still verifies.
	echo "signing key NOT checked: pass SHA256:... as the second argument" \
	    "(the fingerprint \`cordon keys show\` printed at setup)"
fi
exit 0
