/*
 * journal_cmd: reading the journal through the agent.  `show` filters to
 * the customers the caller may audit; `export` hands out the whole chain
 * (the only form that verifies), so it needs the auditor role for every
 * customer.
 *
 * `export --bundle` streams an audit bundle (see checkpoint.h): after the
 * answer line, one header line {"file": NAME, "len": N} then exactly N
 * bytes per file, and a last line {"end": true}.  The client writes the
 * files; it accepts only the names listed in checkpoint.h.
 *
 * `export --incident ID DIR` streams the same for one incident, other
 * entries redacted and a signed manifest added (redact.h); it needs the
 * auditor role for that incident's customer only, since it shows no one
 * else's entries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "checkpoint.h"
#include "ctl.h"
#include "journal.h"
#include "log.h"
#include "redact.h"

#define SHOW_DEFAULT	200
#define SHOW_MAX	100000

json_t *
h_journal_show(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*inc = json_string_value(json_object_get(req,
	    "incident"));
	json_int_t	 lim = json_integer_value(json_object_get(req,
	    "limit"));
	sqlite3_stmt	*st;
	json_t		*rep, *list = json_array();
	size_t		 i;
	int		 anyrole = 0;

	for (i = 0; i < ag->cfg->ncustomers; i++)
		if (config_role(&ag->cfg->customers[i], c->uid) >=
		    ROLE_AUDITOR)
			anyrole = 1;
	if (!anyrole) {
		json_decref(list);
		return refuse(ag, c, inc, 0, "%s has no role for any "
		    "customer", c->actor);
	}
	if (lim <= 0)
		lim = SHOW_DEFAULT;
	if (lim > SHOW_MAX)
		lim = SHOW_MAX;
	st = store_q(ag->store, "SELECT * FROM (SELECT j.seq, j.ts, j.actor, "
	    "j.incident, j.action, j.event, j.payload, j.hash, i.customer "
	    "FROM journal j LEFT JOIN incidents i ON i.id = j.incident "
	    "WHERE ?1 IS NULL OR j.incident = ?1 ORDER BY j.seq DESC "
	    "LIMIT ?2) ORDER BY seq", "si", inc, (int64_t)lim);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *cust = (const char *)sqlite3_column_text(st, 8);
		struct customer *cu = cust ? config_customer(ag->cfg, cust) :
		    NULL;

		if (cust && (cu == NULL ||
		    config_role(cu, c->uid) < ROLE_AUDITOR))
			continue;
		(void)json_array_append_new(list, json_pack(
		    "{s:I,s:s,s:s,s:s?,s:I,s:s,s:o?,s:s}",
		    "seq", (json_int_t)sqlite3_column_int64(st, 0),
		    "ts", sqlite3_column_text(st, 1),
		    "actor", sqlite3_column_text(st, 2),
		    "incident", sqlite3_column_text(st, 3),
		    "action", (json_int_t)sqlite3_column_int64(st, 4),
		    "event", sqlite3_column_text(st, 5),
		    "payload", store_col_json(st, 6),
		    "hash", sqlite3_column_text(st, 7)));
	}
	(void)sqlite3_reset(st);
	rep = reply_ok();
	(void)json_object_set_new(rep, "entries", list);
	return rep;
}

static int
send_head(int fd, const char *name, size_t len)
{
	json_t	*h = json_pack("{s:s,s:I}", "file", name, "len",
	    (json_int_t)len);
	int	 r;

	r = ctl_send(fd, h);
	json_decref(h);
	return r;
}

static int
send_file(int fd, const char *name, const void *data, size_t len)
{
	int	r;

	if ((r = send_head(fd, name, len)) == 0 && len > 0)
		r = ctl_write_all(fd, data, len);
	return r;
}

/* Sends f (a temporary file) from its start as name. */
static int
send_stream(int fd, const char *name, FILE *f)
{
	char	buf[65536];
	off_t	len;
	size_t	n;
	int	r;

	if (fflush(f) != 0 || (len = ftello(f)) < 0 ||
	    fseeko(f, 0, SEEK_SET) != 0)
		return -EIO;
	if ((r = send_head(fd, name, (size_t)len)) != 0)
		return r;
	while (len > 0) {
		n = fread(buf, 1, sizeof(buf) < (size_t)len ? sizeof(buf) :
		    (size_t)len, f);
		if (n == 0)
			return -EIO;
		if ((r = ctl_write_all(fd, buf, n)) != 0)
			return r;
		len -= (off_t)n;
	}
	return 0;
}

