#include "cli_number.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

bool cli_i64(const char *cmd, const char *flag, const char *text, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long x = text ? strtoll(text, &end, 10) : 0;
    if (!text || end == text || *end || errno || x < lo || x > hi) {
        if (hi >= INT32_MAX) fprintf(stderr, "%s: %s '%s' is not an integer >= %lld\n", cmd, flag, text ? text : "", lo);
        else fprintf(stderr, "%s: %s '%s' is not an integer in [%lld, %lld]\n", cmd, flag, text ? text : "", lo, hi);
        return false;
    }
    *out = x;
    return true;
}

bool cli_int(const char *cmd, const char *flag, const char *text, long long lo, long long hi, int *out)
{
    long long x;
    if (lo < INT32_MIN) lo = INT32_MIN;
    if (hi > INT32_MAX) hi = INT32_MAX;
    if (!cli_i64(cmd, flag, text, lo, hi, &x)) return false;
    *out = (int)x;
    return true;
}

bool cli_u64(const char *cmd, const char *flag, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    /* strtoull takes "-1" as 2^64 - 1: only digits are a u64 here */
    bool digits = text && *text >= '0' && *text <= '9';
    unsigned long long x = digits ? strtoull(text, &end, 10) : 0;
    if (!digits || *end || errno) {
        fprintf(stderr, "%s: %s '%s' is not an unsigned 64-bit integer\n", cmd, flag, text ? text : "");
        return false;
    }
    *out = x;
    return true;
}

bool cli_double(const char *cmd, const char *flag, const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double x = text ? strtod(text, &end) : NAN;
    if (!text || end == text || *end || !isfinite(x) || x < lo || x > hi) {
        if (hi >= DBL_MAX) fprintf(stderr, "%s: %s '%s' is not a finite number >= %g\n", cmd, flag, text ? text : "", lo);
        else fprintf(stderr, "%s: %s '%s' is not a number in [%g, %g]\n", cmd, flag, text ? text : "", lo, hi);
        return false;
    }
    *out = x;
    return true;
}

bool cli_float(const char *cmd, const char *flag, const char *text, double lo, double hi, float *out)
{
    double x;
    if (!cli_double(cmd, flag, text, lo, hi, &x)) return false;
    if (fabs(x) > FLT_MAX) {   /* beyond float: the conversion would be undefined */
        fprintf(stderr, "%s: %s '%s' is beyond the range of a float\n", cmd, flag, text);
        return false;
    }
    *out = (float)x;
    return true;
}
