/*
 * registry: the list of compiled-in drivers.  Adding an action family is
 * one file in actions/ and one line here.
 */
#include <string.h>

#include "../agent/driver.h"

extern const struct driver ldap_driver;
extern const struct driver ssh_driver;
extern const struct driver firewall_driver;
extern const struct driver snapshot_driver;

static const struct driver *drivers[] = {
	&ldap_driver,
	&ssh_driver,
	&firewall_driver,
	&snapshot_driver,
};

const struct driver *
driver_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

const struct verb *
driver_verb(const char *q, const struct driver **ret)
{
	const struct driver	*d;
	const struct verb	*v;
	const char		*dot = strchr(q, '.');
	char			 fam[32];
	size_t			 n;

	if (dot == NULL || (n = (size_t)(dot - q)) >= sizeof(fam))
		return NULL;
	memcpy(fam, q, n);
	fam[n] = '\0';
	if ((d = driver_find(fam)) == NULL)
		return NULL;
	for (v = d->verbs; v->name; v++)
		if (strcmp(v->name, dot + 1) == 0) {
			if (ret)
				*ret = d;
			return v;
		}
	return NULL;
}
