#include "alignment/replay.h"

#include <stdlib.h>
#include <string.h>

sea_status sea_replay_init(sea_replay *rb, int capacity, int dim)
{
    memset(rb, 0, sizeof *rb);
    if (capacity <= 0 || dim <= 0)
        return sea_error(SEA_ERR_INVALID, "replay buffer: capacity %d, feature dim %d", capacity, dim);
    rb->capacity = capacity;
    rb->dim = dim;
    size_t n = (size_t)capacity * (size_t)dim;
    rb->pos = malloc(n * sizeof(float));
    rb->neg = malloc(n * sizeof(float));
    rb->mask = malloc((size_t)capacity * sizeof(float));
    if (!rb->pos || !rb->neg || !rb->mask) {
        sea_replay_free(rb);
        return sea_error(SEA_ERR_OOM, "replay buffer: %d entries of dim %d (%zu MB)", capacity, dim,
                         2 * n * sizeof(float) >> 20);
    }
    return SEA_OK;
}

void sea_replay_free(sea_replay *rb)
{
    free(rb->pos);
    free(rb->neg);
    free(rb->mask);
    rb->pos = rb->neg = rb->mask = NULL;
    rb->count = rb->head = 0;
}

void sea_replay_push(sea_replay *rb, const float *phi_pos, const float *phi_neg, float mask)
{
    size_t off = (size_t)rb->head * rb->dim;
    memcpy(rb->pos + off, phi_pos, sizeof(float) * rb->dim);
    memcpy(rb->neg + off, phi_neg, sizeof(float) * rb->dim);
    rb->mask[rb->head] = mask;
    rb->head = (rb->head + 1) % rb->capacity;
    if (rb->count < rb->capacity) rb->count++;
}

sea_status sea_replay_sample(const sea_replay *rb, int B, sea_rng *rng, float *pos, float *neg, float *mask)
{
    if (B <= 0 || B > rb->count)
        return sea_error(SEA_ERR_INVALID, "replay buffer: batch of %d from %d entries", B, rb->count);
    int *pick = malloc(sizeof(int) * (size_t)B);
    if (!pick) return sea_error(SEA_ERR_OOM, "replay buffer: batch of %d", B);
    int n = rb->count;
    for (int s = 0, j = n - B; j < n; j++, s++) {
        int t = (int)sea_rng_next_below(rng, (uint32_t)(j + 1));
        int seen = 0;
        for (int q = 0; q < s; q++)
            if (pick[q] == t) { seen = 1; break; }
        pick[s] = seen ? j : t;
    }
    for (int b = 0; b < B; b++) {
        size_t off = (size_t)pick[b] * rb->dim;
        memcpy(pos + (size_t)b * rb->dim, rb->pos + off, sizeof(float) * rb->dim);
        memcpy(neg + (size_t)b * rb->dim, rb->neg + off, sizeof(float) * rb->dim);
        mask[b] = rb->mask[pick[b]];
    }
    free(pick);
    return SEA_OK;
}

sea_status sea_replay_write(const sea_replay *rb, FILE *f)
{
    int32_t hdr[4] = {rb->capacity, rb->dim, rb->count, rb->head};
    size_t n = (size_t)rb->count * rb->dim;
    /* entries [0, count) are the valid ones whether or not the ring has wrapped */
    if (fwrite(hdr, sizeof hdr, 1, f) != 1 || fwrite(rb->pos, sizeof(float), n, f) != n ||
        fwrite(rb->neg, sizeof(float), n, f) != n ||
        fwrite(rb->mask, sizeof(float), (size_t)rb->count, f) != (size_t)rb->count)
        return sea_error(SEA_ERR_IO, "replay buffer: write failed (%d entries)", rb->count);
    return SEA_OK;
}

sea_status sea_replay_read(sea_replay *rb, FILE *f)
{
    int32_t hdr[4];
    if (fread(hdr, sizeof hdr, 1, f) != 1)
        return sea_error(SEA_ERR_FORMAT, "replay buffer checkpoint: truncated header");
    /* Until the ring is full, the next slot is the count (sea_replay_push). */
    if (hdr[0] != rb->capacity || hdr[1] != rb->dim || hdr[2] < 0 || hdr[2] > rb->capacity ||
        hdr[3] < 0 || hdr[3] >= rb->capacity || (hdr[2] < hdr[0] && hdr[3] != hdr[2]))
        return sea_error(SEA_ERR_FORMAT,
                         "replay buffer checkpoint: capacity %d dim %d count %d head %d, expected capacity %d dim %d%s",
                         hdr[0], hdr[1], hdr[2], hdr[3], rb->capacity, rb->dim,
                         hdr[2] < hdr[0] && hdr[3] != hdr[2] ? " and head == count until full" : "");
    size_t n = (size_t)hdr[2] * rb->dim;
    if (fread(rb->pos, sizeof(float), n, f) != n || fread(rb->neg, sizeof(float), n, f) != n ||
        fread(rb->mask, sizeof(float), (size_t)hdr[2], f) != (size_t)hdr[2])
        return sea_error(SEA_ERR_FORMAT, "replay buffer checkpoint: truncated (%d entries)", hdr[2]);
    rb->count = hdr[2];
    rb->head = hdr[3];
    return SEA_OK;
}
