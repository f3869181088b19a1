/*
 * pool: the executor's fan-out (exec.c), also used by `hosts scan`.  A
 * shared counter under a mutex hands out task indices; no queue, no
 * condition variables: every task is known before the threads start.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "util.h"

struct pool {
	pthread_mutex_t	  mu;
	size_t		  next, n;
	const size_t	 *idx;
	void		(*fn)(void *, size_t);
	void		 *ctx;
};

static void *
pool_worker(void *p)
{
	struct pool	*pl = p;
	size_t		 k;

	for (;;) {
		if (pthread_mutex_lock(&pl->mu) != 0)
			fatalx("%s: mutex", __func__);
		k = pl->next++;
		(void)pthread_mutex_unlock(&pl->mu);
		if (k >= pl->n)
			return NULL;
		pl->fn(pl->ctx, pl->idx[k]);
	}
}

void
pool_run(size_t n, const int *parallel_ok, int par, void (*fn)(void *,
    size_t), void *ctx)
{
	struct pool	 pl;
	pthread_t	*th;
	size_t		*idx = xcalloc(n ? n : 1, sizeof(*idx)), np = 0, i;
	size_t		 nth, started = 0;

	for (i = 0; i < n; i++) {
		if ((parallel_ok == NULL || parallel_ok[i]) && par > 1)
			idx[np++] = i;
		else
			fn(ctx, i);
	}
	if (np == 1)
		fn(ctx, idx[0]);
	if (np <= 1) {
		free(idx);
		return;
	}
	memset(&pl, 0, sizeof(pl));
	if (pthread_mutex_init(&pl.mu, NULL) != 0)
		fatalx("%s: mutex", __func__);
	pl.n = np;
	pl.idx = idx;
	pl.fn = fn;
	pl.ctx = ctx;
	/* The calling thread is one of the par workers. */
	nth = (np < (size_t)par ? np : (size_t)par) - 1;
	th = xcalloc(nth, sizeof(*th));
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, pool_worker, &pl) == 0)
			started++;
		else
			break;
	/* Whatever no thread could be started for runs here. */
	(void)pool_worker(&pl);
	for (i = 0; i < started; i++)
		(void)pthread_join(th[i], NULL);
	(void)pthread_mutex_destroy(&pl.mu);
	free(th);
	free(idx);
}

