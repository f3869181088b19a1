#include <string.h>

#include "csv.h"

int
csv_field(struct buf *b, const char *s)
{
	size_t	n;
	int	r;

	if (s == NULL || *s == '\0')
		return 0;
	n = strlen(s);
	if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' && s[n - 1] != ' ')
		return buf_adds(b, s);
	if ((r = buf_addc(b, '"')) != 0)
		return r;
	for (; *s; s++)
		if ((*s == '"' && (r = buf_addc(b, '"')) != 0) ||
		    (r = buf_addc(b, *s)) != 0)
			return r;
	return buf_addc(b, '"');
}

int
csv_record(struct buf *b, const char *const *fields, size_t n)
{
	size_t	i;
	int	r;

	for (i = 0; i < n; i++)
		if ((i > 0 && (r = buf_addc(b, ',')) != 0) ||
		    (r = csv_field(b, fields[i])) != 0)
			return r;
	return buf_adds(b, "\r\n");
}
