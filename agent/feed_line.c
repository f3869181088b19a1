/*
 * feed_line: one record as a JSON line or a CEF line, and the option
 * helpers the sinks share (see feed.h).
 *
 * jsonl: for an entry exactly the `journal export` line (canonical
 *        fields, prev_hash, hash: compact, sorted keys, ASCII escapes).
 * cef:   CEF:0|cordon|cordon|VERSION|EVENT|EVENT|SEVERITY|rt=MS
 *        externalId=SEQ suser=ACTOR cs1Label=incident cs1=ID
 *        cn1Label=action cn1=N cs2Label=hash cs2=HASH
 *        cs3Label=prev_hash cs3=PREV msg=PAYLOAD-JSON
 *        and for a checkpoint
 *        CEF:0|cordon|cordon|VERSION|checkpoint|checkpoint|3|rt=MS
 *        externalId=ID cs1Label=customer cs1=C cn1Label=size cn1=N
 *        cs2Label=head cs2=HASH msg=CHECKPOINT-JSON
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cef.h"
#include "cli.h"
#include "feed.h"

int
feed_line_json(struct buf *b, const struct feed_rec *rec)
{
	char	*s;
	int	 r;

	s = json_dumps(rec->obj, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);
	if (s == NULL)
		return -EINVAL;
	r = buf_adds(b, s);
	free(s);
	return r;
}

int
feed_rec_cut(const struct feed_rec *rec, struct feed_rec *out)
{
	static const char *const keep[] = {
		"seq", "ts", "prev_hash", "hash", "event", "incident", "actor",
		"action", "type",
		"id", "customer", "size", "head", "at",
	};
	json_t	*o = json_object(), *v;
	size_t	 i, size;

	size = json_dumpb(rec->obj, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII);
	if (o == NULL)
		return -ENOMEM;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if ((v = json_object_get(rec->obj, keep[i])) != NULL &&
		    json_object_set(o, keep[i], v) != 0)
			goto fail;
	if (json_object_set_new(o, "oversize", json_true()) != 0 ||
	    json_object_set_new(o, "original_size", json_integer(
	    (json_int_t)size)) != 0)
		goto fail;
	*out = *rec;
	out->obj = o;
	return 0;
fail:
	json_decref(o);
	return -ENOMEM;
}

static const char *
ostr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int
cef_kv(struct buf *b, const char *k, const char *v)
{
	int	r;

	if ((r = buf_printf(b, " %s=", k)) != 0)
		return r;
	return cef_ext(b, v);
}

static int
cef_entry(struct buf *b, const struct feed_rec *rec)
{
	const json_t	*o = rec->obj, *payload = json_object_get(o,
	    "payload");
	const char	*ev = ostr(o, "event");
	const char	*to = json_string_value(json_object_get(payload,
	    "to"));
	char		*msg = NULL, num[32];
	int		 sev = 3, r;

	if (strcmp(ev, "refused") == 0)
		sev = 7;
	else if (to && (strcmp(to, "failed") == 0 ||
	    strcmp(to, "unknown") == 0))
		sev = 6;
	if (payload && !json_is_null(payload))
		msg = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENCODE_ANY);
	else if (json_is_true(json_object_get(o, "oversize")))
		msg = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if ((r = buf_printf(b, "CEF:0|cordon|cordon|%s|", CORDON_VERSION)) ||
	    (r = cef_header(b, ev)) || (r = buf_addc(b, '|')) ||
	    (r = cef_header(b, ev)) ||
	    (r = buf_printf(b, "|%d|rt=%lld", sev, (long long)rec->t * 1000)) ||
	    (r = buf_printf(b, " externalId=%lld", (long long)rec->id)) ||
	    (r = cef_kv(b, "suser", ostr(o, "actor"))) ||
	    (r = cef_kv(b, "cs1Label", "incident")) ||
	    (r = cef_kv(b, "cs1", ostr(o, "incident"))))
		goto out;
	(void)snprintf(num, sizeof(num), "%lld",
	    (long long)json_integer_value(json_object_get(o, "action")));
	if ((r = cef_kv(b, "cn1Label", "action")) ||
	    (r = cef_kv(b, "cn1", num)) ||
	    (r = cef_kv(b, "cs2Label", "hash")) ||
	    (r = cef_kv(b, "cs2", ostr(o, "hash"))) ||
	    (r = cef_kv(b, "cs3Label", "prev_hash")) ||
	    (r = cef_kv(b, "cs3", ostr(o, "prev_hash"))) ||
	    (r = cef_kv(b, "msg", msg ? msg : "")))
		goto out;
out:
	free(msg);
	return r;
}

static int
cef_checkpoint(struct buf *b, const struct feed_rec *rec)
{
	const json_t	*o = rec->obj;
	char		*msg, num[32];
	int		 r;

	if ((msg = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return -EINVAL;
	(void)snprintf(num, sizeof(num), "%lld",
	    (long long)json_integer_value(json_object_get(o, "size")));
	if ((r = buf_printf(b, "CEF:0|cordon|cordon|%s|checkpoint|"
	    "checkpoint|3|rt=%lld externalId=%lld", CORDON_VERSION,
	    (long long)rec->t * 1000, (long long)rec->id)) ||
	    (r = cef_kv(b, "cs1Label", "customer")) ||
	    (r = cef_kv(b, "cs1", ostr(o, "customer"))) ||
	    (r = cef_kv(b, "cn1Label", "size")) ||
	    (r = cef_kv(b, "cn1", num)) ||
	    (r = cef_kv(b, "cs2Label", "head")) ||
	    (r = cef_kv(b, "cs2", ostr(o, "head"))) ||
	    (r = cef_kv(b, "msg", msg)))
		goto out;
out:
	free(msg);
	return r;
}

int
feed_line_cef(struct buf *b, const struct feed_rec *rec)
{
	return rec->kind == FEED_CHECKPOINT ? cef_checkpoint(b, rec) :
	    cef_entry(b, rec);
}

int
feed_opt_format(const json_t *opts)
{
	const json_t	*v = json_object_get(opts, "format");

	if (v == NULL || (json_is_string(v) &&
	    strcmp(json_string_value(v), "jsonl") == 0))
		return 0;
	if (json_is_string(v) && strcmp(json_string_value(v), "cef") == 0)
		return 1;
	return -1;
}

const char *
feed_opt_str(const json_t *opts, const char *key)
{
	return json_string_value(json_object_get(opts, key));
}

int64_t
feed_opt_int(const json_t *opts, const char *key, int64_t def, int64_t min,
    int64_t max)
{
	const json_t	*v = json_object_get(opts, key);
	int64_t		 i;

	if (v == NULL)
		return def;
	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	return i < min || i > max ? -1 : i;
}

int
feed_opt_only(const json_t *opts, const char *const *keys, char *err,
    size_t len)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_object_foreach((json_t *)opts, k, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL) {
			(void)snprintf(err, len, "unknown setting '%s'", k);
			return -EINVAL;
		}
	}
	return 0;
}
