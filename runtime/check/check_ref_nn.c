/* float64 references of the network ops: embedding, matmul, norms, rotary, attention,
 * the ensemble MLP. Plain loops over the definitions in op.h (and HF for llama3 rope). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

void ct_ref_embedding(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    int64_t V = in[0].shape[0], D = in[0].shape[1];
    for (int64_t n = 0; n < in[1].n; n++) {
        int64_t id = (int64_t)in[1].v[n];
        for (int64_t d = 0; d < D; d++) out[0].v[n * D + d] = id >= 0 && id < V ? in[0].v[id * D + d] : 0.0;
    }
}

/* out[0] holds dst's initial values (an in-place op). */
void ct_ref_set_rows(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    int64_t R = in[0].shape[1];
    for (int64_t n = 0; n < in[1].n; n++) {
        int64_t row = (int64_t)in[1].v[n];
        for (int64_t r = 0; r < R; r++) out[0].v[row * R + r] = in[0].v[n * R + r];
    }
}

void ct_ref_matmul(const check_case *c, const ct_host *in, ct_host *out)
{
    const ct_host *a = &in[0], *b = &in[1];
    bool ta = c->p.matmul.trans_a, tb = c->p.matmul.trans_b;
    int nb = a->ndim - 2;
    int64_t batch = 1;
    for (int i = 0; i < nb; i++) batch *= a->shape[i];
    int64_t M = ta ? a->shape[nb + 1] : a->shape[nb], K = ta ? a->shape[nb] : a->shape[nb + 1];
    int64_t N = tb ? b->shape[b->ndim - 2] : b->shape[b->ndim - 1];
    bool bbatch = b->ndim > 2;
    for (int64_t z = 0; z < batch; z++) {
        const double *A = a->v + z * M * K, *B = b->v + (bbatch ? z * K * N : 0);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = in[2].v ? in[2].v[j] : 0.0;
                for (int64_t k = 0; k < K; k++) s += (ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
                int64_t o = z * M * N + i * N + j;
                out[0].v[o] = ct_act(c->p.matmul.act, s) + (in[3].v ? in[3].v[o] : 0.0);
                if (out[1].v) out[1].v[o] = s;
            }
    }
}

static void norm_ref(const check_case *c, const ct_host *in, ct_host *out, bool layer)
{
    int64_t D = in[0].shape[in[0].ndim - 1], N = in[0].n / D;
    double eps = c->p.norm.eps;
    for (int64_t n = 0; n < N; n++) {
        const double *x = in[0].v + n * D;
        double mu = 0, var = 0;
        if (layer) {
            for (int64_t d = 0; d < D; d++) mu += x[d];
            mu /= (double)D;
        }
        for (int64_t d = 0; d < D; d++) var += (x[d] - mu) * (x[d] - mu);
        var /= (double)D;
        double r = 1.0 / sqrt(var + eps);
        for (int64_t d = 0; d < D; d++) {
            double y = (x[d] - mu) * r * in[1].v[d];
            if (layer && in[2].v) y += in[2].v[d];
            out[0].v[n * D + d] = y;
        }
        /* layernorm's second affine (in[3], in[4] -> out[3]) of the same normalized row */
        if (layer && in[3].v && out[3].v)
            for (int64_t d = 0; d < D; d++)
                out[3].v[n * D + d] = (x[d] - mu) * r * in[3].v[d] + (in[4].v ? in[4].v[d] : 0.0);
        if (layer) {
            if (out[1].v) out[1].v[n] = mu;
            if (out[2].v) out[2].v[n] = r;
        } else if (out[1].v) {
            out[1].v[n] = r;
        }
    }
}

void ct_ref_layernorm(const check_case *c, const ct_host *in, ct_host *out) { norm_ref(c, in, out, true); }
void ct_ref_rmsnorm(const check_case *c, const ct_host *in, ct_host *out) { norm_ref(c, in, out, false); }