/* The auditor's README: what the bundle holds and how to check it. */
static char *
bundle_readme(const char *customer, const char *incident, const char *fp,
    int64_t size, const char *head)
{
	struct buf	 b;
	char		 now[32];
	int		 r;

	fmt_time(time(NULL), now);
	buf_init(&b, 64 * 1024);
	r = buf_printf(&b,
	    "cordon audit bundle\n"
	    "\n"
	    "customer     %s\n"
	    "entries      %lld (journal seq 1 to %lld)\n"
	    "head hash    %s\n"
	    "signing key  %s\n"
	    "made at      %s\n"
	    "\n", customer, (long long)size, (long long)size, head, fp, now);
	if (r == 0 && incident != NULL)
		r = buf_printf(&b,
	    "This bundle is for incident %s.  Its entries are in full; every\n"
	    "other entry of the journal (other incidents, other customers) is\n"
	    "redacted to its place and hashes:\n"
	    "  journal.jsonl  {\"hash\":\"H\",\"prev_hash\":\"P\","
	    "\"redacted\":true,\"seq\":N}\n"
	    "  chain.txt      P H -\n"
	    "The chain still links through them, so nothing can be edited,\n"
	    "removed, reordered or added without breaking it; what a redacted\n"
	    "entry said is neither shown nor checked.  manifest.txt, signed\n"
	    "by the same key (manifest.sig), names the incident, the entries\n"
	    "given in full, and the SHA-256 of journal.jsonl, chain.txt and\n"
	    "checkpoint.txt, so that a full entry cannot be redacted after\n"
	    "the export either.\n"
	    "\n"
	    "0. The manifest (prints \"Signature Verified Successfully\"), and\n"
	    "   the files it names:\n"
	    "   openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \\\n"
	    "       -in manifest.txt -sigfile manifest.sig\n"
	    "   sed -n '4,6p' manifest.txt | awk '{ print $2 \"  \" $1 }' |"
	    " sha256sum -c\n"
	    "   In step 3 below, skip the hash check for lines whose third\n"
	    "   field is \"-\" (redacted); the link check still applies, and\n"
	    "   every other line must name the incident.  In step 5, such a\n"
	    "   line stands for the redacted journal.jsonl line shown above,\n"
	    "   and the seqs of the other lines are manifest.txt's entries.\n"
	    "   scripts/verify-bundle.sh does all of it.\n"
	    "\n", incident);
	if (r == 0)
		r = buf_adds(&b,
	    "Compare the signing key's fingerprint above with the one the DPO\n"
	    "wrote down at setup (`cordon keys show` prints it; the agent's"
	    " log\n"
	    "says \"checkpoint key for customer '...': SHA256:...\").  A"
	    " bundle\n"
	    "signed by another key verifies, but shows another fingerprint.\n"
	    "\n"
	    "Files\n"
	    "  journal.jsonl    the whole journal, one entry per line, as"
	    " exported\n"
	    "  chain.txt        per entry: prev_hash, hash and the canonical"
	    " JSON\n"
	    "                   exactly as hashed: hash = SHA-256(prev_hash ||"
	    " json)\n"
	    "  checkpoint.txt   signed: cordon-journal/<customer>, entry"
	    " count,\n"
	    "                   head hash, prev <SHA-256 of the previous"
	    " checkpoint>\n"
	    "  checkpoint.sig   raw Ed25519 signature of checkpoint.txt\n"
	    "  checkpoints/     the customer's earlier checkpoints (.txt,"
	    " .sig)\n"
	    "  pubkey.pem       the customer's public key\n"
	    "\n"
	    "Verify (POSIX sh, openssl 3, sha256sum, awk; run in this"
	    " directory).\n"
	    "cordon's scripts/verify-bundle.sh DIR [SHA256:...] runs the same"
	    " steps.\n"
	    "\n"
	    "1. The key's fingerprint:\n"
	    "   openssl pkey -pubin -in pubkey.pem -outform DER | sha256sum\n"
	    "\n"
	    "2. The checkpoint's signature (prints \"Signature Verified"
	    " Successfully\"):\n"
	    "   openssl pkeyutl -verify -pubin -inkey pubkey.pem -rawin \\\n"
	    "       -in checkpoint.txt -sigfile checkpoint.sig\n"
	    "\n"
	    "3. The hash chain (prints the count and the head):\n"
	    "   prev=00000000000000000000000000000000"
	    "00000000000000000000000000000000\n"
	    "   n=0\n"
	    "   while IFS= read -r l; do\n"
	    "     p=${l%% *}; r=${l#* }; h=${r%% *}; c=${r#* }\n"
	    "     [ \"$p\" = \"$prev\" ] || { echo \"entry $((n+1)): bad"
	    " link\"; break; }\n"
	    "     x=$(printf '%s%s' \"$p\" \"$c\" | sha256sum | cut -d' '"
	    " -f1)\n"
	    "     [ \"$x\" = \"$h\" ] || { echo \"entry $((n+1)): altered\";"
	    " break; }\n"
	    "     prev=$h; n=$((n+1))\n"
	    "   done < chain.txt; echo \"$n $prev\"\n"
	    "\n"
	    "4. The count and head must be lines 2 and 3 of checkpoint.txt:\n"
	    "   sed -n '2p;3p' checkpoint.txt\n"
	    "\n"
	    "5. journal.jsonl says what chain.txt says (each of its lines is\n"
	    "the canonical JSON with \"hash\" put before \"incident\" and\n"
	    "\"prev_hash\" before the last \"seq\", as the keys sort):\n"
	    "   awk -v J=journal.jsonl '{ p = substr($0, 1, 64); h = substr($0,"
	    " 66, 64)\n"
	    "     c = substr($0, 131); i = index(c, \",\\\"incident\\\":\")\n"
	    "     match(c, /,\"seq\":[0-9]+,\"ts\":\"[^\"]*\"}$/); k = RSTART\n"
	    "     e = substr(c, 1, i) \"\\\"hash\\\":\\\"\" h \"\\\",\""
	    " substr(c, i + 1, k - i) \\\n"
	    "       \"\\\"prev_hash\\\":\\\"\" p \"\\\",\" substr(c, k + 1)\n"
	    "     if ((getline l < J) <= 0 || l != e) { print \"differs at \""
	    " NR; exit 1 } }\n"
	    "     END { if ((getline l < J) > 0) { print \"extra lines\"; exit"
	    " 1 } }' chain.txt\n"
	    "\n"
	    "Steps 2 to 5 together show that no entry was edited, reordered,\n"
	    "added or removed, the newest included, since the agent signed"
	    " the\n"
	    "checkpoint with the key of step 1.\n"
	    "\n"
	    "They cannot show entries removed before that: a journal cut back\n"
	    "to one of its earlier checkpoints exports a bundle that passes.\n"
	    "A later checkpoint kept off this host shows it (one a feed"
	    " shipped,\n"
	    "or an earlier bundle's checkpoint.txt): its count must not exceed\n"
	    "line 2 of checkpoint.txt, and its head must be the second field"
	    " of\n"
	    "that line of chain.txt.  verify-bundle.sh DIR SHA256:... FILE and\n"
	    "cordon journal verify DIR --known-checkpoint FILE check it.\n");
	if (r != 0)
		fatalx("%s: README too long", __func__);
	return buf_steal(&b);
}

