/* Token sampling, one work-group per row: greedy, or top-k / top-p truncation followed by
 * Gumbel-max with the Philox stream of the sequence (same numbers as runtime/rng.c).
 *
 * Truncation thresholds are found by bisection over an order-preserving integer key of the
 * logits (32 counting passes each) instead of a sort, so any vocabulary fits in one group.
 * All the passes run through ONE loop with ONE reduction call: PoCL (and other CPU OpenCL
 * compilers) turn every barrier site into work-item loops, and a kernel with a dozen inlined
 * reductions took minutes to compile. */

/* Monotone map float -> uint: a < b  <=>  fkey(a) < fkey(b) (for non-NaN). */
uint fkey(float f)
{
    uint u = as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Phases of the pass loop. */
#define PH_LSE 0      /* sum exp(x - m) -> lse at T = 1 */
#define PH_K_KEY 1    /* top-k: largest key with count(key >= key0) >= k */
#define PH_K_GT 2     /* count(key > kkey) */
#define PH_K_TIE 3    /* tie cut: largest c with count(key == kkey, i < c) < r */
#define PH_P_Z 4      /* Z = sum over top-k survivors of exp((x - m) / T) */
#define PH_P_KEY 5    /* top-p: largest key with mass(key >= key0) >= top_p */
#define PH_P_GT 6     /* mass(key > pkey) */
#define PH_P_TIE 7    /* tie cut: largest c with mass(key == pkey, i < c) < rem */
#define PH_DONE 8

__kernel void sample_rows(__global const float *logits, uint lo, __global const int *seq, uint so,
                          __global int *tokens, uint to, __global float *logp, uint lpo, uint V, float temperature,
                          int top_k, float top_p, ulong seed, uint step, __local float *fbuf, __local int *ibuf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    __global const float *x = logits + lo + (size_t)row * V;
    float m = -INFINITY;
    for (uint i = lid; i < V; i += wg) m = fmax(m, x[i]);
    m = wg_max(fbuf, m);

    bool sampling = temperature > 0.0f;
    float invT = sampling ? 1.0f / temperature : 1.0f;
    uint ibits = 1;
    while (ibits < 31 && (1u << ibits) <= V) ibits++;
    bool do_k = sampling && top_k > 0 && (uint)top_k < V;
    bool do_p = sampling && top_p < 1.0f;

    /* Kept set: (key > kkey || (key == kkey && i < kcut)) && (key > pkey || (key == pkey && i < pcut)). */
    uint kkey = 0, kcut = V, pkey = 0, pcut = V;
    uint res = 0, r = 0;
    int bit = 31;
    float lse1 = 0.0f, Z = 1.0f, rem = 0.0f;
    int phase = PH_LSE;
    while (phase != PH_DONE) {
        uint cand = res | (1u << bit);
        float acc = 0.0f;
        for (uint i = lid; i < V; i += wg) {
            float xi = x[i];
            uint key = fkey(xi);
            bool k1 = key > kkey || (key == kkey && i < kcut);
            switch (phase) {
            case PH_LSE: acc += exp(xi - m); break;
            case PH_K_KEY: acc += key >= cand ? 1.0f : 0.0f; break;
            case PH_K_GT: acc += key > kkey ? 1.0f : 0.0f; break;
            case PH_K_TIE: acc += (key == kkey && i < cand) ? 1.0f : 0.0f; break;
            case PH_P_Z: acc += k1 ? exp((xi - m) * invT) : 0.0f; break;
            case PH_P_KEY: acc += (k1 && key >= cand) ? exp((xi - m) * invT) : 0.0f; break;
            case PH_P_GT: acc += (k1 && key > pkey) ? exp((xi - m) * invT) : 0.0f; break;
            default: acc += (k1 && key == pkey && i < cand) ? exp((xi - m) * invT) : 0.0f; break;
            }
        }
        float tot = wg_sum(fbuf, acc); /* the only barrier site of the loop */
        /* Uniform state update (every work-item sees the same tot). */
        switch (phase) {
        case PH_LSE:
            lse1 = m + log(tot);
            phase = do_k ? PH_K_KEY : do_p ? PH_P_Z : PH_DONE;
            res = 0;
            bit = 31;
            break;
        case PH_K_KEY:
            if (tot >= (float)top_k) res = cand;
            if (--bit < 0) {
                kkey = res;
                phase = PH_K_GT;
                bit = 0;
            }
            break;
        case PH_K_GT:
            r = (uint)top_k - (uint)tot;
            res = 0;
            bit = (int)ibits - 1;
            phase = PH_K_TIE;
            break;
        case PH_K_TIE:
            if (tot < (float)r) res = cand;
            if (--bit < 0) {
                kcut = res + 1;
                phase = do_p ? PH_P_Z : PH_DONE;
                res = 0;
                bit = 31;
            }
            break;
        case PH_P_Z:
            Z = tot;
            res = 0;
            bit = 31;
            phase = PH_P_KEY;
            break;
        case PH_P_KEY:
            if (tot / Z >= top_p) res = cand;
            if (--bit < 0) {
                pkey = res;
                phase = PH_P_GT;
                bit = 0;
            }
            break;
        case PH_P_GT:
            rem = top_p - tot / Z;
            res = 0;
            bit = (int)ibits - 1;
            phase = PH_P_TIE;
            break;
        default:
            if (tot / Z < rem) res = cand;
            if (--bit < 0) {
                pcut = res + 1;
                phase = PH_DONE;
            }
            break;
        }
    }

    /* Greedy: argmax of x; sampling: Gumbel-max over the kept set (x * (1/T) as the CPU backend). */
    uint stream = (uint)seq[so + row];
    float bv = -INFINITY;
    int bi = -1;
    for (uint i = lid; i < V; i += wg) {
        float val;
        if (sampling) {
            uint key = fkey(x[i]);
            if (!(key > kkey || (key == kkey && i < kcut))) continue;
            if (!(key > pkey || (key == pkey && i < pcut))) continue;
            float u = rng_uniform(seed, stream, (ulong)step * V + i);
            val = x[i] * invT - log(-log(u));
        } else {
            val = x[i];
        }
        if (bi < 0 || val > bv) {
            bv = val;
            bi = (int)i;
        }
    }
    int tok = wg_argmax(fbuf, ibuf, bv, bi);
    if (lid == 0) {
        tokens[to + row] = tok;
        logp[lpo + row] = tok >= 0 ? x[tok] - lse1 : NAN;
    }
}
