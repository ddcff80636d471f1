/* The op suite: every op of runtime/op.h (forward, and backward where it has one) run on a
 * device and compared with a float64 reference computed on the host.
 *
 * Inputs are fresh random values from sea_rng (never zeros), outputs are poisoned with NaN
 * before the run, and the error is ||out - ref|| / ||ref|| against a per-dtype tolerance.
 * Backward kernels are compared with central finite differences of the float64 reference
 * forward of L = sum(gout * out), on all coordinates of small inputs or a random sample of
 * large ones; input gradients start from random values, so accumulation (+=) is checked too.
 * Bad-input checks assert that the dispatcher rejects wrong shapes, dtypes and missing
 * outputs with the right status and a message naming the op and the shapes.
 *
 * Used by `sea selftest` and tests/ops; GPU backends run the same cases. */
#ifndef SEA_CHECK_H
#define SEA_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_check_dir {
    SEA_CHECK_FORWARD = 0,
    SEA_CHECK_BACKWARD,
    SEA_CHECK_BAD_INPUT,   /* the dispatcher must reject the op with a clear message */
} sea_check_dir;

typedef struct sea_check_result {
    char op[32];           /* sea_op_name(), or "validate" for bad-input checks */
    char name[96];         /* case name: "(7, 13) x (13, 5) trans_b bias" */
    sea_check_dir dir;
    sea_dtype dtype;       /* the data dtype of the case */
    double error;          /* relative error (sampling: fraction of wrong tokens) */
    double tolerance;
    bool passed;
    bool skipped;          /* the backend does not run this op/dtype */
    char message[320];     /* why it failed or was skipped; "" when passed */
} sea_check_result;

typedef struct sea_check_report {
    sea_check_result *items;
    int count, cap;
    int passed, failed, skipped;
    char device[192];      /* sea_device_label of the device checked */
    uint64_t seed;
} sea_check_report;

/* Run every case whose op name matches `filter` (NULL/"" = all; a comma-separated list of
 * op names, or "validate" for the bad-input checks) on `dev` with inputs drawn from `seed`.
 * Case outcomes go to `report` (initialise it with {0}; free with sea_check_report_free).
 * Returns SEA_OK when the suite ran, whatever the outcomes; an error only when the suite
 * itself could not run (no memory on the host). */
sea_status sea_check_run(sea_device *dev, uint64_t seed, const char *filter, sea_check_report *report);
void sea_check_report_free(sea_check_report *report);

const char *sea_check_dir_name(sea_check_dir d);   /* "fwd", "bwd", "bad-input" */
/* Per-case table ("op  case  dir  dtype  error  tol  result"), then a summary line. */
void sea_check_report_print(FILE *f, const sea_check_report *report, bool verbose);
/* The report as one JSON object {"device", "seed", "passed", "failed", "skipped", "results": [...]}. */
void sea_check_report_print_json(FILE *f, const sea_check_report *report);

#ifdef __cplusplus
}
#endif
#endif
