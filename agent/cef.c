#include "cef.h"

int
cef_header(struct buf *b, const char *s)
{
	int	r;

	for (; *s; s++) {
		if (*s == '\\' || *s == '|') {
			char	t[2] = { '\\', *s };

			r = buf_add(b, t, 2);
		} else if (*s == '\r' || *s == '\n')
			r = buf_addc(b, ' ');
		else
			r = buf_addc(b, *s);
		if (r != 0)
			return r;
	}
	return 0;
}

int
cef_ext(struct buf *b, const char *s)
{
	int	r;

	for (; *s; s++) {
		if (*s == '\\')
			r = buf_adds(b, "\\\\");
		else if (*s == '=')
			r = buf_adds(b, "\\=");
		else if (*s == '\n')
			r = buf_adds(b, "\\n");
		else if (*s == '\r')
			r = buf_adds(b, "\\r");
		else
			r = buf_addc(b, *s);
		if (r != 0)
			return r;
	}
	return 0;
}
