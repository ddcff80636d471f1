/* sea tokenize: encode text (or decode ids) with a tokenizer.json, a model directory holding
 * one, or a GGUF file's tokenizer metadata. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "models/gguf.h"
#include "models/json_util.h"
#include "models/tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sea tokenize --tokenizer FILE|DIR [--text STR | --file PATH] [--json] [--no-special]\n"
            "       sea tokenize --tokenizer FILE|DIR --decode 1,2,3 [--skip-special]\n\n"
            "  --tokenizer   tokenizer.json, a directory containing it, or a .gguf file\n"
            "  --text STR    text to encode (--file reads it from a file, '-' for stdin)\n"
            "  --json        print {\"ids\": [...], \"tokens\": [...]} instead of ids separated by spaces\n"
            "  --no-special  do not add the post-processor's special tokens (HF add_special_tokens=False)\n"
            "  --decode IDS  comma-separated ids to decode; --skip-special drops special tokens\n");
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static sea_status load(const char *path, sea_tokenizer **tok)
{
    if (!ends_with(path, ".gguf")) return sea_tokenizer_load(path, tok);
    sea_gguf *g = NULL;
    SEA_TRY(sea_gguf_open(path, &g));
    sea_status st = sea_tokenizer_from_gguf(g, tok);
    sea_gguf_close(g);
    return st;
}

static int parse_ids(const char *s, int32_t **ids, size_t *n)
{
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids) return -1;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '[' || *s == ']') s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > INT32_MAX) return -1;
        if (*n == cap) {
            cap *= 2;
            int32_t *np = realloc(*ids, cap * sizeof *np);
            if (!np) return -1;
            *ids = np;
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    return 0;
}

static char *read_stream(FILE *fp, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, fp);
        n += k;
        if (k == 0) break;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    *len = n;
    return buf;
}

int sea_cmd_tokenize(int argc, char **argv)
{
    const char *tok_path = NULL, *text = NULL, *file = NULL, *decode = NULL;
    bool json = false, special = true, skip_special = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--tokenizer") && has_val) tok_path = argv[++i];
        else if (!strcmp(a, "--text") && has_val) text = argv[++i];
        else if (!strcmp(a, "--file") && has_val) file = argv[++i];
        else if (!strcmp(a, "--decode") && has_val) decode = argv[++i];
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--no-special")) special = false;
        else if (!strcmp(a, "--skip-special")) skip_special = true;
        else {
            fprintf(stderr, "sea tokenize: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!tok_path || (!text && !file && !decode) || (decode && (text || file)) || (text && file)) {
        usage(stderr);
        return 2;
    }
    sea_tokenizer *tok = NULL;
    if (load(tok_path, &tok)) {
        fprintf(stderr, "sea tokenize: %s\n", sea_last_error());
        return 1;
    }
    int rc = 0;
    if (decode) {
        int32_t *ids = NULL;
        size_t n = 0;
        char *out = NULL;
        if (parse_ids(decode, &ids, &n)) {
            fprintf(stderr, "sea tokenize: --decode wants comma-separated non-negative integers, got '%s'\n", decode);
            rc = 2;
        } else if (sea_tokenizer_decode(tok, ids, n, skip_special, &out)) {
            fprintf(stderr, "sea tokenize: %s\n", sea_last_error());
            rc = 1;
        } else printf("%s\n", out);
        free(out);
        free(ids);
        sea_tokenizer_free(tok);
        return rc;
    }
    char *owned = NULL;
    size_t len = 0;
    if (file) {
        if (!strcmp(file, "-")) owned = read_stream(stdin, &len);
        else if (sea_file_read(file, &owned, &len)) {
            fprintf(stderr, "sea tokenize: %s\n", sea_last_error());
            sea_tokenizer_free(tok);
            return 1;
        }
        text = owned ? owned : "";
    } else len = strlen(text);
    int32_t *ids = NULL;
    size_t n = 0;
    if (sea_tokenizer_encode(tok, text, len, special, &ids, &n)) {
        fprintf(stderr, "sea tokenize: %s\n", sea_last_error());
        rc = 1;
    } else if (json) {
        cJSON *o = cJSON_CreateObject(), *ja = cJSON_AddArrayToObject(o, "ids"), *jt = cJSON_AddArrayToObject(o, "tokens");
        for (size_t i = 0; i < n; i++) {
            cJSON_AddItemToArray(ja, cJSON_CreateNumber(ids[i]));
            const char *t = sea_tokenizer_id_to_token(tok, ids[i]);
            cJSON_AddItemToArray(jt, cJSON_CreateString(t ? t : ""));
        }
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(o);
    } else {
        for (size_t i = 0; i < n; i++) printf("%s%d", i ? " " : "", ids[i]);
        printf("\n");
    }
    free(ids);
    free(owned);
    sea_tokenizer_free(tok);
    return rc;
}
