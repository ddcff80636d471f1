/* NCCL without GPUs: what can be checked on any machine.
 *   - a library that is absent is reported by name (the fallback's log line);
 *   - where libnccl.so.2 is installed, every entry point we use resolves and it has a version;
 *   - on non-CUDA devices every rank takes the host path together, silently (run it under
 *     mpirun too: the decision is a collective).
 * The GPU path itself is not exercised here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/nccl.h"
#include "tests/test_check.h"

int main(void)
{
    int failures = 0;
    char why[512];
    int version = -1;
    sea_status st = sea_nccl_library_check("libnccl-absent-for-test.so.2", &version, why, sizeof why);
    CHECK(st == SEA_ERR_UNSUPPORTED, "absent library: status %d", st);
    CHECK(strstr(why, "libnccl-absent-for-test.so.2 not found"), "absent library: reason '%s'", why);
    CHECK(version == 0, "absent library: version %d", version);

    st = sea_nccl_library_check("libnccl.so.2", &version, why, sizeof why);
    if (st == SEA_OK) {
        CHECK(version >= 20400, "libnccl.so.2: version %d (need 2.4+)", version);
        printf("libnccl.so.2 %d.%d.%d: every entry point resolves%s%s\n", version / 10000, version / 100 % 100,
               version % 100, why[0] ? "; " : "", why);
    } else {
        printf("libnccl.so.2 not installed here (%s): only the fallback is checked\n", why);
    }

    sea_dist *d;
    CHECK(sea_dist_init(&d) == SEA_OK, "dist init: %s", sea_last_error());
    sea_device *dev;
    CHECK(sea_device_open("cpu", &dev) == SEA_OK, "cpu device: %s", sea_last_error());
    sea_nccl *c = (sea_nccl *)1;
    st = sea_nccl_open(d, dev, &c, why, sizeof why);
    CHECK(st == SEA_OK, "open on the cpu: %s", sea_last_error());
    CHECK(c == NULL, "NCCL on a cpu device");
    CHECK(why[0] == '\0', "cpu ranks must fall back silently, not '%s'", why);
    /* the ranks are still in step after the decision */
    double one = 1;
    CHECK(sea_dist_allreduce_sum_f64(d, &one, 1) == SEA_OK && one == sea_dist_size(d), "after the decision: %g", one);
    sea_device_close(dev);
    sea_dist_finalize(d);
    return failures != 0;
}
