/*
 * ctl: the control socket between `cordon agent` and its clients.
 *
 * One request per connection: the client sends one JSON object on one
 * line; the agent answers with one JSON object on one line
 * ({"ok": true, ...} or {"ok": false, "error": "...", "exit": N}),
 * optionally followed by raw lines when the answer says "stream": true.
 * The caller's identity is the peer uid from SO_PEERCRED, never a field
 * of the request.
 */
#ifndef CORDON_CTL_H
#define CORDON_CTL_H

#include <sys/types.h>

#include <jansson.h>

#include "util.h"

#define CTL_REQUEST_MAX	(16 * 1024 * 1024)
/* A plan or run of 100,000 accounts takes a while; a dead agent not. */
#define CTL_TIMEOUT_MS	300000

int	ctl_listen(const char *path) WARN_UNUSED;	/* fd or -errno */
int	ctl_connect(const char *path) WARN_UNUSED;	/* fd or -errno */
int	ctl_peer_uid(int fd, uid_t *ret) WARN_UNUSED;
int	ctl_send(int fd, const json_t *) WARN_UNUSED;
/* Reads one line (bounded by max, CTL_TIMEOUT_MS per read) as JSON. */
int	ctl_recv(int fd, size_t max, json_t **ret) WARN_UNUSED;
int	ctl_write_all(int fd, const void *, size_t) WARN_UNUSED;

#endif
