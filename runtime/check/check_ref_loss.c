/* float64 references of softmax, the log-prob gathers and losses, masked sums, and the
 * expected tokens of sampling (greedy, or HF-order top-k/top-p then Gumbel-max with the
 * same counter-based uniforms as op.h prescribes). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

static double row_lse(const double *x, int64_t V)
{
    double m = -INFINITY;
    for (int64_t i = 0; i < V; i++) m = x[i] > m ? x[i] : m;
    if (m == -INFINITY) return m;
    double z = 0;
    for (int64_t i = 0; i < V; i++) z += exp(x[i] - m);
    return m + log(z);
}

void ct_ref_softmax(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    int64_t V = in[0].shape[in[0].ndim - 1], N = in[0].n / V;
    for (int64_t n = 0; n < N; n++) {
        double l = row_lse(in[0].v + n * V, V);
        for (int64_t i = 0; i < V; i++) out[0].v[n * V + i] = exp(in[0].v[n * V + i] - l);
    }
}

void ct_ref_logsoftmax_gather(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    int64_t V = in[0].shape[in[0].ndim - 1], N = in[0].n / V;
    for (int64_t n = 0; n < N; n++) {
        double l = row_lse(in[0].v + n * V, V);
        int64_t t = (int64_t)in[1].v[n];
        out[0].v[n] = t < 0 ? 0.0 : in[0].v[n * V + t] - l;
        if (out[1].v) out[1].v[n] = l;
    }
}

void ct_ref_cross_entropy(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    int64_t V = in[0].shape[in[0].ndim - 1], N = in[0].n / V, count = 0;
    double s = 0;
    for (int64_t n = 0; n < N; n++) {
        double l = row_lse(in[0].v + n * V, V);
        int64_t t = (int64_t)in[1].v[n];
        if (t >= 0) {
            s += l - in[0].v[n * V + t];
            count++;
        }
        if (out[1].v) out[1].v[n] = l;
    }
    out[0].v[0] = count ? s / (double)count : 0.0;
}

void ct_ref_masked_sum(const check_case *c, const ct_host *in, ct_host *out)
{
    int64_t T = in[0].shape[in[0].ndim - 1], B = in[0].n / T;
    for (int64_t b = 0; b < B; b++) {
        double s = 0, w = 0;
        for (int64_t t = 0; t < T; t++) {
            s += in[0].v[b * T + t] * in[1].v[b * T + t];
            w += in[1].v[b * T + t];
        }
        out[0].v[b] = c->p.masked.mean ? (w != 0 ? s / w : 0.0) : s;
    }
}

/* Sort helper: larger logit first, then lower index. */
static const double *g_sort_x;
static int by_desc(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    if (g_sort_x[i] != g_sort_x[j]) return g_sort_x[i] > g_sort_x[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* Expected token of one row for a given top_p (the caller tries top_p +- a hair to see
 * whether the truncation boundary is ambiguous in float32). Returns the token and the
 * margin between the best and second-best Gumbel scores. */
static int64_t sample_row(const check_case *c, const double *x, int64_t V, uint32_t stream, double top_p, double *margin,
                          int64_t *runner_up)
{
    const __typeof__(c->p.sample) *p = &c->p.sample;
    *margin = INFINITY;
    *runner_up = -2;
    if (p->temperature == 0) {
        int64_t best = 0;
        for (int64_t i = 1; i < V; i++)
            if (x[i] > x[best]) best = i;
        double second = -INFINITY;
        for (int64_t i = 0; i < V; i++)
            if (i != best && x[i] > second) {
                second = x[i];
                *runner_up = i;
            }
        *margin = x[best] - second;
        return best;
    }
    int64_t *idx = malloc((size_t)V * sizeof *idx);
    if (!idx) return -1;
    for (int64_t i = 0; i < V; i++) idx[i] = i;
    g_sort_x = x;
    qsort(idx, (size_t)V, sizeof *idx, by_desc);
    int64_t n = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    if (top_p < 1.0) {
        double T = p->temperature, m = x[idx[0]] / T, z = 0, cum = 0;
        for (int64_t i = 0; i < n; i++) z += exp(x[idx[i]] / T - m);
        for (int64_t i = 0; i < n; i++) {
            cum += exp(x[idx[i]] / T - m) / z;
            if (cum >= top_p) {
                n = i + 1;
                break;
            }
        }
    }
    double best = -INFINITY, second = -INFINITY;
    int64_t tok = -1;
    for (int64_t j = 0; j < n; j++) {
        int64_t i = idx[j];
        double u = sea_rng_uniform(p->seed, stream, (uint64_t)p->step * (uint64_t)V + (uint64_t)i);
        double s = x[i] / p->temperature - log(-log(u));
        if (s > best || (s == best && i < tok)) {
            second = best;
            *runner_up = tok;
            best = s;
            tok = i;
        } else if (s > second) {
            second = s;
            *runner_up = i;
        }
    }
    free(idx);
    *margin = best - second;
    return tok;
}

/* out[0]: expected token per row (-1 if unsure); out[1]: logp at T = 1 of that token.
 * out[2] (scratch, (B, 4)): up to 3 alternative tokens accepted when the choice sits on a
 * float32-sized tie (Gumbel margin < 1e-4, or a top-p boundary within 1e-5). */
void ct_ref_sample_tokens(const check_case *c, const ct_host *in, ct_host *out)
{
    int64_t B = in[0].shape[0], V = in[0].shape[1];
    for (int64_t b = 0; b < B; b++) {
        const double *x = in[0].v + b * V;
        uint32_t stream = (uint32_t)(int32_t)in[1].v[b];
        double margin, m2;
        int64_t runner_up, r2;
        int64_t tok = sample_row(c, x, V, stream, c->p.sample.top_p, &margin, &runner_up);
        int64_t alt_lo = sample_row(c, x, V, stream, c->p.sample.top_p - 1e-5, &m2, &r2);
        int64_t alt_hi = c->p.sample.top_p < 1 ? sample_row(c, x, V, stream, c->p.sample.top_p + 1e-5, &m2, &r2) : tok;
        out[0].v[b] = (double)tok;
        if (out[1].v) out[1].v[b] = tok >= 0 ? x[tok] - row_lse(x, V) : NAN;
        out[2].v[b * 4 + 0] = (double)alt_lo;
        out[2].v[b * 4 + 1] = (double)alt_hi;
        out[2].v[b * 4 + 2] = margin < 1e-4 ? (double)runner_up : -2.0;   /* near-tie: the runner-up is fine too */
        out[2].v[b * 4 + 3] = 0;
    }
}