/* transformers' _compute_llama3_parameters, element by element. */
static double llama3_inv_freq(const sea_op_params *p, double inv)
{
    double factor = p->rope.factor, lf = p->rope.low_freq_factor, hf = p->rope.high_freq_factor;
    double old = p->rope.original_max_pos;
    double low_freq_wavelen = old / lf, high_freq_wavelen = old / hf;
    double wavelen = 2 * M_PI / inv;
    double scaled = wavelen > low_freq_wavelen ? inv / factor : inv;
    double smooth = (old / wavelen - lf) / (hf - lf);
    double smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
    bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
    return medium ? smoothed : scaled;
}

void ct_ref_rope(const check_case *c, const ct_host *in, ct_host *out)
{
    int64_t B = in[0].shape[0], T = in[0].shape[1], H = in[0].shape[2], hd = in[0].shape[3];
    int rot = c->p.rope.rot_dims, half = rot / 2;
    bool neox = c->p.rope.style == SEA_ROPE_NEOX;
    memcpy(out[0].v, in[0].v, (size_t)in[0].n * sizeof(double));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            double pos = in[1].v[b * T + t];
            for (int i = 0; i < half; i++) {
                double inv = 1.0 / pow((double)c->p.rope.theta, (2.0 * i) / rot);
                if (c->p.rope.scaling == SEA_ROPE_SCALING_LLAMA3) inv = llama3_inv_freq(&c->p, inv);
                double cs = cos(pos * inv), sn = sin(pos * inv);
                for (int64_t h = 0; h < H; h++) {
                    const double *x = in[0].v + ((b * T + t) * H + h) * hd;
                    double *y = out[0].v + ((b * T + t) * H + h) * hd;
                    int64_t j1 = neox ? i : 2 * i, j2 = neox ? i + half : 2 * i + 1;
                    y[j1] = x[j1] * cs - x[j2] * sn;
                    y[j2] = x[j2] * cs + x[j1] * sn;
                }
            }
        }
}

/* Shared by both attentions: query q (hd) over keys s in [0, n) of (b, kv head kh). */
static double attend(const double *q, const double *k, const double *v, const double *valid, int64_t n,
                     int64_t Hkv, int64_t hd, double scale, double *o, double *scores)
{
    double m = -INFINITY;
    for (int64_t s = 0; s < n; s++) {
        scores[s] = -INFINITY;
        if (valid && valid[s] == 0) continue;
        double d = 0;
        for (int64_t e = 0; e < hd; e++) d += q[e] * k[s * Hkv * hd + e];
        scores[s] = d * scale;
        if (scores[s] > m) m = scores[s];
    }
    for (int64_t e = 0; e < hd; e++) o[e] = 0;
    if (m == -INFINITY) return -INFINITY;
    double z = 0;
    for (int64_t s = 0; s < n; s++)
        if (scores[s] != -INFINITY) z += exp(scores[s] - m);
    for (int64_t s = 0; s < n; s++) {
        if (scores[s] == -INFINITY) continue;
        double p = exp(scores[s] - m) / z;
        for (int64_t e = 0; e < hd; e++) o[e] += p * v[s * Hkv * hd + e];
    }
    return m + log(z);
}

void ct_ref_attention(const check_case *c, const ct_host *in, ct_host *out)
{
    int64_t B = in[0].shape[0], T = in[0].shape[1], H = in[0].shape[2], hd = in[0].shape[3], Hkv = in[1].shape[2];
    double *scores = malloc((size_t)T * sizeof(double));
    if (!scores) return;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++) {
            int64_t kh = h / (H / Hkv);
            for (int64_t t = 0; t < T; t++) {
                int64_t row = ((b * T + t) * H + h) * hd;
                double l = attend(in[0].v + row, in[1].v + (b * T * Hkv + kh) * hd, in[2].v + (b * T * Hkv + kh) * hd,
                                  in[3].v ? in[3].v + b * T : NULL, t + 1, Hkv, hd, c->p.attn.scale, out[0].v + row, scores);
                if (out[1].v) out[1].v[(b * H + h) * T + t] = l;
            }
        }
    free(scores);
}

