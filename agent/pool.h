/*
 * pool: run n independent tasks on up to par threads and wait for all.
 *
 * Task i is fn(ctx, i).  Tasks marked 0 in parallel_ok (NULL: all may run
 * in parallel) run one after another on the calling thread first; the
 * others are handed out, one at a time, to min(par, n) threads, the
 * calling thread among them.  fn must not touch another task's state.
 * When no thread can be started, everything still runs, here.  Returns
 * after every task has returned.
 */
#ifndef CORDON_POOL_H
#define CORDON_POOL_H

#include <stddef.h>

void	pool_run(size_t n, const int *parallel_ok, int par,
	    void (*fn)(void *ctx, size_t i), void *ctx);

#endif