/* `journal export --bundle`: a fresh checkpoint, then the bundle's files. */
static json_t *
export_bundle(struct agent *ag, const struct caller *c, json_t *req)
{
	const char	*cname = json_string_value(json_object_get(req,
	    "customer"));
	const char	*inc = json_string_value(json_object_get(req,
	    "incident"));
	struct customer	*cu = NULL;
	EVP_PKEY	*k;
	sqlite3_stmt	*st;
	const char	*fp = NULL;
	char		*pem = NULL, *readme = NULL, name[64];
	char		 text[CHECKPOINT_TEXT_MAX] = "";
	unsigned char	 sig[CHECKPOINT_SIG_LEN];
	FILE		*jl = NULL, *ch = NULL;
	json_t		*hdr, *rep = NULL, *seqs = NULL, *e;
	char		*man = NULL;
	char		 shj[HASH_HEX_LEN + 1], shc[HASH_HEX_LEN + 1];
	char		 shk[HASH_HEX_LEN + 1];
	unsigned char	 msig[CHECKPOINT_SIG_LEN];
	size_t		 plen;
	int64_t		 id = 0;
	int		 r, n;

	if (inc != NULL) {
		/* Only the incident's customer's auditors: no one else's
		 * entries leave in full. */
		if ((cu = incident_customer(ag, inc, &e)) == NULL)
			return e;
		if ((e = require_role(ag, c, cu, ROLE_AUDITOR, inc)) != NULL)
			return e;
	} else if (cname != NULL)
		cu = config_customer(ag->cfg, cname);
	else if (ag->cfg->ncustomers == 1)
		cu = &ag->cfg->customers[0];
	if (cu == NULL)
		return cname ? reply_err(EXIT_USAGE, "no customer '%s'",
		    cname) : reply_err(EXIT_USAGE, "journal export --bundle: "
		    "%zu customers, name one with --customer",
		    ag->cfg->ncustomers);
	if ((k = checkpoint_key_of(ag, cu->name, &fp)) == NULL)
		return reply_err(EXIT_FAILED, "no checkpoint key for customer "
		    "'%s' (see the agent's log)", cu->name);
	if ((r = checkpoint_make(ag, cu->name, &id)) != 0)
		return reply_err(EXIT_FAILED, "cannot make a checkpoint: %s",
		    strerror(-r));
	if ((jl = tmpfile()) == NULL || (ch = tmpfile()) == NULL) {
		rep = reply_err(EXIT_FAILED, "tmpfile: %s", strerror(errno));
		goto out;
	}
	/* The agent is the only writer and serves one request at a time:
	 * the export is exactly what the checkpoint covers. */
	if ((r = inc != NULL ? redact_export(ag->store, inc, jl, ch, &seqs) :
	    journal_export_chain(ag->store, jl, ch)) != 0) {
		rep = reply_err(EXIT_FAILED, "cannot export: %s",
		    strerror(-r));
		goto out;
	}
	if ((r = checkpoint_pubkey_pem(k, &pem, &plen)) != 0) {
		rep = reply_err(EXIT_FAILED, "cannot encode the public key");
		goto out;
	}
	readme = bundle_readme(cu->name, inc, fp, ag->store->jseq,
	    ag->store->jhead);
	hdr = json_pack("{s:b,s:b,s:b,s:s,s:s,s:I,s:s,s:s*,s:I}", "ok", 1,
	    "stream", 1, "bundle", 1, "customer", cu->name, "fingerprint", fp,
	    "entries", (json_int_t)ag->store->jseq, "head", ag->store->jhead,
	    "incident", inc, "full_entries", (json_int_t)json_array_size(
	    seqs));
	r = ctl_send(c->fd, hdr);
	json_decref(hdr);
	if (r == 0)
		r = send_file(c->fd, "pubkey.pem", pem, plen);
	if (r == 0)
		r = send_file(c->fd, "README.txt", readme, strlen(readme));
	st = store_q(ag->store, "SELECT id, text, sig FROM (SELECT id, text, "
	    "sig FROM checkpoints WHERE customer = ?1 ORDER BY id DESC "
	    "LIMIT ?2) ORDER BY id", "si", cu->name,
	    (int64_t)CHECKPOINT_BUNDLE_MAX);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char	*t = (const char *)sqlite3_column_text(st, 1);
		const void	*s = sqlite3_column_blob(st, 2);
		int		 sl = sqlite3_column_bytes(st, 2);
		int64_t		 cid = sqlite3_column_int64(st, 0);

		if (t == NULL || s == NULL || sl != CHECKPOINT_SIG_LEN ||
		    strlen(t) >= sizeof(text))
			continue;
		n = snprintf(name, sizeof(name), "checkpoints/%08lld.txt",
		    (long long)cid);
		if (n < 0 || (size_t)n >= sizeof(name))
			continue;
		r = send_file(c->fd, name, t, strlen(t));
		memcpy(name + n - 3, "sig", 3);	/* NNN.txt -> NNN.sig */
		if (r == 0)
			r = send_file(c->fd, name, s, (size_t)sl);
		if (cid == id) {
			memcpy(text, t, strlen(t) + 1);
			memcpy(sig, s, sizeof(sig));
		}
	}
	(void)sqlite3_reset(st);
	if (r == 0 && text[0] == '\0')
		r = -ENOENT;	/* the fresh checkpoint must be there */
	if (r == 0)
		r = send_file(c->fd, "checkpoint.txt", text, strlen(text));
	if (r == 0)
		r = send_file(c->fd, "checkpoint.sig", sig, sizeof(sig));
	if (r == 0)
		r = send_stream(c->fd, "journal.jsonl", jl);
	if (r == 0)
		r = send_stream(c->fd, "chain.txt", ch);
	if (r == 0 && inc != NULL) {
		/* The manifest pins the files and which entries are full. */
		sha256_hex(text, strlen(text), shk);
		if ((r = redact_file_sha(jl, shj)) == 0 &&
		    (r = redact_file_sha(ch, shc)) == 0 &&
		    ((man = redact_manifest(cu->name, inc, seqs, shj, shc,
		    shk)) == NULL || checkpoint_sign(k, man, strlen(man),
		    msig) != 0))
			r = -EIO;
		if (r == 0)
			r = send_file(c->fd, "manifest.txt", man, strlen(man));
		if (r == 0)
			r = send_file(c->fd, "manifest.sig", msig,
			    sizeof(msig));
	}
	if (r == 0) {
		hdr = json_pack("{s:b}", "end", 1);
		r = ctl_send(c->fd, hdr);
		json_decref(hdr);
	}
	if (r != 0)
		log_warnx("journal export: bundle for customer '%s': %s",
		    cu->name, strerror(-r));
