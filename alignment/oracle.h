/* Oracles: who says which of two responses is better (SEA.md §6).
 *
 * Every oracle is a scalar scorer s(x, y) behind one table of functions: the built-in task's
 * rule (oracle_builtin.c), a sequence-classification reward model (oracle_rm.c), or an
 * external judge program speaking JSON lines (oracle_judge.c). sea_oracle_compare turns two
 * scores into a Bradley–Terry preference p = σ(s_a − s_b) and a label (threshold or Bernoulli
 * draw, optional flip noise). Every answer is appended to the log file and fsync'ed BEFORE it
 * is returned, so a run that dies right after a query loses nothing it paid for.
 *
 * Specs: "builtin:arith", "rm:DIR", "judge:COMMAND" (run with /bin/sh -c). */
#ifndef SEA_ALIGNMENT_ORACLE_H
#define SEA_ALIGNMENT_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/backend.h"
#include "runtime/rng.h"

typedef struct sea_oracle_vtable {
    const char *kind;   /* "builtin", "rm", "judge" */
    /* scores[i] = s(prompts[i], responses[i]); *n_done = how many scores are valid (all of
     * them on success, the ones answered before a failure otherwise). */
    sea_status (*score)(void *ctx, int n, const char *const *prompts, const char *const *responses,
                        double *scores, int *n_done);
    void (*free)(void *ctx);
} sea_oracle_vtable;

typedef struct sea_oracle_opts {
    sea_device *device;        /* rm: where the reward model runs (NULL = default device) */
    double timeout_s;          /* judge: seconds to wait for each answer line (30) */
    const char *log_path;      /* JSON lines log of every answer; NULL = none */
} sea_oracle_opts;

typedef struct sea_oracle {
    const sea_oracle_vtable *vt;
    void *ctx;
    char spec[512];
    FILE *log;
    int log_fd;
    int64_t answers;           /* scores returned so far */
} sea_oracle;

sea_oracle_opts sea_oracle_opts_default(void);
sea_status sea_oracle_open(const char *spec, const sea_oracle_opts *opts, sea_oracle **out);
void sea_oracle_free(sea_oracle *o);

/* Scores (logged with the tag `what`, e.g. "query" or "eval"). When the scorer fails midway,
 * the answers it did give are still logged (nothing paid for is lost) and the error returned. */
sea_status sea_oracle_score(sea_oracle *o, const char *what, int n, const char *const *prompts,
                            const char *const *responses, double *scores);

typedef struct sea_label_cfg {
    bool bt_sample;      /* label ~ Bernoulli(p) instead of [p > 0.5] */
    double flip;         /* probability of flipping the label */
} sea_label_cfg;

/* Preference of a over b for n pairs: p[i] = σ(s_a − s_b); a_wins[i] = label;
 * mask[i] = 0 for ties (identical responses are never sent to the oracle; with the threshold
 * rule equal scores are ties too). Identical responses cost no query: *n_queried counts the
 * pairs actually sent. rng is used for Bernoulli draws and flips only. */
sea_status sea_oracle_compare(sea_oracle *o, const sea_label_cfg *lc, int n, const char *const *prompts,
                              const char *const *a, const char *const *b, sea_rng *rng,
                              double *p /* (n) */, int *a_wins /* (n) */, float *mask /* (n) */,
                              int *n_queried);

/* Implementations (oracle_*.c). */
sea_status sea_oracle_builtin_open(const char *task, void **ctx, const sea_oracle_vtable **vt);
sea_status sea_oracle_judge_open(const char *command, double timeout_s, void **ctx, const sea_oracle_vtable **vt);
sea_status sea_oracle_rm_open(const char *dir, sea_device *dev, void **ctx, const sea_oracle_vtable **vt);

/* One line of a judge's answer, {"id": id, "score": <finite number>, ...}: true with *score,
 * or false with why[] saying what is wrong (quoting the line's start). Takes any bytes. */
bool sea_judge_answer_parse(const char *line, int64_t id, double *score, char *why, size_t why_n);

/* JSON string escaping into a growing buffer (shared by the log and the judge protocol). */
sea_status sea_json_escape(const char *s, char **buf, size_t *len, size_t *cap);

#endif
