/* tools/cli_number.c: command-line numbers are taken whole and in range, or refused (atoi's
 * "1e3" -> 1 and atof's "abc" -> 0 ran something other than what was typed). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/cli_number.h"

static int failures;
#include "tests/test_check.h"

int main(void)
{
    int i = -7;
    long long ll = -7;
    uint64_t u = 7;
    double d = -7;
    float f = -7;
    /* accepted, whole */
    CHECK(cli_int("t", "--n", "12", 1, 100, &i) && i == 12, "12 -> %d", i);
    CHECK(cli_int("t", "--n", "-3", -5, 5, &i) && i == -3, "-3 -> %d", i);
    CHECK(cli_i64("t", "--n", "9007199254740993", 0, INT64_MAX, &ll) && ll == 9007199254740993LL, "2^53+1 -> %lld", ll);
    CHECK(cli_u64("t", "--seed", "18446744073709551615", &u) && u == UINT64_MAX, "u64 max -> %llu", (unsigned long long)u);
    CHECK(cli_double("t", "--lr", "3e-4", 0, DBL_MAX, &d) && d == 3e-4, "3e-4 -> %g", d);
    CHECK(cli_float("t", "--top-p", "0.9", 0, 1, &f) && f == 0.9f, "0.9 -> %g", f);
    /* refused, and the output left alone */
    i = 42;
    const char *bad_ints[] = {"1e3", "abc", "", "12x", "3.5", "101", "0", "99999999999"};
    for (size_t k = 0; k < sizeof bad_ints / sizeof *bad_ints; k++)
        CHECK(!cli_int("t", "--n", bad_ints[k], 1, 100, &i) && i == 42, "'%s' accepted as an int in [1, 100]", bad_ints[k]);
    CHECK(!cli_int("t", "--n", NULL, 1, 100, &i) && i == 42, "a missing value accepted");
    CHECK(!cli_int("t", "--n", "3000000000", 0, INT64_MAX, &i) && i == 42, "3e9 accepted as an int");
    ll = 42;
    CHECK(!cli_i64("t", "--n", "9223372036854775808", 0, INT64_MAX, &ll) && ll == 42, "2^63 accepted");
    u = 42;
    const char *bad_u64[] = {"-1", "+1", "18446744073709551616", "1.5", "", " 1"};
    for (size_t k = 0; k < sizeof bad_u64 / sizeof *bad_u64; k++)
        CHECK(!cli_u64("t", "--seed", bad_u64[k], &u) && u == 42, "'%s' accepted as a u64", bad_u64[k]);
    d = 42;
    const char *bad_dbl[] = {"nan", "inf", "-inf", "1e400", "3e", "", "0x", "-0.5", "abc"};
    for (size_t k = 0; k < sizeof bad_dbl / sizeof *bad_dbl; k++)
        CHECK(!cli_double("t", "--lr", bad_dbl[k], 0, DBL_MAX, &d) && d == 42, "'%s' accepted as a number >= 0", bad_dbl[k]);
    f = 42;
    CHECK(!cli_float("t", "--temperature", "1e300", 0, DBL_MAX, &f) && f == 42, "1e300 accepted as a float");
    CHECK(!cli_float("t", "--top-p", "1.5", 0, 1, &f) && f == 42, "1.5 accepted in [0, 1]");

    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("cli numbers: all checks passed\n");
    return failures != 0;
}
