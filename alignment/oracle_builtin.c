/* The built-in task's rule as an oracle ("builtin:arith"). */
#include "alignment/oracle.h"
#include "alignment/tasks/arith.h"

#include <string.h>

static sea_status arith_score(void *ctx, int n, const char *const *prompts, const char *const *responses,
                              double *scores, int *n_done)
{
    (void)ctx;
    for (int i = 0; i < n; i++) {
        *n_done = i;
        SEA_TRY(sea_arith_score(prompts[i], responses[i], &scores[i]));
    }
    *n_done = n;
    return SEA_OK;
}

static const sea_oracle_vtable arith_vt = {"builtin", arith_score, NULL};

sea_status sea_oracle_builtin_open(const char *task, void **ctx, const sea_oracle_vtable **vt)
{
    if (!strcmp(task, "arith")) {
        *ctx = NULL;
        *vt = &arith_vt;
        return SEA_OK;
    }
    return sea_error(SEA_ERR_INVALID, "--oracle builtin:%s: unknown task (known: arith)", task);
}
