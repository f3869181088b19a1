/*
 * fw_nft: host isolation in an nftables table on a Linux gateway, over
 * SSH (fw_nft.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../agent/secret.h"
#include "../agent/util.h"
#include "fw_nft.h"
#include "ssh_conn.h"

#define NFT_TABLE	"inet cordon"
#define NFT_ADDR_MAX	INET6_ADDRSTRLEN
#define NFT_NET_MAX	(INET6_ADDRSTRLEN + 5)
#define NFT_HOST_MAX	64

/* An address or a network: af, bytes (4 or 16 used), prefix length. */
struct nft_net {
	int		af;
	unsigned char	a[16];
	int		plen;
};

struct nftconn {
	const struct target	*t;
	struct sconn		*ssh;
	struct nft_net		*allow;
	size_t			 nallow;
	int64_t			 ttl;		/* seconds, 0: none */
	struct nft_net		 self;		/* the ssh host, if literal */
	int			 has_self;
	struct nft_net		 own;		/* our end of the session */
	int			 has_own;
};

static const char *const nft_keys[] = { "name", "type", "provider",
    "host", "port", "user", "key_file", "password_file", "known_hosts",
    "sudo", "timeout", "allow", "quarantine_timeout" };

static size_t
alen(int af)
{
	return af == AF_INET ? 4 : 16;
}

static const char *
set_name(int af)
{
	return af == AF_INET ? "quarantine4" : "quarantine6";
}

