/* The SEA loop across MPI ranks: splitting a round's work and sharing its results.
 * Every function is a no-op (or a move) on one rank. See loop_dist.c for the design. */
#ifndef SEA_ALIGNMENT_LOOP_DIST_H
#define SEA_ALIGNMENT_LOOP_DIST_H

#include "alignment/actor.h"
#include "alignment/loop_internal.h"

/* This rank's contiguous block [lo, hi) of n items. */
void sea_run_split(const sea_run *r, int n, int *lo, int *hi);
/* All ranks' candidates concatenated in rank order into *all (takes ownership of *mine). */
sea_status sea_run_gather_candidates(sea_run *r, sea_candidates *mine, sea_candidates *all);
/* All ranks' float blocks concatenated in rank order into all (which may alias mine's place). */
sea_status sea_run_gather_floats(sea_run *r, const float *mine, size_t n_mine, float *all);
/* Rank 0's oracle results for n pairs (p, win, mask), query count, n_extra counters and the
 * label RNG position, to every rank. */
sea_status sea_run_share_labels(sea_run *r, int n, double *p, int *win, float *mask, int *n_queried, int *extra,
                                int n_extra);
sea_status sea_run_share_double(sea_run *r, double *v);
/* Broadcast team rank 0's policy weights (bucketed); *seconds = its wall time. */
sea_status sea_run_share_policy(sea_run *r, double *seconds);
/* The same from member `root` of `group` (roles: the learner leader to the actors). */
sea_status sea_run_broadcast_policy(sea_run *r, sea_dist *group, int root, double *seconds);

#endif
