/* sea_dist over MPI: the world and its groups, check-ins, and bounded waits that tell a dead or
 * hung rank (silent to pings: named) from one blocked on a third rank (answers: keep waiting).
 * The collectives themselves are in dist_mpi_ops.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist_mpi_internal.h"

#define TAG_CHECKIN 7301
#define TAG_PING 7302      /* on ctl->comm: "are you alive?" from a rank whose wait timed out */
#define TAG_PONG 7303
#define PONG_WAIT_S 3.0    /* a rank waiting in a bounded call answers within a few ms */
#define MAX_DEADLINES 4    /* a wait on live ranks gives up after this many timeouts */

double sea_dist_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void nap(void)
{
    struct timespec ts = {0, 200000}; /* 0.2 ms: polling must not burn the cores it shares */
    nanosleep(&ts, NULL);
}

static bool launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") || getenv("SLURM_PROCID");
}

static sea_status ctl_create(sea_dist_ctl **out, int size)
{
    sea_dist_ctl *c = calloc(1, sizeof *c);
    if (!c) return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    c->size = size;
    c->ping_req = malloc(sizeof(MPI_Request) * (size_t)size);
    c->pong_req = malloc(sizeof(MPI_Request) * (size_t)size);
    c->ping_buf = calloc((size_t)size, sizeof(int));
    c->pong_buf = calloc((size_t)size, sizeof(int));
    if (!c->ping_req || !c->pong_req || !c->ping_buf || !c->pong_buf) {
        free(c->ping_req); free(c->pong_req); free(c->ping_buf); free(c->pong_buf); free(c);
        return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    }
    for (int i = 0; i < size; i++) c->ping_req[i] = c->pong_req[i] = MPI_REQUEST_NULL;
    if (MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS) {
        free(c->ping_req); free(c->pong_req); free(c->ping_buf); free(c->pong_buf); free(c);
        return sea_error(SEA_ERR_EXTERNAL, "dist: MPI_Comm_dup failed");
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    *out = c;
    return SEA_OK;
}

static void ctl_free(sea_dist_ctl *c)
{
    if (!c) return;
    for (int i = 0; i < c->size; i++) {
        if (c->pong_req[i] != MPI_REQUEST_NULL) {
            MPI_Cancel(&c->pong_req[i]);
            MPI_Wait(&c->pong_req[i], MPI_STATUS_IGNORE);
        }
        /* a one-int ping is sent eagerly; let MPI finish it in the background */
        if (c->ping_req[i] != MPI_REQUEST_NULL) MPI_Request_free(&c->ping_req[i]);
    }
    MPI_Comm_free(&c->comm);
    free(c->ping_req); free(c->pong_req); free(c->ping_buf); free(c->pong_buf);
    free(c);
}

sea_status sea_dist_init(sea_dist **out)
{
    sea_dist *d = calloc(1, sizeof *d);
    if (!d) return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    d->size = 1;
    d->timeout_s = 300;
    d->comm = MPI_COMM_NULL;
    const char *t = getenv("SEA_DIST_TIMEOUT");
    if (t && atof(t) > 0) d->timeout_s = atof(t);
    if (launched_by_mpi()) {
        int provided, inited = 0;
        MPI_Initialized(&inited);
        if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            free(d);
            return sea_error(SEA_ERR_EXTERNAL, "dist: MPI_Init_thread failed");
        }
        d->mpi = !inited;
        d->comm = MPI_COMM_WORLD;
        MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &d->size);
        /* Errors come back as codes so we can name them instead of MPI aborting on its own. */
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        sea_status st = ctl_create(&d->ctl, d->size);
        if (st) {
            if (d->mpi) MPI_Finalize();
            free(d);
            return st;
        }
    }
    d->world = malloc(sizeof(int) * (size_t)d->size);
    if (!d->world) {
        sea_dist_finalize(d);
        return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    }
    for (int i = 0; i < d->size; i++) d->world[i] = i;
    *out = d;
    return SEA_OK;
}

void sea_dist_finalize(sea_dist *d)
{
    if (!d) return;
    if (d->group) {
        if (d->comm != MPI_COMM_NULL) MPI_Comm_free(&d->comm);
    } else {
        ctl_free(d->ctl);
        if (d->mpi) MPI_Finalize();
    }
    free(d->world);
    free(d);
}

