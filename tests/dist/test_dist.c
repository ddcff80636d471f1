/* Run under mpirun with N ranks: deterministic all-reduce, bucketed broadcast, all-gather,
 * and (mode "hang") that a rank which never arrives is named by rank 0 within the timeout.
 *   test_dist            collectives; exit 0 when every rank agrees with the serial reference
 *   test_dist hang       rank N-1 sleeps; rank 0 must fail with a message naming it */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist/dist.h"
#include "runtime/rng.h"

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "rank %d: FAIL %s:%d: ", rank, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
            return 1;                                                      \
        }                                                                  \
    } while (0)

/* The value rank r contributes at index i (any rank can compute every rank's part). */
static float part(int r, size_t i) { return sea_rng_normal(11, (uint32_t)r, i) * (float)(1 + r); }

static int collectives(sea_dist *d)
{
    int rank = sea_dist_rank(d), size = sea_dist_size(d);
    const size_t n = 5000003; /* more than one reduction bucket, odd size */
    float *buf = malloc(n * sizeof *buf);
    CHECK(buf, "oom");
    for (size_t i = 0; i < n; i++) buf[i] = part(rank, i);
    CHECK(sea_dist_allreduce_sum(d, buf, n) == SEA_OK, "%s", sea_last_error());
    for (size_t i = 0; i < n; i += 997) {
        float s = part(0, i);
        for (int r = 1; r < size; r++) s += part(r, i); /* the documented order */
        CHECK(buf[i] == s, "allreduce[%zu] = %.9g, serial rank-order sum %.9g", i, buf[i], s);
    }
    /* Bucketed broadcast from the last rank with a bucket that does not divide the size. */
    unsigned char *bytes = malloc(1000003);
    CHECK(bytes, "oom");
    for (size_t i = 0; i < 1000003; i++) bytes[i] = (unsigned char)(rank == size - 1 ? (i * 7 + 3) : 0);
    double secs = -1;
    CHECK(sea_dist_broadcast(d, bytes, 1000003, size - 1, 65536, &secs) == SEA_OK, "%s", sea_last_error());
    for (size_t i = 0; i < 1000003; i++) CHECK(bytes[i] == (unsigned char)(i * 7 + 3), "broadcast byte %zu", i);
    CHECK(secs >= 0, "broadcast time not reported");
    /* All-gather of different sizes per rank. */
    size_t mine = (size_t)rank * 3 + 1;
    char *send = malloc(mine);
    for (size_t i = 0; i < mine; i++) send[i] = (char)('a' + rank);
    void *recv;
    size_t total, counts[64];
    CHECK(sea_dist_allgather(d, send, mine, &recv, &total, counts) == SEA_OK, "%s", sea_last_error());
    size_t off = 0;
    for (int r = 0; r < size; r++) {
        CHECK(counts[r] == (size_t)r * 3 + 1, "count of rank %d", r);
        for (size_t i = 0; i < counts[r]; i++) CHECK(((char *)recv)[off + i] == 'a' + r, "gathered byte");
        off += counts[r];
    }
    CHECK(off == total, "total %zu vs %zu", total, off);
    CHECK(sea_dist_barrier(d) == SEA_OK, "%s", sea_last_error());
    free(recv);
    free(send);
    free(bytes);
    free(buf);
    return 0;
}

static int hang(sea_dist *d)
{
    int rank = sea_dist_rank(d), size = sea_dist_size(d);
    sea_dist_set_timeout(d, 3);
    if (size < 2) return 77;
    if (rank == size - 1) {
        sleep(8); /* never reaches the barrier in time */
        return 0;
    }
    sea_status st = sea_dist_barrier(d);
    if (rank == 0) {
        char want[32];
        snprintf(want, sizeof want, "rank %d", size - 1);
        CHECK(st == SEA_ERR_EXTERNAL, "barrier with a hung rank returned %d", st);
        CHECK(strstr(sea_last_error(), want) != NULL, "message does not name %s: %s", want, sea_last_error());
        fprintf(stderr, "rank 0 reported as expected: %s\n", sea_last_error());
        /* Stop the whole job now, as sea train does; the wrapper expects exit status 3, fast. */
        sea_dist_abort(d, 3);
    }
    return 0;
}

int main(int argc, char **argv)
{
    sea_dist *d;
    if (sea_dist_init(&d)) {
        fprintf(stderr, "dist init: %s\n", sea_last_error());
        return 1;
    }
    int rc = argc > 1 && !strcmp(argv[1], "hang") ? hang(d) : collectives(d);
    if (rc == 77) {
        sea_dist_finalize(d);
        return 77;
    }
    if (rc) sea_dist_abort(d, rc);
    sea_dist_finalize(d);
    return rc;
}
