/* Numbers on a command line, taken whole or refused. atoi("1e3") is 1 and atof("abc") is 0:
 * a typo would silently run something else. Each parser accepts the full text only, within
 * [lo, hi] (finite for doubles), and otherwise prints "PROGRAM: FLAG 'TEXT' is not ..." to
 * stderr and returns false (the command then exits 2). */
#ifndef SEA_TOOLS_CLI_NUMBER_H
#define SEA_TOOLS_CLI_NUMBER_H

#include <stdbool.h>
#include <stdint.h>

bool cli_int(const char *cmd, const char *flag, const char *text, long long lo, long long hi, int *out);
bool cli_i64(const char *cmd, const char *flag, const char *text, long long lo, long long hi, long long *out);
bool cli_u64(const char *cmd, const char *flag, const char *text, uint64_t *out);
bool cli_double(const char *cmd, const char *flag, const char *text, double lo, double hi, double *out);
bool cli_float(const char *cmd, const char *flag, const char *text, double lo, double hi, float *out);

#endif
