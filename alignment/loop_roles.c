/* Role split over MPI (--actors K): world ranks 0..K-1 are actors, K..N-1 learners.
 *
 * Actors run the SEA loop (loop.c) as an SPMD team of K ranks: sampling and features split
 * among them, the ERM and its replay buffer replicated on each of them (they score candidates
 * with it, and its inputs, features and labels, are made there: keeping it on the actors costs
 * no traffic; learners never need it), rank 0 asks the oracle and owns every file. Where a
 * collocated run takes its policy step, the actors instead
 *   1. ship the round's pairs to the learners (world scatter from rank 0: each learner gets the
 *      token ids of the micro-batches it computes and the per-pair scalars of all; timed as
 *      timing/rollout_send),
 *   2. run their ERM update while the learners step,
 *   3. receive the learner leader's step statistics and then its new weights (bucketed
 *      broadcast in the "sync" group = the actors + the learner leader; timing/broadcast).
 * Learners (the "learners" group) run sea_run_learner_loop: receive a command, take the
 * data-parallel step (gradients all-reduced among the learners only), the leader sends the
 * update; on CHECKPOINT the leader sends its learner.bin bytes to rank 0, which writes the
 * checkpoint as usual (no per-rank state: a run resumes with any layout).
 *
 * The round stays synchronous: the actors sample round r+1 with the weights of round r, as one
 * process does, so a role-split run gives the collocated run's metrics (tests/dist). An
 * overlapped pipeline (actors sampling round r+1 while the learners step on round r) is not
 * implemented. Every message is a bounded sea_dist call, so a rank of either side that hangs is
 * named. */
#include <stdlib.h>
#include <string.h>

#include "alignment/loop_dist.h"
#include "alignment/loop_roles.h"

#define WIRE_MAGIC 0x52414553u /* "SEAR" */
#define HEADER_BYTES 16        /* magic, cmd, round, n pairs: int32 each */
#define PAIR_BYTES 40          /* owned, prompt/chosen/rejected lengths, xpo side: int32; mask: f32; 2 f64 */

sea_status sea_run_roles_init(sea_run *r)
{
    sea_dist *w = r->cfg.dist;
    int size = sea_dist_size(w), rank = sea_dist_rank(w), K = r->cfg.actors;
    r->role = SEA_ROLE_ALL;
    r->team = w;
    r->sync = NULL;
    if (K == 0) return SEA_OK;
    if (K >= size)
        return sea_error(SEA_ERR_INVALID, "--actors %d needs at least %d ranks (this run has %d%s)", K, K + 1, size,
                         size == 1 ? "; --actors 0 runs collocated" : ": keep at least one learner");
    r->role = rank < K ? SEA_ROLE_ACTOR : SEA_ROLE_LEARNER;
    sea_dist *team = NULL, *sync = NULL;
    SEA_TRY(sea_dist_split(w, r->role == SEA_ROLE_ACTOR ? 0 : 1, r->role == SEA_ROLE_ACTOR ? "actors" : "learners", &team));
    r->team = team;
    /* ordered by world rank: the learner leader (world rank K) is the sync group's last member */
    SEA_TRY(sea_dist_split(w, r->role == SEA_ROLE_ACTOR || rank == K ? 0 : -1, "sync", &sync));
    r->sync = sync;
    return SEA_OK;
}

void sea_run_roles_free(sea_run *r)
{
    if (r->team && r->team != r->cfg.dist) sea_dist_finalize(r->team);
    sea_dist_finalize(r->sync);
    r->team = r->cfg.dist;
    r->sync = NULL;
    free(r->learner_state);
    r->learner_state = NULL;
}

/* The learner leader's rank in the sync group. */
static int sync_root(const sea_run *r) { return sea_dist_size(r->sync) - 1; }

static char *put(char *p, const void *v, size_t n)
{
    memcpy(p, v, n);
    return p + n;
}

static size_t pair_bytes(const sea_pair *p, bool owned)
{
    return PAIR_BYTES + (owned ? sizeof(int32_t) * ((size_t)p->prompt_len + p->chosen_len + p->rejected_len) : 0);
}

