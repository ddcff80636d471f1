/* The ERM's replay buffer (SEA.md §3): a ring of (φ+, φ−, mask) entries on the host.
 *
 * Host memory because the buffer outlives rounds and is sampled a few hundred rows at a time;
 * only the sampled batch travels to the device. mask 0 marks pairs that carry no preference
 * (identical responses). */
#ifndef SEA_ALIGNMENT_REPLAY_H
#define SEA_ALIGNMENT_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "runtime/rng.h"
#include "runtime/status.h"

typedef struct sea_replay {
    int capacity, dim;
    int count;      /* entries held (<= capacity) */
    int head;       /* next slot to write */
    float *pos;     /* (capacity, dim) */
    float *neg;     /* (capacity, dim) */
    float *mask;    /* (capacity) */
} sea_replay;

sea_status sea_replay_init(sea_replay *rb, int capacity, int dim);
void sea_replay_free(sea_replay *rb);
/* Append one entry, overwriting the oldest when full. */
void sea_replay_push(sea_replay *rb, const float *phi_pos, const float *phi_neg, float mask);
/* Draw B distinct entries uniformly (Floyd's algorithm: exactly B rng draws, so resumed runs
 * draw the same) and copy them out. B > count is SEA_ERR_INVALID. */
sea_status sea_replay_sample(const sea_replay *rb, int B, sea_rng *rng,
                             float *pos /* (B, dim) */, float *neg /* (B, dim) */,
                             float *mask /* (B) */);
/* Binary (de)serialization for checkpoints; load checks capacity and dim. */
sea_status sea_replay_write(const sea_replay *rb, FILE *f);
sea_status sea_replay_read(sea_replay *rb, FILE *f);

#endif
