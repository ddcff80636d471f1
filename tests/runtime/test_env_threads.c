/* SEA_NUM_THREADS / SEA_SPIN_US are taken whole or refused: the CPU device does not open on a
 * value it cannot use (atoi turned "abc" into the default and "1e3" into 1, silently).
 * usage: test_env_threads refuse TEXT   (run with a bad variable: opening cpu fails naming TEXT)
 *        test_env_threads threads N     (run with SEA_NUM_THREADS=N: the device has N compute units) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/backend.h"
#include "runtime/ops.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_env_threads refuse TEXT | threads N\n");
        return 2;
    }
    sea_device *dev = NULL;
    sea_status st = sea_device_open("cpu", &dev);
    if (!strcmp(argv[1], "refuse")) {
        if (!st) {
            fprintf(stderr, "FAIL: the cpu device opened with SEA_NUM_THREADS='%s' SEA_SPIN_US='%s'\n",
                    getenv("SEA_NUM_THREADS") ? getenv("SEA_NUM_THREADS") : "", getenv("SEA_SPIN_US") ? getenv("SEA_SPIN_US") : "");
            sea_device_close(dev);
            return 1;
        }
        if (!strstr(sea_last_error(), argv[2])) {
            fprintf(stderr, "FAIL: the error does not name '%s': %s\n", argv[2], sea_last_error());
            return 1;
        }
        printf("refused: %s\n", sea_last_error());
        return 0;
    }
    if (st) {
        fprintf(stderr, "FAIL: cpu: %s\n", sea_last_error());
        return 1;
    }
    int want = atoi(argv[2]), got = dev->props.compute_units;
    sea_device_close(dev);
    if (got != want) {
        fprintf(stderr, "FAIL: %d compute units, SEA_NUM_THREADS=%d\n", got, want);
        return 1;
    }
    printf("%d threads\n", got);
    return 0;
}
