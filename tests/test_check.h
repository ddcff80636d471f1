/* The soft assertion the C test programs share: a failed CHECK prints where and why and
 * counts the failure in an `int failures` the test keeps in scope, then the test goes on,
 * so one run reports every broken case; main returns failures != 0. */
#ifndef SEA_TESTS_TEST_CHECK_H
#define SEA_TESTS_TEST_CHECK_H

#include <stdio.h>

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            failures++;                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
        }                                                        \
    } while (0)

/* A setup step that must succeed (allocations, uploads): on failure print the call and
 * sea_last_error() and exit, since nothing after it would mean anything. Needs status.h. */
#define REQUIRE_OK(x)                                                                         \
    do {                                                                                      \
        sea_status st_ = (x);                                                                 \
        if (st_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, sea_last_error());     \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

#endif
