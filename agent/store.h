/*
 * store: the embedded SQLite database (WAL, synchronous=FULL) that holds
 * incidents, runs, actions, approvals and the journal.  One writer: the
 * agent.  A committed transaction is on disk (fsync'd) when store_commit
 * returns, which is what lets the journal be written before a side effect.
 *
 * Prepared statements are cached by the address of their SQL text, so
 * callers pass string literals.  store_bind() binds by a format string:
 * 's' string (NULL binds NULL), 'i' int64, 'j' json_t * (dumped compact,
 * NULL binds NULL).
 */
#ifndef CORDON_STORE_H
#define CORDON_STORE_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "hash.h"
#include "util.h"

#define STORE_STMT_CACHE 64

struct store {
	sqlite3		*db;
	int		 in_tx;
	int64_t		 jseq;			/* last journal seq */
	char		 jhead[HASH_HEX_LEN + 1];	/* its hash */
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	} cache[STORE_STMT_CACHE];
};

int	store_open(const char *path, struct store **ret, char *err,
	    size_t errlen) WARN_UNUSED;
void	store_close(struct store *);
int	store_begin(struct store *) WARN_UNUSED;
int	store_commit(struct store *) WARN_UNUSED;
void	store_rollback(struct store *);
/* Returns a reset statement with bindings from fmt; fatal on bad SQL. */
sqlite3_stmt	*store_q(struct store *, const char *sql, const char *fmt,
		    ...);
/* Runs a statement that returns no rows. */
int	store_exec(struct store *, const char *sql, const char *fmt, ...)
	    WARN_UNUSED;
const char	*store_errmsg(struct store *);
/* Column helpers: NULL-safe copies. */
char	*store_col_str(sqlite3_stmt *, int);
json_t	*store_col_json(sqlite3_stmt *, int);

#endif