void sea_dist_abort(sea_dist *d, int code)
{
    fflush(stdout);
    fflush(stderr);
    if (d && d->ctl && d->ctl->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

int sea_dist_rank(const sea_dist *d) { return d ? d->rank : 0; }
int sea_dist_size(const sea_dist *d) { return d ? d->size : 1; }
bool sea_dist_is_mpi(const sea_dist *d) { return d && d->size > 1; }
void sea_dist_set_timeout(sea_dist *d, double seconds) { d->timeout_s = seconds; }
double sea_dist_timeout(const sea_dist *d) { return d ? d->timeout_s : 300; }
int sea_dist_world_rank(const sea_dist *d, int rank) { return d && rank >= 0 && rank < d->size ? d->world[rank] : rank; }

sea_status sea_dist_mpi_fail(const sea_dist *d, const char *what, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return sea_error(SEA_ERR_EXTERNAL, "rank %d: %s%s%s failed: %s", d->world[d->rank], what, d->name[0] ? " in " : "",
                     d->name, msg);
}

/* A waiting rank answers every ping, from any rank, so a rank whose wait timed out can tell
 * which of the ranks it waits on still run. */
static void answer_pings(sea_dist *d)
{
    if (!d->ctl) return;
    for (;;) {
        int flag = 0;
        MPI_Status status;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_PING, d->ctl->comm, &flag, &status) != MPI_SUCCESS || !flag) return;
        int v;
        MPI_Recv(&v, 1, MPI_INT, status.MPI_SOURCE, TAG_PING, d->ctl->comm, MPI_STATUS_IGNORE);
        MPI_Send(&v, 1, MPI_INT, status.MPI_SOURCE, TAG_PONG, d->ctl->comm);
    }
}

/* Ping members `who` (n of them, group ranks) and wait up to PONG_WAIT_S; the silent ones are
 * written to `names` ("1, 3", world ranks) and counted. A ping left unanswered stays posted and a
 * late answer counts for the next call: a rank that answered late was alive then, which at worst
 * delays naming it by one deadline. */
static int find_silent(sea_dist *d, const int *who, int n, char *names, size_t cap)
{
    sea_dist_ctl *c = d->ctl;
    names[0] = '\0';
    if (!c || n == 0) return 0;
    bool *alive = calloc((size_t)n, sizeof *alive);
    if (!alive) return 0;
    for (int i = 0; i < n; i++) {
        int w = d->world[who[i]];
        if (c->pong_req[w] == MPI_REQUEST_NULL)
            MPI_Irecv(&c->pong_buf[w], 1, MPI_INT, w, TAG_PONG, c->comm, &c->pong_req[w]);
        int sent = 1;
        if (c->ping_req[w] != MPI_REQUEST_NULL) MPI_Test(&c->ping_req[w], &sent, MPI_STATUS_IGNORE);
        if (sent) {
            c->ping_buf[w] = w;
            MPI_Isend(&c->ping_buf[w], 1, MPI_INT, w, TAG_PING, c->comm, &c->ping_req[w]);
        }
    }
    double t0 = sea_dist_now();
    int left = n;
    while (left > 0 && sea_dist_now() - t0 < PONG_WAIT_S) {
        for (int i = 0; i < n; i++) {
            int w = d->world[who[i]], flag = 0;
            if (!alive[i] && MPI_Test(&c->pong_req[w], &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag) {
                alive[i] = true;
                left--;
            }
        }
        answer_pings(d); /* two waiting ranks may ping each other */
        nap();
    }
    size_t used = 0;
    for (int i = 0; i < n && used + 12 < cap; i++)
        if (!alive[i]) used += (size_t)snprintf(names + used, cap - used, "%s%d", used ? ", " : "", d->world[who[i]]);
    free(alive);
    return left;
}

static const char *group_suffix(const sea_dist *d, char *buf, size_t n)
{
    if (d->name[0]) snprintf(buf, n, " (%s)", d->name);
    else buf[0] = '\0';
    return buf;
}

/* A wait on members `who` passed its deadline number `k` (1-based). Silent ranks: named. All
 * alive: they wait on someone else, whose own wait will name the culprit; keep waiting (SEA_OK)
 * until MAX_DEADLINES. */
static sea_status past_deadline(sea_dist *d, const char *what, const int *who, int n, int k)
{
    char names[256], sfx[48];
    int silent = find_silent(d, who, n, names, sizeof names);
    group_suffix(d, sfx, sizeof sfx);
    if (silent > 0)
        return sea_error(SEA_ERR_EXTERNAL, "rank%s %s did not reach %s #%llu%s within %.0f s and does not respond "
                         "(died or hangs)", silent > 1 ? "s" : "", names, what, (unsigned long long)d->seq, sfx,
                         d->timeout_s * k);
    if (k < MAX_DEADLINES) return SEA_OK;
    return sea_error(SEA_ERR_EXTERNAL, "rank %d: %s #%llu%s did not complete within %.0f s although the ranks it "
                     "waits on respond: a rank they wait on died or hangs", d->world[d->rank], what,
                     (unsigned long long)d->seq, sfx, d->timeout_s * k);
}

sea_status sea_dist_wait(sea_dist *d, MPI_Request *req, const char *what, int peer)
{
    /* whom this wait depends on: one peer, or for a collective, everyone (coordinator) or the
     * coordinator (the others: it pings everyone itself) */
    int one = peer >= 0 ? peer : 0;
    int *all = NULL, n = 1;
    const int *who = &one;
    double t0 = sea_dist_now();
    int k = 1;
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            free(all);
            return sea_dist_mpi_fail(d, what, rc);
        }
        if (done) break;
        answer_pings(d);
        if (sea_dist_now() - t0 > d->timeout_s * k) {
            if (peer < 0 && d->rank == 0 && !all) {
                all = malloc(sizeof(int) * (size_t)(d->size > 1 ? d->size - 1 : 1));
                if (!all) return sea_error(SEA_ERR_OOM, "dist: out of host memory");
                for (int i = 1; i < d->size; i++) all[i - 1] = i;
            }
            if (all) {
                who = all;
                n = d->size - 1;
            }
            sea_status st = past_deadline(d, what, who, n, k);
            if (st) {
                free(all);
                return st; /* the request stays pending: the job is about to be aborted */
            }
            k++;
        }
        nap();
    }
    free(all);
    return SEA_OK;
}