sea_status sea_run_ship(sea_run *r, sea_roles_cmd cmd, const sea_pair *pairs, int n, double *seconds)
{
    double t0 = sea_run_now();
    sea_dist *w = r->cfg.dist;
    int size = sea_dist_size(w), K = r->cfg.actors, L = size - K;
    size_t *counts = NULL;
    char *msg = NULL;
    sea_status st = SEA_OK;
    if (sea_dist_rank(w) == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        if (!counts) return sea_error(SEA_ERR_OOM, "rollout message");
        size_t total = 0;
        for (int l = 0; l < L; l++) {
            counts[K + l] = HEADER_BYTES;
            for (int i = 0; i < n; i++) counts[K + l] += pair_bytes(&pairs[i], sea_learner_pair_rank(&r->learner_cfg, i, L) == l);
            total += counts[K + l];
        }
        msg = malloc(total ? total : 1);
        if (!msg) {
            free(counts);
            return sea_error(SEA_ERR_OOM, "rollout message: %zu bytes", total);
        }
        char *p = msg;
        for (int l = 0; l < L; l++) {
            int32_t head[4] = {(int32_t)WIRE_MAGIC, (int32_t)cmd, r->round, n};
            p = put(p, head, sizeof head);
            for (int i = 0; i < n; i++) {
                const sea_pair *q = &pairs[i];
                int32_t owned = sea_learner_pair_rank(&r->learner_cfg, i, L) == l;
                int32_t v[5] = {owned, q->prompt_len, q->chosen_len, q->rejected_len, q->xpo_ref_side};
                p = put(p, v, sizeof v);
                p = put(p, &q->mask, 4);
                p = put(p, &q->sample_logp_chosen, 8);
                p = put(p, &q->sample_logp_rejected, 8);
                if (!owned) continue;
                p = put(p, q->prompt, sizeof(int32_t) * (size_t)q->prompt_len);
                p = put(p, q->chosen, sizeof(int32_t) * (size_t)q->chosen_len);
                p = put(p, q->rejected, sizeof(int32_t) * (size_t)q->rejected_len);
            }
        }
    }
    void *got = NULL;
    size_t got_bytes = 0;
    st = sea_dist_scatter(w, 0, msg, counts, &got, &got_bytes);
    free(got); /* actors receive nothing */
    free(msg);
    free(counts);
    if (seconds) *seconds = sea_run_now() - t0;
    return st;
}

/* A learner's view of one command: the pairs point into buf. */
typedef struct roles_msg {
    int cmd, round, n;
    sea_pair *pairs; /* (n) token pointers NULL for pairs another learner computes */
    char *buf;
} roles_msg;

static void roles_msg_free(roles_msg *m)
{
    free(m->pairs);
    free(m->buf);
    memset(m, 0, sizeof *m);
}

static sea_status receive(sea_run *r, roles_msg *m)
{
    memset(m, 0, sizeof *m);
    void *got = NULL;
    size_t bytes = 0;
    SEA_TRY(sea_dist_scatter(r->cfg.dist, 0, NULL, NULL, &got, &bytes));
    m->buf = got;
    int me = sea_dist_rank(r->cfg.dist);
    int32_t head[4] = {0};
    if (bytes >= HEADER_BYTES) memcpy(head, m->buf, sizeof head);
    if (bytes < HEADER_BYTES || (uint32_t)head[0] != WIRE_MAGIC || head[1] < SEA_ROLES_STEP || head[1] > SEA_ROLES_STOP ||
        head[3] < 0) {
        roles_msg_free(m);
        return sea_error(SEA_ERR_FORMAT, "rank %d: malformed message from rank 0 (%zu bytes)", me, bytes);
    }
    m->cmd = head[1];
    m->round = head[2];
    m->n = head[3];
    m->pairs = calloc((size_t)(m->n ? m->n : 1), sizeof *m->pairs);
    if (!m->pairs) {
        roles_msg_free(m);
        return sea_error(SEA_ERR_OOM, "rank %d: %d pairs", me, m->n);
    }
    size_t at = HEADER_BYTES;
    for (int i = 0; i < m->n; i++) {
        sea_pair *q = &m->pairs[i];
        int32_t v[5];
        if (at + PAIR_BYTES > bytes) goto truncated;
        memcpy(v, m->buf + at, sizeof v);
        memcpy(&q->mask, m->buf + at + 20, 4);
        memcpy(&q->sample_logp_chosen, m->buf + at + 24, 8);
        memcpy(&q->sample_logp_rejected, m->buf + at + 32, 8);
        at += PAIR_BYTES;
        q->prompt_len = v[1];
        q->chosen_len = v[2];
        q->rejected_len = v[3];
        q->xpo_ref_side = v[4];
        if (v[1] < 0 || v[2] < 0 || v[3] < 0) goto truncated;
        if (!v[0]) continue;
        size_t tok = sizeof(int32_t) * ((size_t)v[1] + v[2] + v[3]);
        if (at + tok > bytes) goto truncated;
        /* the buffer is malloc'ed and every field before is a multiple of 4 bytes: aligned */
        q->prompt = (const int32_t *)(m->buf + at);
        q->chosen = q->prompt + v[1];
        q->rejected = q->chosen + v[2];
        at += tok;
    }
    return SEA_OK;
truncated:
    roles_msg_free(m);
    return sea_error(SEA_ERR_FORMAT, "rank %d: message from rank 0 truncated (%zu bytes)", me, bytes);
}

