/* Direct-alignment preference losses (SEA.md §7): DPO, IPO, SLiC, SimPO, plus XPO's extra term.
 *
 * Inputs are per-pair sequence log-probs over response tokens: the policy's and the reference's,
 * for the chosen (+) and rejected (-) response. DPO and SLiC use summed log-probs, IPO and SimPO
 * per-token averages: sea_pref_algo_uses_mean() tells the caller which to pass. The loss is
 * the mean over ALL n pairs of loss_i * mask_i (masked pairs count in the denominator, as in
 * oat), and the derivatives are of that mean. Everything is float64 on the host: n is a
 * round's pairs (tens to hundreds), the model work happens elsewhere. */
#ifndef SEA_ALIGNMENT_LOSSES_H
#define SEA_ALIGNMENT_LOSSES_H

#include <stdbool.h>

#include "runtime/status.h"

typedef enum sea_pref_algo {
    SEA_ALGO_DPO = 0,
    SEA_ALGO_IPO,
    SEA_ALGO_SLIC,
    SEA_ALGO_SIMPO,
} sea_pref_algo;

typedef struct sea_pref_loss_cfg {
    sea_pref_algo algo;
    double beta;          /* DPO 0.1, IPO 0.2..1, SLiC 0.2, SimPO: its β */
    double simpo_gamma_ratio;   /* SimPO γ_s / β (0.5) */
} sea_pref_loss_cfg;

/* Batch statistics with TRL's metric names (means over unmasked pairs; 0 if none). */
typedef struct sea_pref_stats {
    double loss;
    double rewards_chosen;    /* β (π+ − ref+)  (SimPO: β π+) */
    double rewards_rejected;
    double rewards_margins;
    double rewards_accuracies; /* fraction with reward chosen > rejected */
    double logps_chosen, logps_rejected;
    int n_used;               /* unmasked pairs */
} sea_pref_stats;

sea_status sea_pref_algo_parse(const char *name, sea_pref_algo *out);
const char *sea_pref_algo_name(sea_pref_algo a);
bool sea_pref_algo_uses_mean(sea_pref_algo a);
bool sea_pref_algo_uses_ref(sea_pref_algo a);
double sea_pref_algo_default_beta(sea_pref_algo a);

/* pc/pr: policy log-probs of chosen/rejected; rc/rr: reference (ignored by SimPO; may be
 * NULL then). mask NULL = all 1. d_pc/d_pr (may be NULL) receive d loss / d pc[i], d pr[i].
 * Non-finite inputs on an unmasked pair: SEA_ERR_NUMERIC naming the pair. */
sea_status sea_pref_loss(const sea_pref_loss_cfg *cfg, int n,
                         const double *pc, const double *pr,   /* (n) */
                         const double *rc, const double *rr,   /* (n) */
                         const float *mask,                    /* (n) or NULL */
                         double *d_pc, double *d_pr,           /* (n) or NULL */
                         sea_pref_stats *stats);

/* XPO's exploration term alpha * mean_i logp_ref_resp[i] over unmasked pairs' policy log-probs
 * of the response that came from π_ref; *value gets it, d[i] (may be NULL) its derivative
 * (accumulated with +=, so it adds onto sea_pref_loss's d_pc / d_pr). */
double sea_xpo_term(int n, const double *logp_ref_resp, const float *mask, double alpha, double *d);

#endif
