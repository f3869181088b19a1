#include <errno.h>
#include <string.h>

#include "esc.h"

static const char hex[] = "0123456789abcdef";

static int
add_hex(struct buf *b, char lead, unsigned char c)
{
	char	t[3] = { lead, hex[c >> 4], hex[c & 15] };

	return buf_add(b, t, 3);
}

int
esc_ldap_filter(struct buf *b, const char *s)
{
	const unsigned char	*p;
	int			 r;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '*' || *p == '(' || *p == ')' || *p == '\\' ||
		    *p < 0x20 || *p >= 0x7f)
			r = add_hex(b, '\\', *p);
		else
			r = buf_addc(b, (char)*p);
		if (r != 0)
			return r;
	}
	return 0;
}

int
esc_ldap_dn(struct buf *b, const char *s)
{
	const unsigned char	*p;
	size_t			 n = strlen(s), i;
	int			 r;

	if (n == 0)
		return -EINVAL;
	for (i = 0, p = (const unsigned char *)s; i < n; i++) {
		if (strchr(",+\"\\<>;=", p[i]) ||
		    (i == 0 && (p[i] == ' ' || p[i] == '#')) ||
		    (i == n - 1 && p[i] == ' ')) {
			if ((r = buf_addc(b, '\\')) != 0 ||
			    (r = buf_addc(b, (char)p[i])) != 0)
				return r;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			if ((r = add_hex(b, '\\', p[i])) != 0)
				return r;
		} else if ((r = buf_addc(b, (char)p[i])) != 0)
			return r;
	}
	return 0;
}

int
esc_shell_word(struct buf *b, const char *s)
{
	int	r;

	if ((r = buf_addc(b, '\'')) != 0)
		return r;
	for (; *s; s++) {
		if (*s == '\'')
			r = buf_adds(b, "'\\''");
		else
			r = buf_addc(b, *s);
		if (r != 0)
			return r;
	}
	return buf_addc(b, '\'');
}

int
esc_url(struct buf *b, const char *s)
{
	const unsigned char	*p;
	int			 r;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			r = buf_addc(b, (char)*p);
		else
			r = add_hex(b, '%', *p);
		if (r != 0)
			return r;
	}
	return 0;
}

int
esc_html(struct buf *b, const char *s)
{
	int	r;

	for (; *s; s++) {
		switch (*s) {
		case '&': r = buf_adds(b, "&amp;"); break;
		case '<': r = buf_adds(b, "&lt;"); break;
		case '>': r = buf_adds(b, "&gt;"); break;
		case '"': r = buf_adds(b, "&quot;"); break;
		case '\'': r = buf_adds(b, "&#39;"); break;
		default: r = buf_addc(b, *s); break;
		}
		if (r != 0)
			return r;
	}
	return 0;
}
