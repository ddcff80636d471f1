/* Printing an op-suite report: an aligned table for people, one JSON object for tools. */
#include <math.h>
#include <string.h>

#include "check_internal.h"

const char *sea_check_dir_name(sea_check_dir d)
{
    switch (d) {
    case SEA_CHECK_FORWARD: return "fwd";
    case SEA_CHECK_BACKWARD: return "bwd";
    case SEA_CHECK_BAD_INPUT: return "bad-input";
    }
    return "?";
}

void sea_check_report_print(FILE *f, const sea_check_report *r, bool verbose)
{
    fprintf(f, "op suite on %s, seed %llu\n", r->device, (unsigned long long)r->seed);
    fprintf(f, "%-18s %-9s %-5s %-60s %10s %10s  %s\n", "op", "dir", "dtype", "case", "error", "tol", "result");
    for (int i = 0; i < r->count; i++) {
        const sea_check_result *x = &r->items[i];
        if (!verbose && x->skipped) continue;
        const char *result = x->skipped ? "skip" : x->passed ? "ok" : "FAIL";
        fprintf(f, "%-18s %-9s %-5s %-60.60s %10.2e %10.2e  %s\n", x->op, sea_check_dir_name(x->dir),
                sea_dtype_name(x->dtype), x->name, x->error, x->tolerance, result);
        if (x->message[0] && (!x->passed || verbose)) fprintf(f, "    %s\n", x->message);
    }
    fprintf(f, "%d passed, %d failed, %d skipped (unsupported on this device)\n", r->passed, r->failed, r->skipped);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* JSON has no infinities: print them as null. */
static void json_number(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fprintf(f, "null");
}

void sea_check_report_print_json(FILE *f, const sea_check_report *r)
{
    fprintf(f, "{\"device\": ");
    json_string(f, r->device);
    fprintf(f, ", \"seed\": %llu, \"passed\": %d, \"failed\": %d, \"skipped\": %d, \"results\": [",
            (unsigned long long)r->seed, r->passed, r->failed, r->skipped);
    for (int i = 0; i < r->count; i++) {
        const sea_check_result *x = &r->items[i];
        fprintf(f, "%s\n  {\"op\": ", i ? "," : "");
        json_string(f, x->op);
        fprintf(f, ", \"case\": ");
        json_string(f, x->name);
        fprintf(f, ", \"dir\": \"%s\", \"dtype\": \"%s\", \"error\": ", sea_check_dir_name(x->dir), sea_dtype_name(x->dtype));
        json_number(f, x->error);
        fprintf(f, ", \"tolerance\": ");
        json_number(f, x->tolerance);
        fprintf(f, ", \"result\": \"%s\", \"message\": ", x->skipped ? "skip" : x->passed ? "pass" : "fail");
        json_string(f, x->message);
        fprintf(f, "}");
    }
    fprintf(f, "\n]}\n");
}
