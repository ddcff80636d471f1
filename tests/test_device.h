/* The device a C test program runs on: argv[1], default "cpu". */
#ifndef SEA_TESTS_TEST_DEVICE_H
#define SEA_TESTS_TEST_DEVICE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/backend.h"

/* Open argv[1] (default "cpu") and print its label; when it cannot be opened, say why and
 * exit 77 (meson's "skipped": a named GPU that is absent) or 1 (the CPU must always open). */
static inline sea_device *test_device(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "cpu";
    sea_device *dev = NULL;
    sea_status st = sea_device_open(spec, &dev);
    if (st) {
        fprintf(stderr, "device '%s' unavailable: %s\n", spec, sea_last_error());
        exit(strcmp(spec, "cpu") ? 77 : 1);
    }
    printf("device: %s\n", sea_device_label(dev));
    return dev;
}

#endif