/* "10.0.0.1", "fd00::/64": 0, or -EINVAL.  Host bits must be zero. */
static int
net_parse(const char *s, struct nft_net *ret)
{
	struct nft_net	 n;
	char		 tmp[NFT_NET_MAX + 1], *sl, *end;
	long		 p;
	size_t		 i;

	if (s == NULL || strlen(s) > NFT_NET_MAX)
		return -EINVAL;
	(void)snprintf(tmp, sizeof(tmp), "%s", s);
	memset(&n, 0, sizeof(n));
	if ((sl = strchr(tmp, '/')) != NULL)
		*sl++ = '\0';
	if (inet_pton(AF_INET, tmp, n.a) == 1)
		n.af = AF_INET;
	else if (inet_pton(AF_INET6, tmp, n.a) == 1)
		n.af = AF_INET6;
	else
		return -EINVAL;
	n.plen = (int)alen(n.af) * 8;
	if (sl) {
		errno = 0;
		p = strtol(sl, &end, 10);
		if (errno || end == sl || *end || p < 0 || p > n.plen)
			return -EINVAL;
		n.plen = (int)p;
	}
	for (i = 0; i < alen(n.af); i++) {
		int bits = n.plen - (int)i * 8;
		unsigned char m = bits >= 8 ? 0xff : bits <= 0 ? 0 :
		    (unsigned char)(0xff << (8 - bits));

		if (n.a[i] & ~m)
			return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* Renders n (with "/plen" for networks) into out. */
static int
net_render(const struct nft_net *n, char *out, size_t len)
{
	char	a[NFT_ADDR_MAX];
	int	k;

	if (inet_ntop(n->af, n->a, a, sizeof(a)) == NULL)
		return -EINVAL;
	if (n->plen == (int)alen(n->af) * 8)
		k = snprintf(out, len, "%s", a);
	else
		k = snprintf(out, len, "%s/%d", a, n->plen);
	return k < 0 || (size_t)k >= len ? -ENAMETOOLONG : 0;
}

static int
net_contains(const struct nft_net *n, const struct nft_net *h)
{
	int	i, bits;

	if (n->af != h->af)
		return 0;
	for (i = 0; i < (int)alen(n->af); i++) {
		bits = n->plen - i * 8;
		if (bits <= 0)
			break;
		if (bits >= 8) {
			if (n->a[i] != h->a[i])
				return 0;
		} else if ((n->a[i] ^ h->a[i]) &
		    (unsigned char)(0xff << (8 - bits)))
			return 0;
	}
	return 1;
}

/* h is already inside one of the configured allow networks. */
static int
allowed(const struct nftconn *c, const struct nft_net *h)
{
	size_t	i;

	for (i = 0; i < c->nallow; i++)
		if (net_contains(&c->allow[i], h))
			return 1;
	return 0;
}

/* A single unicast host: not unspecified, loopback or multicast. */
static int
host_unicast(const struct nft_net *h)
{
	static const unsigned char zero[16];

	if (h->af == AF_INET)
		return h->a[0] != 0 && h->a[0] != 127 && h->a[0] < 224;
	if (memcmp(h->a, zero, 16) == 0 || h->a[0] == 0xff)
		return 0;
	return !(memcmp(h->a, zero, 15) == 0 && h->a[15] == 1);
}

/* The allow list of t into *ret (caller frees); err says which entry. */
static int
allow_parse(const struct target *t, struct nft_net **ret, size_t *ret_n,
    char *err, size_t errlen)
{
	json_t		*l = json_object_get(t->opts, "allow"), *v;
	struct nft_net	*a = NULL;
	size_t		 i;

	*ret = NULL;
	*ret_n = 0;
	if (l == NULL)
		return 0;
	if (!json_is_array(l) || json_array_size(l) > NFT_ALLOW_MAX) {
		(void)snprintf(err, errlen, "'allow' must be a list of at "
		    "most %d addresses or networks", NFT_ALLOW_MAX);
		return -EINVAL;
	}
	a = xcalloc(json_array_size(l) + 1, sizeof(*a));
	json_array_foreach(l, i, v) {
		if (net_parse(json_string_value(v), &a[i]) != 0) {
			(void)snprintf(err, errlen, "allow[%zu]: not an IPv4 "
			    "or IPv6 address or network (host bits zero)", i);
			free(a);
			return -EINVAL;
		}
	}
	*ret = a;
	*ret_n = json_array_size(l);
	return 0;
}

static int
ttl_parse(const struct target *t, int64_t *ret, char *err, size_t errlen)
{
	json_t		*v = json_object_get(t->opts, "quarantine_timeout");
	int64_t		 s;

	*ret = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || parse_duration(json_string_value(v),
	    &s) != 0 || s < 1 || s > NFT_TTL_MAX) {
		(void)snprintf(err, errlen, "'quarantine_timeout' must be a "
		    "duration like \"90s\", \"30m\", \"1h\" (at most 365d)");
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

int
fw_nft_target_check(const struct target *t, char *err, size_t errlen)
{
	struct nft_net	*al = NULL;
	const char	*key;
	json_t		*v;
	int64_t		 ttl;
	size_t		 i, nal;
	int		 r;

	json_object_foreach(t->opts, key, v) {
		for (i = 0; i < ARRAY_SIZE(nft_keys); i++)
			if (strcmp(key, nft_keys[i]) == 0)
				break;
		if (i == ARRAY_SIZE(nft_keys)) {
			(void)snprintf(err, errlen, "unknown setting '%s' for "
			    "provider 'nft'", key);
			return -EINVAL;
		}
	}
	if ((r = ssh_conn_check(t, 0, err, errlen)) != 0 ||
	    (r = ttl_parse(t, &ttl, err, errlen)) != 0 ||
	    (r = allow_parse(t, &al, &nal, err, errlen)) != 0)
		return r;
	free(al);
	return 0;
}

void
fw_nft_close(void *arg)
{
	struct nftconn	*c = arg;

	if (c == NULL)
		return;
	ssh_conn_close(c->ssh);
	free(c->allow);
	free(c);
}

/* The local address of the session's socket: the agent as seen there. */
static int
own_addr(struct sconn *s, struct nft_net *ret)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	socket_t		 fd = ssh_get_fd(s->s);

	memset(ret, 0, sizeof(*ret));
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -errno;
	if (ss.ss_family == AF_INET) {
		ret->af = AF_INET;
		memcpy(ret->a, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		ret->plen = 32;
	} else if (ss.ss_family == AF_INET6) {
		ret->af = AF_INET6;
		memcpy(ret->a, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		ret->plen = 128;
	} else
		return -EAFNOSUPPORT;
	return 0;
}

int
fw_nft_open(const struct target *t, void **ret, char *err, size_t errlen)
{
	struct nftconn	*c = xcalloc(1, sizeof(*c));
	int		 r;

	c->t = t;
	if ((r = ttl_parse(t, &c->ttl, err, errlen)) != 0 ||
	    (r = allow_parse(t, &c->allow, &c->nallow, err, errlen)) != 0 ||
	    (r = ssh_conn_open(t, &c->ssh, err, errlen)) != 0)
		goto out;
	c->has_self = net_parse(ssh_opt_str(t, "host"), &c->self) == 0;
	c->has_own = own_addr(c->ssh, &c->own) == 0;
	*ret = c;
	c = NULL;
	r = 0;
out:
	fw_nft_close(c);
	return r;
}

/* The state the act wants: isolated, unless it undoes an isolation. */
static int
wanted(const struct act *a)
{
	if (a->restore)
		return json_is_true(json_object_get(a->restore, "isolated"));
	return 1;
}

/* The act's host, checked against policy; -1 after act_fail. */
static int
host_of(const struct nftconn *c, struct act *a, struct nft_net *ret)
{
	const char		*h = act_param(a, "host");
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	const struct customer	*cu = a->customer;
	char			 r[NFT_NET_MAX];
	size_t			 i;

	if (h == NULL || *h == '\0') {
		act_fail(a, "missing parameter 'host'");
		return -1;
	}
	if (strlen(h) > NFT_HOST_MAX || strchr(h, '/') != NULL ||
	    net_parse(h, ret) != 0) {
		act_fail(a, "host is not an IPv4 or IPv6 address (provider "
		    "'nft' isolates by address)");
		return -1;
	}
	if (!host_unicast(ret) || net_render(ret, r, sizeof(r)) != 0) {
		act_fail(a, "host '%s' is not a unicast host address", h);
		return -1;
	}
	/* ::ffff:a.b.c.d would sit in quarantine6 and never match. */
	if (ret->af == AF_INET6 && memcmp(ret->a, v4mapped, 12) == 0) {
		act_fail(a, "host '%s' is IPv4-mapped: give the IPv4 address",
		    h);
		return -1;
	}
	for (i = 0; cu && i < cu->nprotected; i++)
		if (strcmp(cu->protected[i], h) == 0 ||
		    strcmp(cu->protected[i], r) == 0) {
			act_fail(a, "'%s' is a protected host", h);
			a->outcome = ACT_REFUSED;
			return -1;
		}
	/* Releasing is always allowed; isolating these would cut cordon. */
	if (!wanted(a))
		return 0;
	for (i = 0; i < c->nallow; i++)
		if (net_contains(&c->allow[i], ret)) {
			act_fail(a, "'%s' is on the allow list of target '%s' "
			    "(isolation never cuts off the agent)", r,
			    c->t->name);
			a->outcome = ACT_REFUSED;
			return -1;
		}
	if (c->has_own && net_contains(&c->own, ret)) {
		act_fail(a, "'%s' is the address cordon itself talks to "
		    "target '%s' from", r, c->t->name);
		a->outcome = ACT_REFUSED;
		return -1;
	}
	if (c->has_self && net_contains(&c->self, ret)) {
		act_fail(a, "'%s' is the gateway cordon reaches target '%s' "
		    "by", r, c->t->name);
		a->outcome = ACT_REFUSED;
		return -1;
	}
	return 0;
}

/* The whole table, its chains and allow sets, as one declaration. */
static int
script_table(const struct nftconn *c, struct buf *b)
{
	static const char *const chains[] = { "forward", "input", "output" };
	static const char *const rules[] = {
		"ip saddr @quarantine4 ip daddr @allow4 accept",
		"ip daddr @quarantine4 ip saddr @allow4 accept",
		"ip saddr @quarantine4 drop",
		"ip daddr @quarantine4 drop",
		"ip6 saddr @quarantine6 ip6 daddr @allow6 accept",
		"ip6 daddr @quarantine6 ip6 saddr @allow6 accept",
		"ip6 saddr @quarantine6 drop",
		"ip6 daddr @quarantine6 drop",
	};
	char	 n[NFT_NET_MAX];
	size_t	 i, j;
	int	 r, af, first;

	if ((r = buf_adds(b, "table " NFT_TABLE " {\n"
	    "\tset quarantine4 { type ipv4_addr; flags timeout; }\n"
	    "\tset quarantine6 { type ipv6_addr; flags timeout; }\n"
	    "\tset allow4 { type ipv4_addr; flags interval; auto-merge; }\n"
	    "\tset allow6 { type ipv6_addr; flags interval; auto-merge; }\n"))
	    != 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(chains); i++)
		if ((r = buf_printf(b, "\tchain %s { type filter hook %s "
		    "priority filter - 5; policy accept; }\n", chains[i],
		    chains[i])) != 0)
			return r;
	if ((r = buf_adds(b, "}\nflush set " NFT_TABLE " allow4\n"
	    "flush set " NFT_TABLE " allow6\n")) != 0)
		return r;
	/* The allow list, and always the agent's own address: isolating a
	 * host must never cut the path cordon reaches it (or undoes) by. */
	for (af = AF_INET; af != -1; af = af == AF_INET ? AF_INET6 : -1) {
		first = 1;
		for (i = 0; i <= c->nallow; i++) {
			const struct nft_net *a = i < c->nallow ? &c->allow[i] :
			    c->has_own && !allowed(c, &c->own) ? &c->own : NULL;

			if (a == NULL || a->af != af)
				continue;
			if ((r = net_render(a, n, sizeof(n))) != 0 ||
			    (r = buf_printf(b, "%s%s", first ?
			    "add element " NFT_TABLE " allow" : ", ",
			    first ? (af == AF_INET ? "4 { " : "6 { ") : ""))
			    != 0 || (r = buf_adds(b, n)) != 0)
				return r;
			first = 0;
		}
		if (!first && (r = buf_adds(b, " }\n")) != 0)
			return r;
	}
	for (i = 0; i < ARRAY_SIZE(chains); i++) {
		if ((r = buf_printf(b, "flush chain " NFT_TABLE " %s\n",
		    chains[i])) != 0)
			return r;
		for (j = 0; j < ARRAY_SIZE(rules); j++)
			if ((r = buf_printf(b, "add rule " NFT_TABLE " %s %s\n",
			    chains[i], rules[j])) != 0)
				return r;
	}
	return 0;
}

/* Marks every act still undecided as failed with msg. */
static void
fail_rest(struct act **v, int *skip, size_t n, const char *fmt,
    const char *detail)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!skip[i])
			act_fail(v[i], fmt, detail);
}

/* -EIO and -ETIMEDOUT end the batch; other errors concern the command. */
static int
transport_dead(int r)
{
	return r == -EIO || r == -ETIMEDOUT;
}

/*
 * Runs `nft -f -` with script on stdin.  0 and *ok = 1 when nft exited
 * 0; 0 and *ok = 0 with why filled when it refused; -errno when the
 * session died.
 */
static int
nft_script(struct nftconn *c, const struct buf *script, int *ok, char *why,
    size_t whylen)
{
	static const char *const argv[] = { "nft", "-f", "-", NULL };
	struct ssh_res	res;
	int		r;

	*ok = 0;
	why[0] = '\0';
	r = ssh_run(c->ssh, SSH_AS_ROOT, NULL, argv, script->p, script->len,
	    &res);
	if (r == 0 && res.status == 0)
		*ok = 1;
	else if (r == 0)
		ssh_res_errline(&res, why, whylen);
	else if (!transport_dead(r))
		(void)snprintf(why, whylen, "%s", strerror(-r));
	ssh_res_free(&res);
	return transport_dead(r) ? r : 0;
}

/*
 * Elements of one quarantine set into *ret (a new array; empty when the
 * table does not exist yet).  As nft_script for the rest.
 */
static int
list_set(struct nftconn *c, int af, json_t **ret, char *why, size_t whylen)
{
	const char	*argv[] = { "nft", "-j", "list", "set", "inet",
	    "cordon", set_name(af), NULL };
	struct ssh_res	 res;
	json_t		*j = NULL, *o, *s, *el;
	size_t		 i;
	int		 r;

	*ret = NULL;
	why[0] = '\0';
	if ((r = ssh_run(c->ssh, SSH_AS_ROOT, NULL, argv, NULL, 0,
	    &res)) != 0) {
		if (!transport_dead(r))
			(void)snprintf(why, whylen, "%s", strerror(-r));
		goto out;
	}
	if (res.status != 0) {
		ssh_res_errline(&res, why, whylen);
		/* "Error: No such file or directory": no table, no set. */
		if (strncmp(why, "Error: No such file or directory", 32) == 0) {
			why[0] = '\0';
			*ret = json_array();
		}
		goto out;
	}
	if ((j = json_loadb(res.out.p, res.out.len, 0, NULL)) == NULL) {
		(void)snprintf(why, whylen, "nft printed no JSON");
		goto out;
	}
	json_array_foreach(json_object_get(j, "nftables"), i, o) {
		if ((s = json_object_get(o, "set")) == NULL)
			continue;
		el = json_object_get(s, "elem");
		*ret = el ? json_incref(el) : json_array();
		goto out;
	}
	(void)snprintf(why, whylen, "nft listed no set");
out:
	json_decref(j);
	ssh_res_free(&res);
	return transport_dead(r) ? r : 0;
}

/* The element for h in elems, or NULL; elements are "a" or {"elem":...}. */
static json_t *
elem_find(json_t *elems, const struct nft_net *h)
{
	struct nft_net	 n;
	json_t		*e, *val;
	size_t		 i;

	json_array_foreach(elems, i, e) {
		val = json_is_object(e) ? json_object_get(json_object_get(e,
		    "elem"), "val") : e;
		if (net_parse(json_string_value(val), &n) == 0 &&
		    n.af == h->af && n.plen == h->plen &&
		    memcmp(n.a, h->a, alen(n.af)) == 0)
			return e;
	}
	return NULL;
}

/*
 * Reads both quarantine sets for the acts not skipped; on a read error
 * fails them and returns 1 (0: sets read).  -errno when the session died.
 */
static int
read_state(struct nftconn *c, struct act **v, int *skip, size_t n,
    json_t **ret4, json_t **ret6)
{
	char	why[ACT_MSG_MAX];
	int	r;

	*ret4 = *ret6 = NULL;
	if ((r = list_set(c, AF_INET, ret4, why, sizeof(why))) != 0 ||
	    (*ret4 && (r = list_set(c, AF_INET6, ret6, why,
	    sizeof(why))) != 0))
		return r;
	if (*ret4 == NULL || *ret6 == NULL) {
		fail_rest(v, skip, n, "cannot read the quarantine sets: %s",
		    why);
		json_decref(*ret4);
		json_decref(*ret6);
		*ret4 = *ret6 = NULL;
		return 1;
	}
	return 0;
}

/* Hosts of the batch into h; skip[i] set for acts already decided. */
static void
hosts_of(struct nftconn *c, struct act **v, size_t n, struct nft_net *h,
    int *skip)
{
	size_t	i;

	for (i = 0; i < n; i++)
		skip[i] = host_of(c, v[i], &h[i]) != 0;
}

/* {"host", "set", "isolated", "expires"?}: what the sets say of h. */
static json_t *
state_json(const struct nft_net *h, json_t *e)
{
	char	 r[NFT_NET_MAX];
	json_t	*o, *ex;

	if (net_render(h, r, sizeof(r)) != 0)
		r[0] = '\0';
	o = json_pack("{s:s,s:s,s:s,s:b}", "host", r, "provider", "nft",
	    "set", set_name(h->af), "isolated", e != NULL);
	ex = json_is_object(e) ? json_object_get(json_object_get(e, "elem"),
	    "expires") : NULL;
	if (json_is_integer(ex))
		(void)json_object_set(o, "expires_in", ex);
	return o;
}

int
fw_nft_check(void *conn, struct act **v, size_t n)
{
	struct nftconn	*c = conn;
	struct nft_net	*h = xcalloc(n + 1, sizeof(*h));
	int		*skip = xcalloc(n + 1, sizeof(*skip));
	json_t		*s4 = NULL, *s6 = NULL, *e;
	char		 r[NFT_NET_MAX], ttl[48] = "";
	size_t		 i;
	int		 rc, st, want;

	hosts_of(c, v, n, h, skip);
	if ((rc = read_state(c, v, skip, n, &s4, &s6)) != 0)
		goto out;
	if (c->ttl > 0)
		(void)snprintf(ttl, sizeof(ttl), ", expires after %llds",
		    (long long)c->ttl);
	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if (skip[i])
			continue;
		e = elem_find(h[i].af == AF_INET ? s4 : s6, &h[i]);
		st = e != NULL;
		want = wanted(a);
		json_decref(a->before);
		a->before = state_json(&h[i], e);
		free(a->change);
		a->change = NULL;
		if (st == want) {
			a->outcome = ACT_NOCHANGE;
			continue;
		}
		(void)net_render(&h[i], r, sizeof(r));
		a->change = want ?
		    xasprintf("isolate host '%s': add it to nft set "
		    "inet cordon %s on %s%s", r, set_name(h[i].af), c->t->name,
		    ttl) :
		    xasprintf("release host '%s': delete it from nft set "
		    "inet cordon %s on %s", r, set_name(h[i].af), c->t->name);
		a->outcome = ACT_OK;
	}
	rc = 0;
out:
	json_decref(s4);
	json_decref(s6);
	free(h);
	free(skip);
	return rc;
}

int
fw_nft_apply(void *conn, struct act **v, size_t n)
{
	struct nftconn	*c = conn;
	struct nft_net	*h = xcalloc(n + 1, sizeof(*h));
	int		*skip = xcalloc(n + 1, sizeof(*skip));
	struct buf	 b;
	char		 r[NFT_NET_MAX], why[ACT_MSG_MAX], ttl[32] = "";
	size_t		 i, todo = 0;
	int		 rc, ok;

	buf_init(&b, NFT_SCRIPT_MAX);
	hosts_of(c, v, n, h, skip);
	if (c->ttl > 0)
		(void)snprintf(ttl, sizeof(ttl), " timeout %llds",
		    (long long)c->ttl);
	if ((rc = script_table(c, &b)) != 0)
		goto toolong;
	for (i = 0; i < n; i++) {
		if (skip[i])
			continue;
		if ((rc = net_render(&h[i], r, sizeof(r))) != 0)
			goto toolong;
		/* Add then delete: a release never fails on a gone element. */
		rc = buf_printf(&b, "add element " NFT_TABLE " %s { %s%s }\n",
		    set_name(h[i].af), r, wanted(v[i]) ? ttl : "");
		if (rc == 0 && !wanted(v[i]))
			rc = buf_printf(&b, "delete element " NFT_TABLE
			    " %s { %s }\n", set_name(h[i].af), r);
		if (rc != 0)
			goto toolong;
		todo++;
	}
	rc = 0;
	if (todo == 0)
		goto out;
	if ((rc = nft_script(c, &b, &ok, why, sizeof(why))) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (skip[i])
			continue;
		if (!ok) {
			act_fail(v[i], "nft refused the transaction: %s", why);
			continue;
		}
		json_decref(v[i]->observed);
		v[i]->observed = json_pack("{s:s,s:s,s:b}", "provider", "nft",
		    "set", set_name(h[i].af), "isolated", wanted(v[i]));
		v[i]->outcome = ACT_OK;
	}
	goto out;
toolong:
	fail_rest(v, skip, n, "%s", "nft transaction too large");
	rc = 0;
out:
	buf_free(&b);
	free(h);
	free(skip);
	return rc;
}

int
fw_nft_verify(void *conn, struct act **v, size_t n)
{
	struct nftconn	*c = conn;
	struct nft_net	*h = xcalloc(n + 1, sizeof(*h));
	int		*skip = xcalloc(n + 1, sizeof(*skip));
	json_t		*s4 = NULL, *s6 = NULL, *e;
	char		 r[NFT_NET_MAX];
	size_t		 i;
	int		 rc;

	hosts_of(c, v, n, h, skip);
	if ((rc = read_state(c, v, skip, n, &s4, &s6)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct act *a = v[i];

		if (skip[i])
			continue;
		e = elem_find(h[i].af == AF_INET ? s4 : s6, &h[i]);
		json_decref(a->observed);
		a->observed = state_json(&h[i], e);
		(void)net_render(&h[i], r, sizeof(r));
		if ((e != NULL) != wanted(a))
			act_fail(a, "nft set inet cordon %s %s '%s'",
			    set_name(h[i].af), e ? "still holds" :
			    "does not hold", r);
		else
			a->outcome = ACT_OK;
	}
	rc = 0;
out:
	json_decref(s4);
	json_decref(s6);
	free(h);
	free(skip);
	return rc;
}
