/*
 * fw_nft: firewall.isolate_host on a Linux gateway through nftables, over
 * SSH (actions/ssh_conn.h: pinned host keys, bounded waits, argv quoted
 * word by word).  actions/firewall.c hands a target with
 * provider = "nft" to these functions; they have the driver's contract
 * (agent/driver.h).
 *
 *   { name = "gw"; type = "firewall"; provider = "nft";
 *     host = "10.0.0.254"; port = 22; user = "cordon";
 *     key_file = "/etc/cordon/gw.key"; known_hosts = "/etc/cordon/gw.kh";
 *     sudo = true; timeout = 10;             # ssh: seconds per command
 *     allow = [ "10.0.0.1", "fd00::1", "192.0.2.0/24" ];
 *     quarantine_timeout = "1h"; }           # optional: elements expire
 *
 * On the gateway cordon owns one table, `table inet cordon`: sets
 * quarantine4/quarantine6 (flags timeout) hold isolated hosts; sets
 * allow4/allow6 (intervals) hold the target's `allow` list and, always,
 * the agent's own address as the gateway sees its SSH session (so an
 * isolated host stays reachable from cordon, whatever the list says).
 * Three base
 * chains (forward, input, output; priority filter - 5; policy accept)
 * carry the same rules: a packet from or to a quarantined address passes
 * only if its other end is on the allow list, else it is dropped.  No rule
 * looks at conntrack state, so packets of connections established before
 * the isolation are dropped too (a drop in any base chain is final, so an
 * `established accept` in another table cannot let them through).  The
 * input and output chains cut the host off the gateway itself as well.
 *
 * check only reads (`nft -j list set`); a missing table reads as "not
 * isolated".  apply writes the whole table declaration, re-writes the
 * chains and allow sets (so they follow the config) and adds the elements,
 * all in one `nft -f -` transaction fed on stdin; a batch is one
 * transaction.  Undo deletes only elements whose act added them: when a
 * host was already quarantined, check says no change, and that act's undo
 * finds nothing to do.  Release is "add element; delete element" in one
 * transaction, so an element that expired meanwhile is not an error.
 *
 * Conntrack entries are left alone: the drops need no state, and after a
 * release a stalled flow simply resumes (tests/it/it_nft.c shows both).
 *
 * Refused (ACT_REFUSED): a host on the allow list, the gateway's own ssh
 * address, the local address of cordon's own ssh session to it, a
 * protected host.  Hosts must be literal unicast IPv4 or IPv6 addresses
 * (inet_pton; IPv4-mapped IPv6 is refused); cordon renders them itself
 * (inet_ntop), so no runbook text ever reaches nft or a shell.
 *
 * Limits: NFT_ALLOW_MAX allow entries, NFT_SCRIPT_MAX bytes per
 * transaction, set listings up to SSH_OUT_MAX bytes.
 */
#ifndef CORDON_FW_NFT_H
#define CORDON_FW_NFT_H

#include <stddef.h>

#include "../agent/act.h"
#include "../agent/config.h"

#define NFT_ALLOW_MAX		256
#define NFT_SCRIPT_MAX		(1024 * 1024)
#define NFT_TTL_MAX		(365LL * 86400)

/* Validates the target's settings; err has no prefix. */
int	fw_nft_target_check(const struct target *, char *err, size_t errlen);
/* Connects (ssh_conn_open); *ret is freed with fw_nft_close. */
int	fw_nft_open(const struct target *, void **ret, char *err,
	    size_t errlen);
void	fw_nft_close(void *);

int	fw_nft_check(void *, struct act **, size_t);
/* Isolates, or releases when the act undoes an isolation. */
int	fw_nft_apply(void *, struct act **, size_t);
int	fw_nft_verify(void *, struct act **, size_t);

#endif