/* Decode with an optional shared prefix in[4..6], by its definition (op.h): sequence b's keys
 * are its prefix row b / (B / Bp) copied in front of its own first n_keys, one softmax. */
void ct_ref_decode_attention(const check_case *c, const ct_host *in, ct_host *out)
{
    int64_t B = in[0].shape[0], H = in[0].shape[1], hd = in[0].shape[2], S = in[1].shape[1], Hkv = in[1].shape[2];
    bool prefix = in[4].v != NULL;
    int64_t Bp = prefix ? in[4].shape[0] : 1, Sp = prefix ? in[4].shape[1] : 0, n = Sp + c->p.attn.n_keys;
    size_t row = (size_t)Hkv * (size_t)hd;
    double *scores = malloc((size_t)(n + 1) * sizeof(double));
    double *k = malloc((size_t)(n + 1) * row * sizeof(double));    /* (Sp + n_keys, Hkv, hd) */
    double *v = malloc((size_t)(n + 1) * row * sizeof(double));
    double *valid = malloc((size_t)(n + 1) * sizeof(double));      /* (Sp + n_keys) */
    if (scores && k && v && valid)
        for (int64_t b = 0; b < B; b++) {
            int64_t pb = b / (B / Bp);
            if (prefix) {
                memcpy(k, in[4].v + pb * Sp * (int64_t)row, (size_t)Sp * row * sizeof(double));
                memcpy(v, in[5].v + pb * Sp * (int64_t)row, (size_t)Sp * row * sizeof(double));
                memcpy(valid, in[6].v + pb * Sp, (size_t)Sp * sizeof(double));
            }
            memcpy(k + Sp * (int64_t)row, in[1].v + b * S * (int64_t)row, (size_t)c->p.attn.n_keys * row * sizeof(double));
            memcpy(v + Sp * (int64_t)row, in[2].v + b * S * (int64_t)row, (size_t)c->p.attn.n_keys * row * sizeof(double));
            memcpy(valid + Sp, in[3].v + b * S, (size_t)c->p.attn.n_keys * sizeof(double));
            for (int64_t h = 0; h < H; h++) {
                int64_t kh = h / (H / Hkv);
                attend(in[0].v + (b * H + h) * hd, k + kh * hd, v + kh * hd, valid, n, Hkv, hd, c->p.attn.scale,
                       out[0].v + (b * H + h) * hd, scores);
            }
        }
    free(scores);
    free(k);
    free(v);
    free(valid);
}

void ct_ref_ensemble_mlp(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    int64_t N = in[0].shape[0], d = in[0].shape[1], K = in[1].shape[0], h = in[1].shape[2];
    const double *x = in[0].v;
    for (int64_t k = 0; k < K; k++) {
        const double *W1 = in[1].v + k * d * h, *b1 = in[2].v + k * h, *W2 = in[3].v + k * h * h, *b2 = in[4].v + k * h;
        const double *W3 = in[5].v + k * h;
        for (int64_t n = 0; n < N; n++) {
            double h1[256], h2[256];   /* cases keep h small */
            for (int64_t j = 0; j < h && j < 256; j++) {
                double s = b1[j];
                for (int64_t i = 0; i < d; i++) s += x[n * d + i] * W1[i * h + j];
                h1[j] = s > 0 ? s : 0;
            }
            for (int64_t j = 0; j < h && j < 256; j++) {
                double s = b2[j];
                for (int64_t i = 0; i < h; i++) s += h1[i] * W2[i * h + j];
                h2[j] = s > 0 ? s : 0;
            }
            double r = in[6].v[k];
            for (int64_t j = 0; j < h && j < 256; j++) r += h2[j] * W3[j];
            out[0].v[k * N + n] = r;
            for (int64_t j = 0; j < h && j < 256; j++) {
                if (out[1].v) out[1].v[(k * N + n) * h + j] = h1[j];
                if (out[2].v) out[2].v[(k * N + n) * h + j] = h2[j];
            }
        }
    }
}