/* Learner statistics as doubles, in this order, for the sync broadcast. */
enum { S_LOSS, S_RC, S_RR, S_MARGIN, S_ACC, S_LPC, S_LPR, S_USED, S_PLOSS, S_NORM, S_LR, S_SKIP, S_MISMATCH, S_KL,
       S_ALLREDUCE, S_LEARN, S_COUNT };

static void stats_pack(const sea_learner_stats *ls, double t_learn, double *v)
{
    v[S_LOSS] = ls->pref.loss;
    v[S_RC] = ls->pref.rewards_chosen;
    v[S_RR] = ls->pref.rewards_rejected;
    v[S_MARGIN] = ls->pref.rewards_margins;
    v[S_ACC] = ls->pref.rewards_accuracies;
    v[S_LPC] = ls->pref.logps_chosen;
    v[S_LPR] = ls->pref.logps_rejected;
    v[S_USED] = ls->pref.n_used;
    v[S_PLOSS] = ls->loss;
    v[S_NORM] = ls->grad_norm;
    v[S_LR] = ls->lr;
    v[S_SKIP] = ls->skipped;
    v[S_MISMATCH] = ls->logp_mismatch;
    v[S_KL] = ls->kl;
    v[S_ALLREDUCE] = ls->allreduce_s;
    v[S_LEARN] = t_learn;
}

static void stats_unpack(const double *v, sea_learner_stats *ls, double *t_learn)
{
    memset(ls, 0, sizeof *ls);
    ls->pref.loss = v[S_LOSS];
    ls->pref.rewards_chosen = v[S_RC];
    ls->pref.rewards_rejected = v[S_RR];
    ls->pref.rewards_margins = v[S_MARGIN];
    ls->pref.rewards_accuracies = v[S_ACC];
    ls->pref.logps_chosen = v[S_LPC];
    ls->pref.logps_rejected = v[S_LPR];
    ls->pref.n_used = (int)v[S_USED];
    ls->loss = v[S_PLOSS];
    ls->grad_norm = v[S_NORM];
    ls->lr = v[S_LR];
    ls->skipped = v[S_SKIP] != 0;
    ls->logp_mismatch = v[S_MISMATCH];
    ls->kl = v[S_KL];
    ls->allreduce_s = v[S_ALLREDUCE];
    *t_learn = v[S_LEARN];
}

sea_status sea_run_receive_update(sea_run *r, sea_learner_stats *ls, double *t_learn, double *t_wait, double *t_bcast)
{
    double v[S_COUNT], t0 = sea_run_now();
    SEA_TRY(sea_dist_broadcast(r->sync, v, sizeof v, sync_root(r), 0, NULL));
    *t_wait = sea_run_now() - t0;
    stats_unpack(v, ls, t_learn);
    /* the leader has finished its step: this is the transfer alone */
    return sea_run_broadcast_policy(r, r->sync, sync_root(r), t_bcast);
}

sea_status sea_run_receive_learner_state(sea_run *r)
{
    free(r->learner_state);
    r->learner_state = NULL;
    r->learner_state_bytes = 0;
    return sea_dist_transfer(r->sync, sync_root(r), 0, NULL, 0, &r->learner_state, &r->learner_state_bytes);
}

/* Learner leader: learner.bin (parameters, Adam state, counters) to rank 0. */
static sea_status send_learner_state(sea_run *r)
{
    char *bytes = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&bytes, &n);
    if (!f) return sea_error(SEA_ERR_OOM, "learner state for the checkpoint");
    sea_status st = sea_learner_write(r->learner, f);
    if (fclose(f) != 0 && !st) st = sea_error(SEA_ERR_OOM, "learner state for the checkpoint");
    if (!st) st = sea_dist_transfer(r->sync, sync_root(r), 0, bytes, n, NULL, NULL);
    free(bytes);
    return st;
}

sea_status sea_run_learner_loop(sea_run *r)
{
    bool leader = r->sync != NULL;
    for (;;) {
        roles_msg m;
        SEA_TRY(receive(r, &m));
        sea_status st = SEA_OK;
        if (m.cmd == SEA_ROLES_STEP) {
            sea_learner_stats ls;
            double t = sea_run_now();
            st = sea_learner_step(r->learner, m.pairs, m.n, &ls);
            double t_learn = sea_run_now() - t;
            r->round = m.round + 1;
            if (!st && leader) {
                double v[S_COUNT], t_bcast;
                stats_pack(&ls, t_learn, v);
                st = sea_dist_broadcast(r->sync, v, sizeof v, sync_root(r), 0, NULL);
                if (!st) st = sea_run_broadcast_policy(r, r->sync, sync_root(r), &t_bcast);
            }
        } else if (m.cmd == SEA_ROLES_CHECKPOINT && leader) {
            st = send_learner_state(r);
        }
        int cmd = m.cmd;
        roles_msg_free(&m);
        if (st) return st;
        if (cmd == SEA_ROLES_STOP) return SEA_OK;
    }
}
