/* `sea selftest`: run the op suite (runtime/check) on a device and print a per-op table of
 * measured errors against the float64 reference, or JSON. Exit 0 all passed, 1 a failure
 * (or the device cannot be opened), 2 bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "runtime/backend.h"
#include "runtime/check/check.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sea selftest [--device SPEC] [--seed N] [--filter OPS] [--json] [--verbose]\n\n"
            "Runs every op (forward and backward) on the device against a float64 reference on\n"
            "fresh random inputs, and checks that malformed ops are rejected with clear errors.\n\n"
            "  --device SPEC  cpu, cuda:0, vulkan:0, opencl:0 (default: SEA_DEVICE or the best device)\n"
            "  --seed N       seed of the random inputs (default 1)\n"
            "  --filter OPS   comma-separated op names (matmul,attention,...) or 'validate'\n"
            "  --json         print the report as JSON\n"
            "  --verbose      also list skipped cases and messages of passing ones\n");
}

int sea_cmd_selftest(int argc, char **argv)
{
    const char *spec = NULL, *filter = NULL;
    unsigned long long seed = 1;
    bool json = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            verbose = true;
        } else if ((!strcmp(a, "--device") || !strcmp(a, "--seed") || !strcmp(a, "--filter")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--device")) {
                spec = v;
            } else if (!strcmp(a, "--filter")) {
                filter = v;
            } else {
                char *end;
                errno = 0;
                seed = strtoull(v, &end, 0);
                if (errno || end == v || *end) {
                    fprintf(stderr, "sea selftest: --seed expects a non-negative integer, got '%s'\n", v);
                    return 2;
                }
            }
        } else {
            fprintf(stderr, "sea selftest: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    sea_device *dev = NULL;
    sea_status st = sea_device_open(spec, &dev);
    if (st) {
        fprintf(stderr, "sea selftest: cannot open device '%s': %s\n", spec ? spec : "(default)", sea_last_error());
        return 1;
    }
    sea_check_report report = {0};
    st = sea_check_run(dev, (uint64_t)seed, filter, &report);
    if (st) {
        fprintf(stderr, "sea selftest: %s\n", sea_last_error());
        sea_check_report_free(&report);
        sea_device_close(dev);
        return 1;
    }
    if (report.count == 0) {
        fprintf(stderr, "sea selftest: no case matches --filter '%s'\n", filter ? filter : "");
        sea_check_report_free(&report);
        sea_device_close(dev);
        return 2;
    }
    if (json)
        sea_check_report_print_json(stdout, &report);
    else
        sea_check_report_print(stdout, &report, verbose);
    int rc = report.failed ? 1 : 0;
    sea_check_report_free(&report);
    sea_device_close(dev);
    return rc;
}
