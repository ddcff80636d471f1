/* The op suite on one device: test_ops [DEVICE [FILTER]] (default cpu, all ops).
 * Exit 0 all passed, 1 a failure, 77 (skip) when a non-CPU device cannot be opened.
 * SEA_TEST_SEED overrides the fixed seed, to try other random inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/backend.h"
#include "runtime/check/check.h"

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "cpu";
    const char *filter = argc > 2 ? argv[2] : NULL;
    uint64_t seed = 20261128;
    const char *env = getenv("SEA_TEST_SEED");
    if (env && *env) seed = strtoull(env, NULL, 0);
    sea_device *dev = NULL;
    if (sea_device_open(spec, &dev)) {
        fprintf(stderr, "test_ops: device %s not available: %s\n", spec, sea_last_error());
        return strcmp(spec, "cpu") ? 77 : 1;
    }
    sea_check_report report = {0};
    if (sea_check_run(dev, seed, filter, &report)) {
        fprintf(stderr, "test_ops: %s\n", sea_last_error());
        sea_device_close(dev);
        return 1;
    }
    sea_check_report_print(stdout, &report, false);
    int rc = report.failed || report.count == report.skipped ? 1 : 0;
    if (report.count == report.skipped) fprintf(stderr, "test_ops: nothing ran\n");
    sea_check_report_free(&report);
    sea_device_close(dev);
    return rc;
}