out:
	if (jl != NULL)
		(void)fclose(jl);
	if (ch != NULL)
		(void)fclose(ch);
	free(pem);
	free(readme);
	free(man);
	json_decref(seqs);
	return rep;
}

json_t *
h_journal_export(struct agent *ag, const struct caller *c, json_t *req)
{
	json_t	*hdr, *e;
	FILE	*f;
	size_t	 i;
	int	 r;

	if (json_is_true(json_object_get(req, "bundle")) &&
	    json_object_get(req, "incident") != NULL)
		return export_bundle(ag, c, req);	/* checks its role */
	for (i = 0; i < ag->cfg->ncustomers; i++)
		if ((e = require_role(ag, c, &ag->cfg->customers[i],
		    ROLE_AUDITOR, NULL)) != NULL)
			return e;
	if (json_is_true(json_object_get(req, "bundle")))
		return export_bundle(ag, c, req);
	hdr = json_pack("{s:b,s:b,s:I,s:s}", "ok", 1, "stream", 1,
	    "entries", (json_int_t)ag->store->jseq, "head", ag->store->jhead);
	r = ctl_send(c->fd, hdr);
	json_decref(hdr);
	if (r != 0)
		return NULL;
	if ((f = fdopen(dup(c->fd), "w")) == NULL) {
		log_warn("journal export: fdopen");
		return NULL;
	}
	if (journal_export(ag->store, NULL, f) != 0)
		log_warnx("journal export: client went away");
	if (fclose(f) != 0)
		log_debug("journal export: close failed");
	return NULL;
}
