#include "alignment/losses.h"

#include <math.h>
#include <string.h>

sea_status sea_pref_algo_parse(const char *name, sea_pref_algo *out)
{
    static const char *names[] = {"dpo", "ipo", "slic", "simpo"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i])) {
            *out = (sea_pref_algo)i;
            return SEA_OK;
        }
    return sea_error(SEA_ERR_INVALID, "unknown preference algorithm '%s' (dpo, ipo, slic, simpo)", name);
}

const char *sea_pref_algo_name(sea_pref_algo a)
{
    switch (a) {
    case SEA_ALGO_DPO: return "dpo";
    case SEA_ALGO_IPO: return "ipo";
    case SEA_ALGO_SLIC: return "slic";
    case SEA_ALGO_SIMPO: return "simpo";
    }
    return "?";
}

bool sea_pref_algo_uses_mean(sea_pref_algo a) { return a == SEA_ALGO_IPO || a == SEA_ALGO_SIMPO; }
bool sea_pref_algo_uses_ref(sea_pref_algo a) { return a != SEA_ALGO_SIMPO; }

double sea_pref_algo_default_beta(sea_pref_algo a)
{
    switch (a) {
    case SEA_ALGO_DPO: return 0.1;
    case SEA_ALGO_IPO: return 0.5;
    case SEA_ALGO_SLIC: return 0.2;
    case SEA_ALGO_SIMPO: return 2.0;
    }
    return 0.1;
}

/* log(1 + e^x) without overflow. */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

sea_status sea_pref_loss(const sea_pref_loss_cfg *cfg, int n, const double *pc, const double *pr,
                         const double *rc, const double *rr, const float *mask, double *d_pc,
                         double *d_pr, sea_pref_stats *stats)
{
    sea_pref_stats st;
    memset(&st, 0, sizeof st);
    if (n < 0) return sea_error(SEA_ERR_INVALID, "preference loss: n = %d pairs", n);
    bool ref = sea_pref_algo_uses_ref(cfg->algo);
    if (ref && (!rc || !rr) && n > 0)
        return sea_error(SEA_ERR_INVALID, "preference loss %s: reference log-probs missing",
                         sea_pref_algo_name(cfg->algo));
    const double beta = cfg->beta;
    double total = 0;
    for (int i = 0; i < n; i++) {
        double m = mask ? mask[i] : 1.0;
        if (d_pc) d_pc[i] = 0;
        if (d_pr) d_pr[i] = 0;
        if (m == 0) continue;
        double rci = ref ? rc[i] : 0, rri = ref ? rr[i] : 0;
        if (!isfinite(pc[i]) || !isfinite(pr[i]) || !isfinite(rci) || !isfinite(rri))
            return sea_error(SEA_ERR_NUMERIC,
                             "preference loss %s: pair %d has non-finite log-probs (policy %g/%g, ref %g/%g)",
                             sea_pref_algo_name(cfg->algo), i, pc[i], pr[i], rci, rri);
        double h = (pc[i] - rci) - (pr[i] - rri);
        double l, dl_dpc, dl_dpr;   /* per pair */
        switch (cfg->algo) {
        case SEA_ALGO_DPO:
            l = softplus(-beta * h);
            dl_dpc = -beta * sigmoid(-beta * h);
            dl_dpr = -dl_dpc;
            break;
        case SEA_ALGO_IPO: {
            double e = h - 1.0 / (2.0 * beta);
            l = e * e;
            dl_dpc = 2 * e;
            dl_dpr = -dl_dpc;
            break;
        }
        case SEA_ALGO_SLIC:
            l = fmax(0.0, 1.0 - beta * h);
            dl_dpc = 1.0 - beta * h > 0 ? -beta : 0.0;
            dl_dpr = -dl_dpc;
            break;
        case SEA_ALGO_SIMPO: {
            double z = beta * (pc[i] - pr[i]) - cfg->simpo_gamma_ratio * beta;
            l = softplus(-z);
            dl_dpc = -beta * sigmoid(-z);
            dl_dpr = -dl_dpc;
            break;
        }
        default:
            return sea_error(SEA_ERR_INVALID, "preference loss: unknown algorithm %d", (int)cfg->algo);
        }
        total += l * m;
        if (d_pc) d_pc[i] = dl_dpc * m / n;
        if (d_pr) d_pr[i] = dl_dpr * m / n;
        double rw_c = beta * (pc[i] - rci), rw_r = beta * (pr[i] - rri);
        st.rewards_chosen += rw_c;
        st.rewards_rejected += rw_r;
        st.rewards_accuracies += rw_c > rw_r;
        st.logps_chosen += pc[i];
        st.logps_rejected += pr[i];
        st.n_used++;
    }
    st.loss = n > 0 ? total / n : 0.0;
    if (st.n_used > 0) {
        st.rewards_chosen /= st.n_used;
        st.rewards_rejected /= st.n_used;
        st.rewards_accuracies /= st.n_used;
        st.logps_chosen /= st.n_used;
        st.logps_rejected /= st.n_used;
    }
    st.rewards_margins = st.rewards_chosen - st.rewards_rejected;
    if (stats) *stats = st;
    return SEA_OK;
}

double sea_xpo_term(int n, const double *logp_ref_resp, const float *mask, double alpha, double *d)
{
    int used = 0;
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (!mask || mask[i] != 0) {
            used++;
            sum += logp_ref_resp[i];
        }
    if (used == 0) return 0.0;
    if (d)
        for (int i = 0; i < n; i++)
            if (!mask || mask[i] != 0) d[i] += alpha / used;
    return alpha * sum / used;
}
