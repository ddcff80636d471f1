/* Dedicated actor and learner ranks (`mpirun -np N sea train --actors K ...`): the messages
 * between the two sides and the learner ranks' loop. See loop_roles.c for the design. */
#ifndef SEA_ALIGNMENT_LOOP_ROLES_H
#define SEA_ALIGNMENT_LOOP_ROLES_H

#include "alignment/loop_internal.h"

/* What the actors tell the learners, one command per message. */
typedef enum { SEA_ROLES_STEP = 1, SEA_ROLES_CHECKPOINT, SEA_ROLES_STOP } sea_roles_cmd;

/* Sets r->role, r->team and r->sync from cfg.actors and the world (checks K against it). */
sea_status sea_run_roles_init(sea_run *r);
void sea_run_roles_free(sea_run *r);

/* Actors (every actor calls; rank 0 sends): a command to the learners; with STEP, the round's
 * pairs: each learner gets the token ids of the pairs it computes and the scalars (mask,
 * sampling-time log-probs, XPO side) of all. *seconds (may be NULL): its wall time on this rank. */
sea_status sea_run_ship(sea_run *r, sea_roles_cmd cmd, const sea_pair *pairs, int n, double *seconds);
/* Actors, after STEP: the learner leader's step statistics (with its step time *t_learn), then
 * its new weights into r->policy. *t_wait: time spent waiting for the statistics (the learners'
 * step, as seen by the actors); *t_bcast: the weight broadcast. */
sea_status sea_run_receive_update(sea_run *r, sea_learner_stats *ls, double *t_learn, double *t_wait, double *t_bcast);
/* Actors, after CHECKPOINT: the learner leader's learner.bin bytes; rank 0 keeps them in
 * r->learner_state for the checkpoint writer. */
sea_status sea_run_receive_learner_state(sea_run *r);

/* Learner ranks: receive commands and act on them until STOP. */
sea_status sea_run_learner_loop(sea_run *r);

#endif
