/* Run under mpirun with N ranks: deterministic all-reduce, bucketed broadcast, all-gather,
 * groups (split, scatter, transfer), and (modes "hang", "hang-chain") that a rank which never
 * arrives is named within the timeout, and only that rank.
 *   test_dist             collectives; exit 0 when every rank agrees with the serial reference
 *   test_dist hang        rank N-1 sleeps; rank 0 must fail with a message naming it
 *   test_dist hang-chain  3 ranks, groups {0,1} and {1,2}: rank 2 sleeps, rank 1 waits for it
 *                         in {1,2}, rank 0 waits for rank 1 in {0,1}. Rank 1 answers rank 0's
 *                         pings (alive), so rank 0 keeps waiting and rank 1 names rank 2. */
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

/* Odd and even ranks as two groups: group sizes, world ranks, a group all-reduce, a scatter
 * from the group's last member, and a world transfer from the last rank to rank 0. */
static int groups(sea_dist *d)
{
    int rank = sea_dist_rank(d), size = sea_dist_size(d);
    sea_dist *g = NULL, *none = NULL;
    CHECK(sea_dist_split(d, rank % 2, rank % 2 ? "odd" : "even", &g) == SEA_OK, "%s", sea_last_error());
    CHECK(sea_dist_split(d, -1, "nobody", &none) == SEA_OK && none == NULL, "color -1 must give no group");
    CHECK(g, "no group");
    int gs = sea_dist_size(g), gr = sea_dist_rank(g);
    CHECK(gs == (size + 1 - rank % 2) / 2, "group size %d", gs);
    CHECK(sea_dist_world_rank(g, gr) == rank, "world rank of myself: %d", sea_dist_world_rank(g, gr));
    for (int i = 0; i < gs; i++) CHECK(sea_dist_world_rank(g, i) == 2 * i + rank % 2, "world rank of member %d", i);
    double v[2] = {rank, 1};
    CHECK(sea_dist_allreduce_sum_f64(g, v, 2) == SEA_OK, "%s", sea_last_error());
    double want = 0;
    for (int r = rank % 2; r < size; r += 2) want += r;
    CHECK(v[0] == want && v[1] == gs, "group sum %g (want %g), count %g", v[0], want, v[1]);
    /* scatter: member i gets i+1 bytes of value 'A'+i */
    int root = gs - 1;
    size_t counts[64] = {0}, total = 0;
    char send[64 * 65];
    for (int i = 0; i < gs && i < 64; i++) {
        counts[i] = (size_t)i + 1;
        memset(send + total, 'A' + i, counts[i]);
        total += counts[i];
    }
    void *part = NULL;
    size_t got = 0;
    CHECK(sea_dist_scatter(g, root, gr == root ? send : NULL, gr == root ? counts : NULL, &part, &got) == SEA_OK, "%s",
          sea_last_error());
    CHECK(got == (size_t)gr + 1, "scatter part of %zu bytes", got);
    for (size_t i = 0; i < got; i++) CHECK(((char *)part)[i] == 'A' + gr, "scatter byte %zu", i);
    free(part);
    /* transfer: last world rank -> rank 0, 3 MB */
    size_t nb = 3000001;
    unsigned char *xs = malloc(nb);
    CHECK(xs, "oom");
    for (size_t i = 0; i < nb; i++) xs[i] = (unsigned char)(i * 13 + 5);
    void *xr = NULL;
    size_t xn = 0;
    CHECK(sea_dist_transfer(d, size - 1, 0, xs, nb, &xr, &xn) == SEA_OK, "%s", sea_last_error());
    if (rank == 0) {
        CHECK(xr && xn == nb, "transfer got %zu bytes", xn);
        CHECK(!memcmp(xr, xs, nb), "transfer bytes differ");
    } else if (rank != size - 1) {
        CHECK(!xr && xn == 0, "a bystander received %zu bytes", xn);
    }
    free(xr);
    free(xs);
    CHECK(sea_dist_barrier(g) == SEA_OK, "%s", sea_last_error());
    sea_dist_finalize(g);
    return 0;
}

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
    CHECK(groups(d) == 0, "groups");
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

static int hang_chain(sea_dist *d)
{
    int rank = sea_dist_rank(d), size = sea_dist_size(d);
    sea_dist_set_timeout(d, 3);
    if (size != 3) return 77;
    sea_dist *sync = NULL, *team = NULL;
    CHECK(sea_dist_split(d, rank <= 1 ? 0 : -1, "sync", &sync) == SEA_OK, "%s", sea_last_error());
    CHECK(sea_dist_split(d, rank >= 1 ? 0 : -1, "team", &team) == SEA_OK, "%s", sea_last_error());
    if (rank == 2) {
        sleep(15); /* never reaches the team barrier in time */
        return 0;
    }
    if (rank == 1) {
        /* rank 1 waits from 1 s and pings rank 2 only at 7 s (team deadline 6 s), so rank 0's
         * ping at 6 s reaches it while it waits in the check-in, not while it pings itself */
        sea_dist_set_timeout(team, 6);
        usleep(1000000);
        sea_status st = sea_dist_barrier(team);
        CHECK(st == SEA_ERR_EXTERNAL, "team barrier with a hung rank returned %d", st);
        CHECK(strstr(sea_last_error(), "rank 2 did not reach barrier"), "message does not name rank 2: %s", sea_last_error());
        fprintf(stderr, "rank 1 reported as expected: %s\n", sea_last_error());
        sea_dist_abort(d, 3);
        return 0;
    }
    /* Rank 0 pings every 6 s: at 6 s rank 1 still waits on rank 2 and answers; rank 1 stops
     * the job at ~7 s, and rank 0 would only give up at 18 s. The margin is for MPI_Abort's
     * propagation, which took over 5 s on a loaded 2-core machine (with 3 s pings rank 0
     * then blamed rank 1 at 12 s). */
    sea_dist_set_timeout(sync, 6);
    sea_status st = sea_dist_barrier(sync);
    /* rank 1 answers pings while it waits on rank 2: rank 0 must not blame it, and keeps
     * waiting until rank 1 stops the job */
    fprintf(stderr, "rank 0: FAIL: sync barrier returned %d: %s\n", st, sea_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    sea_dist *d;
    if (sea_dist_init(&d)) {
        fprintf(stderr, "dist init: %s\n", sea_last_error());
        return 1;
    }
    int rc = argc > 1 && !strcmp(argv[1], "hang")         ? hang(d)
             : argc > 1 && !strcmp(argv[1], "hang-chain") ? hang_chain(d)
                                                          : collectives(d);
    if (rc == 77) {
        sea_dist_finalize(d);
        return 77;
    }
    if (rc) sea_dist_abort(d, rc);
    sea_dist_finalize(d);
    return rc;
}