sea_status sea_dist_check_in(sea_dist *d, const char *what)
{
    d->seq++;
    if (d->size == 1) return SEA_OK;
    static uint64_t token; /* the payload only has to exist while the send is in flight */
    token = d->seq;
    if (d->rank != 0) {
        MPI_Request req;
        int rc = MPI_Isend(&token, 1, MPI_UINT64_T, 0, TAG_CHECKIN, d->comm, &req);
        if (rc != MPI_SUCCESS) return sea_dist_mpi_fail(d, what, rc);
        return sea_dist_wait(d, &req, what, 0);
    }
    int n = d->size - 1;
    MPI_Request *reqs = calloc((size_t)n, sizeof *reqs);
    uint64_t *got = calloc((size_t)n, sizeof *got);
    int *done = calloc((size_t)n, sizeof *done), *missing = calloc((size_t)n, sizeof *missing);
    if (!reqs || !got || !done || !missing) {
        free(reqs); free(got); free(done); free(missing);
        return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    }
    sea_status st = SEA_OK;
    for (int i = 0; i < n && !st; i++) {
        int rc = MPI_Irecv(&got[i], 1, MPI_UINT64_T, i + 1, TAG_CHECKIN, d->comm, &reqs[i]);
        if (rc != MPI_SUCCESS) st = sea_dist_mpi_fail(d, what, rc);
    }
    double t0 = sea_dist_now();
    int remaining = n, k = 1;
    while (!st && remaining > 0) {
        for (int i = 0; i < n; i++) {
            if (done[i]) continue;
            int flag = 0;
            int rc = MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) {
                st = sea_dist_mpi_fail(d, what, rc);
                break;
            }
            if (flag) {
                done[i] = 1;
                remaining--;
                if (got[i] != d->seq)
                    st = sea_error(SEA_ERR_INTERNAL, "rank %d is at collective #%llu while rank %d is at #%llu (%s%s%s): "
                                   "the ranks diverged", d->world[i + 1], (unsigned long long)got[i], d->world[0],
                                   (unsigned long long)d->seq, what, d->name[0] ? ", " : "", d->name);
            }
        }
        if (st || remaining == 0) break;
        answer_pings(d); /* a coordinator waiting here is itself waited on by other groups */
        if (sea_dist_now() - t0 > d->timeout_s * k) {
            int m = 0;
            for (int i = 0; i < n; i++)
                if (!done[i]) missing[m++] = i + 1;
            st = past_deadline(d, what, missing, m, k);
            k++;
        }
        nap();
    }
    free(reqs);
    free(got);
    free(done);
    free(missing);
    return st;
}

sea_status sea_dist_split(sea_dist *d, int color, const char *name, sea_dist **out)
{
    *out = NULL;
    /* bounded first: MPI_Comm_split itself blocks until every rank calls it */
    SEA_TRY(sea_dist_check_in(d, "split"));
    sea_dist *g = calloc(1, sizeof *g);
    if (!g) return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    g->group = true;
    g->ctl = d->ctl;
    g->timeout_s = d->timeout_s;
    g->comm = MPI_COMM_NULL;
    snprintf(g->name, sizeof g->name, "%s", name ? name : "group");
    if (d->comm == MPI_COMM_NULL) { /* one-rank world without MPI */
        if (color < 0) {
            free(g);
            return SEA_OK;
        }
        g->size = 1;
    } else {
        int rc = MPI_Comm_split(d->comm, color >= 0 ? color : MPI_UNDEFINED, d->rank, &g->comm);
        if (rc != MPI_SUCCESS) {
            free(g);
            return sea_dist_mpi_fail(d, "split", rc);
        }
        if (g->comm == MPI_COMM_NULL) {
            free(g);
            return SEA_OK;
        }
        MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN);
        MPI_Comm_rank(g->comm, &g->rank);
        MPI_Comm_size(g->comm, &g->size);
    }
    g->world = malloc(sizeof(int) * (size_t)g->size);
    if (!g->world) {
        sea_dist_finalize(g);
        return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    }
    int me = d->world[d->rank];
    g->world[0] = me;
    if (g->size > 1) {
        /* members just split together: this completes at once */
        int rc = MPI_Allgather(&me, 1, MPI_INT, g->world, 1, MPI_INT, g->comm);
        if (rc != MPI_SUCCESS) {
            sea_status st = sea_dist_mpi_fail(g, "split", rc);
            sea_dist_finalize(g);
            return st;
        }
    }
    *out = g;
    return SEA_OK;
}
