#include "alignment/mixed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool sea_mixed_active(const sea_mixed_cfg *c, int round) { return c->gamma < 1.0 && round >= c->burn_in; }

int sea_mixed_choose(const sea_mixed_cfg *c, int n, sea_rng *rng, uint8_t *is_mixed)
{
    memset(is_mixed, 0, (size_t)n);
    int want = (int)floor((1.0 - c->gamma) * n + 0.5);
    if (want <= 0) return 0;
    if (want > n) want = n;
    int *idx = malloc(sizeof(int) * (size_t)n);
    if (!idx) {
        /* without scratch memory fall back to the first `want` prompts (still a valid split) */
        memset(is_mixed, 1, (size_t)want);
        return want;
    }
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 0; i < want; i++) {
        int j = i + (int)sea_rng_next_below(rng, (uint32_t)(n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        is_mixed[idx[i]] = 1;
    }
    free(idx);
    return want;
}

sea_pair_choice sea_mixed_pair(const float *R, int K, int M, sea_rng *rng, int *member)
{
    int k = (int)sea_rng_next_below(rng, (uint32_t)K);
    if (member) *member = k;
    return sea_select_member_best_worst(R, K, M, k);
}
