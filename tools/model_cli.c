/* Helpers shared by the model commands (see model_cli.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "model_cli.h"
#include "models/gguf.h"
#include "runtime/backend.h"

double model_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    (void)what;
    int *last = ctx;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    if (pct / 10 != *last / 10) {
        fprintf(stderr, "\rloading weights: %3d%%", pct);
        if (pct >= 100) fprintf(stderr, "\n");
        *last = pct;
    }
}

bool model_cli_open(model_cli *c, const char *cmd, const char *model_path, const char *device_spec, bool quiet)
{
    memset(c, 0, sizeof *c);
    if (!model_path) {
        fprintf(stderr, "sea %s: --model DIR|FILE.gguf is required\n", cmd);
        return false;
    }
    if (sea_device_open(device_spec, &c->dev)) {
        fprintf(stderr, "sea %s: %s\n", cmd, sea_last_error());
        return false;
    }
    sea_model_load_opts o = sea_model_load_opts_default();
    int last = -10;
    struct stat sb;
    bool big = !stat(model_path, &sb) && S_ISREG(sb.st_mode) && sb.st_size > (64 << 20);
    if (!quiet && big) {
        o.progress = progress;
        o.progress_ctx = &last;
    }
    double t0 = model_cli_now();
    if (sea_model_load(c->dev, model_path, &o, &c->model)) {
        fprintf(stderr, "sea %s: %s\n", cmd, sea_last_error());
        model_cli_close(c);
        return false;
    }
    c->load_seconds = model_cli_now() - t0;
    /* A directory may carry tokenizer.json; a GGUF file carries its vocabulary. */
    if (!stat(model_path, &sb) && S_ISREG(sb.st_mode)) {
        sea_gguf *g = NULL;
        if (!sea_gguf_open(model_path, &g) && sea_gguf_find_kv(g, "tokenizer.ggml.tokens") &&
            sea_tokenizer_from_gguf(g, &c->tok)) {
            fprintf(stderr, "sea %s: warning: %s (token ids only)\n", cmd, sea_last_error());
            c->tok = NULL;
        }
        sea_gguf_close(g);
    } else if (!stat(model_path, &sb) && S_ISDIR(sb.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/tokenizer.json", model_path);
        if (!stat(p, &sb) && sea_tokenizer_load(model_path, &c->tok)) {
            fprintf(stderr, "sea %s: %s\n", cmd, sea_last_error());
            model_cli_close(c);
            return false;
        }
    }
    return true;
}

bool model_cli_set_dtype(model_cli *c, const char *cmd, const char *dtype)
{
    if (!dtype || !strcmp(dtype, "f32")) return true;
    if (strcmp(dtype, "bf16")) {
        fprintf(stderr, "sea %s: --dtype %s: need f32 or bf16\n", cmd, dtype);
        return false;
    }
    if (sea_model_set_compute_dtype(c->model, SEA_BF16)) {
        fprintf(stderr, "sea %s: %s\n", cmd, sea_last_error());
        return false;
    }
    return true;
}

void model_cli_close(model_cli *c)
{
    sea_tokenizer_free(c->tok);
    sea_model_free(c->model);
    if (c->dev) sea_device_close(c->dev);
    memset(c, 0, sizeof *c);
}

bool model_cli_parse_ids(const char *cmd, const char *s, int32_t **ids, int *n)
{
    size_t cap = 16, k = 0;
    int32_t *v = malloc(cap * sizeof *v);
    const char *p = s;
    while (v && *p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX) {
            fprintf(stderr, "sea %s: bad token id list '%s' (expected e.g. 1,2,3)\n", cmd, s);
            free(v);
            return false;
        }
        if (k == cap) {
            int32_t *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        v[k++] = (int32_t)x;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    if (!v || k == 0) {
        fprintf(stderr, "sea %s: empty token id list\n", cmd);
        free(v);
        return false;
    }
    *ids = v;
    *n = (int)k;
    return true;
}

bool model_cli_encode(model_cli *c, const char *cmd, const char *text, bool add_special, int32_t **ids, int *n)
{
    if (!c->tok) {
        fprintf(stderr, "sea %s: the model has no tokenizer.json; pass token ids instead\n", cmd);
        return false;
    }
    size_t k = 0;
    if (sea_tokenizer_encode(c->tok, text, strlen(text), add_special, ids, &k)) {
        fprintf(stderr, "sea %s: %s\n", cmd, sea_last_error());
        return false;
    }
    *n = (int)k;
    return true;
}

char *model_cli_decode(model_cli *c, const int32_t *ids, int n)
{
    char *text = NULL;
    if (!c->tok || sea_tokenizer_decode(c->tok, ids, (size_t)n, false, &text)) return NULL;
    return text;
}

void model_cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p == '\r') fputs("\\r", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}
