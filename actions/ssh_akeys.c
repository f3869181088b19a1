/*
 * ssh_akeys: authorized_keys text as data -- the key fingerprints in a
 * file, the lines a keep list keeps, and the runbook's keep parameter --
 * for drivers that rewrite such files (ssh_akeys.h).
 *
 * These are the rules actions/ssh.c applies to Unix files, taken out so
 * the Windows verbs (ssh_win.c) judge administrators_authorized_keys
 * exactly the same way; ssh.c can switch to them once its restructuring
 * has landed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "../agent/log.h"
#include "ssh_akeys.h"
#include "ssh_conn.h"

char *
ssh_b64_encode(const char *p, size_t n)
{
	char	*out = xmalloc(4 * ((n + 2) / 3) + 1);

	(void)EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p,
	    (int)n);
	return out;
}

int
ssh_b64_decode(const char *s, char **ret, size_t *ret_len)
{
	size_t	 n = strlen(s);
	char	*out;
	int	 m;

	if (n % 4 != 0 || n > 4 * (SSH_AKEYS_MAX / 3 + 1))
		return -EINVAL;
	out = xmalloc(n / 4 * 3 + 1);
	if ((m = EVP_DecodeBlock((unsigned char *)out,
	    (const unsigned char *)s, (int)n)) < 0) {
		free(out);
		return -EINVAL;
	}
	if (n >= 1 && s[n - 1] == '=')
		m--;
	if (n >= 2 && s[n - 2] == '=')
		m--;
	*ret = out;
	*ret_len = (size_t)m;
	return 0;
}

int
ssh_akeys_line_fp(const char *line, size_t len, char *out, size_t outlen)
{
	enum ssh_keytypes_e	 type;
	ssh_key			 k = NULL;
	char			 tmp[SSH_AKEYS_LINE_MAX], *tok[4], *p;
	int			 nt = 0, q, i, r = -1;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, line, len);
	tmp[len] = '\0';
	p = tmp;
	/* Options may hold quoted spaces: command="a b",from="x" ssh-... */
	while (nt < 4) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || (*p == '#' && nt == 0))
			break;
		tok[nt++] = p;
		for (q = 0; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '\\' && q && p[1])
				p++;
			else if (*p == '"')
				q = !q;
		}
		if (*p)
			*p++ = '\0';
	}
	for (i = 0; i + 1 < nt; i++) {
		if ((type = ssh_key_type_from_name(tok[i])) ==
		    SSH_KEYTYPE_UNKNOWN)
			continue;
		if (ssh_pki_import_pubkey_base64(tok[i + 1], type, &k) ==
		    SSH_OK && ssh_key_fp(k, out, outlen) == 0)
			r = 0;
		break;
	}
	ssh_key_free(k);
	return r;
}

json_t *
ssh_akeys_fps(const char *d, size_t len)
{
	json_t		*a = json_array();
	const char	*p = d, *e, *end = d + len;
	char		 fp[128];

	while (p < end) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if (ssh_akeys_line_fp(p, (size_t)(e - p), fp, sizeof(fp)) == 0)
			(void)json_array_append_new(a, json_string(fp));
		p = e + 1;
	}
	return a;
}

int
ssh_akeys_has(const json_t *list, const char *fp)
{
	size_t	 i;
	json_t	*v;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), fp) == 0)
			return 1;
	return 0;
}

/* The keep value: 0, or -EINVAL.  *ret_list is set on success only. */
static int
keep_parse_str(const char *s, enum ssh_keep_mode *ret, json_t **ret_list)
{
	const char	*p, *e;
	json_t		*l = json_array();
	char		 fp[64];
	size_t		 n, i;

	if (s == NULL || strcmp(s, "new") == 0 || strcmp(s, "none") == 0) {
		*ret = s && strcmp(s, "none") == 0 ? SSH_KEEP_NONE :
		    SSH_KEEP_NEW;
		*ret_list = l;
		return 0;
	}
	for (p = s; *p; p = *e ? e + 1 : e) {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n != 50 || strncmp(p, "SHA256:", 7) != 0 ||
		    json_array_size(l) >= SSH_AKEYS_KEEP_MAX)
			goto bad;
		for (i = 7; i < n; i++)
			if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' &&
			    p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
			    p[i] == '+' || p[i] == '/'))
				goto bad;
		memcpy(fp, p, n);
		fp[n] = '\0';
		(void)json_array_append_new(l, json_string(fp));
	}
	if (json_array_size(l) == 0)
		goto bad;
	*ret = SSH_KEEP_LIST;
	*ret_list = l;
	return 0;
bad:
	json_decref(l);
	return -EINVAL;
}

static void
keep_why(const char *s, char *err, size_t errlen)
{
	(void)snprintf(err, errlen, "'keep' is \"%.40s%s\": it must be "
	    "\"new\", \"none\" or a comma-separated list of SHA256:... key "
	    "fingerprints (at most %d)", s, strlen(s) > 40 ? "..." : "",
	    SSH_AKEYS_KEEP_MAX);
}

int
ssh_keep_parse(struct act *a, enum ssh_keep_mode *ret, json_t **ret_list)
{
	const char	*s = act_param(a, "keep");
	char		 why[256];

	*ret_list = NULL;
	if (keep_parse_str(s, ret, ret_list) == 0)
		return 0;
	keep_why(s, why, sizeof(why));
	act_fail(a, "%s", why);
	return 1;
}

int
ssh_keep_arg_check(const char *name, const char *value, char *err,
    size_t errlen)
{
	enum ssh_keep_mode	 km;
	json_t			*l = NULL;

	if (strcmp(name, "keep") != 0)
		return 0;
	if (keep_parse_str(value, &km, &l) != 0) {
		keep_why(value, err, errlen);
		return -EINVAL;
	}
	json_decref(l);
	return 0;
}

char *
ssh_akeys_kept(const char *data, size_t len, const json_t *keep,
    size_t *ret_len)
{
	struct buf	 b;
	const char	*p = data, *e, *end = data + len;
	char		 fp[128];

	buf_init(&b, SSH_AKEYS_MAX + SSH_AKEYS_LINE_MAX);
	while (p < end) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if (ssh_akeys_line_fp(p, (size_t)(e - p), fp,
		    sizeof(fp)) == 0 && ssh_akeys_has(keep, fp) &&
		    (buf_add(&b, p, (size_t)(e - p)) != 0 ||
		    buf_addc(&b, '\n') != 0))
			fatalx("%s: kept keys exceed the file", __func__);
		p = e + 1;
	}
	*ret_len = b.len;
	return buf_steal(&b);
}

