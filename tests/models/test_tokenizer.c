/* Tokenizer against Hugging Face `tokenizers`: ids and decoded text recorded by
 * tests/models/make_tokenizer_fixtures.py on tricky strings must match exactly, for
 * tokenizer.json files of each supported shape and for the same vocabularies stored in GGUF.
 * Usage: test_tokenizer <fixtures/tokenizers dir> */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "models/gguf.h"
#include "models/json_util.h"
#include "models/tokenizer.h"

static int failures;
#include "tests/test_check.h"

static const char *dir;

static void print_ids(const char *what, const int32_t *ids, size_t n)
{
    fprintf(stderr, "   %s (%zu):", what, n);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "\n");
}

static bool ids_equal(const cJSON *want, const int32_t *got, size_t n)
{
    if ((size_t)cJSON_GetArraySize(want) != n) return false;
    size_t i = 0;
    for (const cJSON *e = want->child; e; e = e->next, i++)
        if ((int32_t)e->valuedouble != got[i]) return false;
    return true;
}

static void want_ids(const cJSON *want, int32_t *w, size_t *n)
{
    *n = 0;
    for (const cJSON *e = want->child; e; e = e->next) w[(*n)++] = (int32_t)e->valuedouble;
}

/* Compare one tokenizer on every case recorded for `name`. check_decode=false for GGUF
 * variants whose added-token flags differ from the JSON (decode with skip is then not comparable). */
static int run_cases(sea_tokenizer *tok, const cJSON *cases, const char *name, const char *label, bool special_ids,
                     bool check_decode)
{
    int n_cases = 0, bad = 0;
    for (const cJSON *c = cases->child; c; c = c->next) {
        if (strcmp(cJSON_GetObjectItem(c, "tokenizer")->valuestring, name) != 0) continue;
        n_cases++;
        const char *text = cJSON_GetObjectItem(c, "text")->valuestring;
        const cJSON *want = cJSON_GetObjectItem(c, "ids");
        const cJSON *want_sp = cJSON_GetObjectItem(c, "ids_special");
        int32_t *ids = NULL;
        size_t n = 0;
        sea_status st = sea_tokenizer_encode(tok, text, strlen(text), false, &ids, &n);
        CHECK(st == SEA_OK, "%s: encode failed: %s", label, sea_last_error());
        if (!st && !ids_equal(want, ids, n)) {
            bad++;
            fprintf(stderr, "FAIL %s: encode(%s) differs from HF\n", label, text);
            int32_t w[4096];
            size_t wn;
            want_ids(want, w, &wn);
            print_ids("want", w, wn);
            print_ids("got ", ids, n);
        }
        if (!st && check_decode) {
            char *dec = NULL;
            st = sea_tokenizer_decode(tok, ids, n, false, &dec);
            CHECK(st == SEA_OK, "%s: decode failed: %s", label, sea_last_error());
            const char *wd = cJSON_GetObjectItem(c, "decoded")->valuestring;
            if (dec && strcmp(dec, wd) != 0) {
                bad++;
                fprintf(stderr, "FAIL %s: decode(encode(%s)) = '%s', HF '%s'\n", label, text, dec, wd);
            }
            free(dec);
        }
        free(ids);
        if (special_ids) {
            st = sea_tokenizer_encode(tok, text, strlen(text), true, &ids, &n);
            CHECK(st == SEA_OK, "%s: encode(add_special) failed: %s", label, sea_last_error());
            if (!st && !ids_equal(want_sp, ids, n)) {
                bad++;
                fprintf(stderr, "FAIL %s: encode(%s, add_special) differs from HF\n", label, text);
                int32_t w[4096];
                size_t wn;
                want_ids(want_sp, w, &wn);
                print_ids("want", w, wn);
                print_ids("got ", ids, n);
            }
            if (!st && check_decode) {
                char *dec = NULL;
                st = sea_tokenizer_decode(tok, ids, n, true, &dec);
                const char *wd = cJSON_GetObjectItem(c, "decoded_skip")->valuestring;
                if (!st && strcmp(dec, wd) != 0) {
                    bad++;
                    fprintf(stderr, "FAIL %s: decode(skip_special) = '%s', HF '%s'\n", label, dec, wd);
                }
                free(dec);
            }
            free(ids);
        }
    }
    CHECK(n_cases > 10, "%s: only %d cases in the fixture", label, n_cases);
    failures += bad;
    printf("%-28s %3d cases, %d mismatches\n", label, n_cases, bad);
    return bad;
}

static char *fixture(const char *name)
{
    return sea_path_join(dir, name);
}

static void test_json_tokenizers(const cJSON *root)
{
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    const cJSON *vs = cJSON_GetObjectItem(root, "vocab_size");
    for (const cJSON *v = vs->child; v; v = v->next) {
        char fn[256];
        snprintf(fn, sizeof fn, "%s.json", v->string);
        char *path = fixture(fn);
        sea_tokenizer *tok = NULL;
        sea_status st = sea_tokenizer_load(path, &tok);
        CHECK(st == SEA_OK, "load %s: %s", path, sea_last_error());
        if (!st) {
            CHECK(sea_tokenizer_vocab_size(tok) == (size_t)v->valuedouble, "%s: vocab size %zu, HF %d", v->string,
                  sea_tokenizer_vocab_size(tok), (int)v->valuedouble);
            run_cases(tok, cases, v->string, v->string, true, true);
            /* token <-> id round trip over the whole vocabulary */
            int bad = 0;
            for (size_t i = 0; i < sea_tokenizer_vocab_size(tok); i++) {
                const char *s = sea_tokenizer_id_to_token(tok, (int32_t)i);
                if (s && sea_tokenizer_token_to_id(tok, s) != (int32_t)i) bad++;
            }
            CHECK(bad == 0, "%s: %d tokens do not map back to their id", v->string, bad);
        }
        sea_tokenizer_free(tok);
        free(path);
    }
}

static void test_directory(void)
{
    char *path = fixture("sp_dir");
    sea_tokenizer *tok = NULL;
    sea_status st = sea_tokenizer_load(path, &tok);
    CHECK(st == SEA_OK, "load dir %s: %s", path, sea_last_error());
    if (!st) {
        CHECK(sea_tokenizer_bos_id(tok) == sea_tokenizer_token_to_id(tok, "<s>") && sea_tokenizer_bos_id(tok) == 1,
              "bos %d", sea_tokenizer_bos_id(tok));
        CHECK(sea_tokenizer_eos_id(tok) == 2, "eos %d (tokenizer_config.json says </s>)", sea_tokenizer_eos_id(tok));
        CHECK(sea_tokenizer_pad_id(tok) == 0, "pad %d (tokenizer_config.json says <unk>)", sea_tokenizer_pad_id(tok));
        CHECK(sea_tokenizer_is_special(tok, 1) && !sea_tokenizer_is_special(tok, 300), "special flags");
    }
    sea_tokenizer_free(tok);
    free(path);
}

static void test_gguf_tokenizers(const cJSON *root)
{
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    static const struct {
        const char *file, *name;
        bool special;
    } g[] = {{"bytelevel_pairs.gguf", "bytelevel_pairs", true},
             {"llama3.gguf", "llama3", true},
             {"sentencepiece.gguf", "sentencepiece", true}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        char *path = fixture(g[i].file);
        sea_gguf *gg = NULL;
        sea_tokenizer *tok = NULL;
        sea_status st = sea_gguf_open(path, &gg);
        CHECK(st == SEA_OK, "open %s: %s", path, sea_last_error());
        if (!st) st = sea_tokenizer_from_gguf(gg, &tok);
        CHECK(st == SEA_OK, "tokenizer from %s: %s", path, sea_last_error());
        if (!st) {
            char label[64];
            snprintf(label, sizeof label, "gguf:%s", g[i].name);
            run_cases(tok, cases, g[i].name, label, g[i].special, true);
        }
        sea_tokenizer_free(tok);
        sea_gguf_close(gg);
        free(path);
    }
}

static void expect_load_error(const char *json, sea_status want, const char *needle)
{
    sea_tokenizer *tok = NULL;
    sea_status st = sea_tokenizer_load_json(json, strlen(json), "bad.json", &tok);
    CHECK(st == want, "load of bad tokenizer: status %s, want %s (%s)", sea_status_name(st), sea_status_name(want),
          sea_last_error());
    CHECK(strstr(sea_last_error(), "bad.json") && strstr(sea_last_error(), needle),
          "message '%s' should name the file and '%s'", sea_last_error(), needle);
    CHECK(tok == NULL, "no tokenizer on failure");
    sea_tokenizer_free(tok);
}

static void test_errors(void)
{
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}}", SEA_ERR_FORMAT, "malformed JSON");
    expect_load_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", SEA_ERR_UNSUPPORTED, "WordPiece");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}",
                      SEA_ERR_FORMAT, "merge 0");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a c\"]}}", SEA_ERR_FORMAT,
                      "not in the vocab");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}}}", SEA_ERR_FORMAT, "id 0");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}", SEA_ERR_FORMAT, "vocab['a']");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 99999999}}}", SEA_ERR_FORMAT, "vocab['a']");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": "
                      "\"Split\", \"pattern\": {\"Regex\": \"(\"}, \"behavior\": \"Isolated\"}}",
                      SEA_ERR_FORMAT, "regex");
    expect_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"normalizer\": {\"type\": \"Bert\"}}",
                      SEA_ERR_UNSUPPORTED, "Bert");

    /* runtime errors on a good tokenizer */
    const char *ok = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [[\"a\", \"b\"]]}}";
    sea_tokenizer *tok = NULL;
    sea_status st = sea_tokenizer_load_json(ok, strlen(ok), "tiny.json", &tok);
    CHECK(st == SEA_OK, "tiny tokenizer: %s", sea_last_error());
    if (st) return;
    int32_t *ids = NULL;
    size_t n = 0;
    st = sea_tokenizer_encode(tok, "ab\xff", 3, false, &ids, &n);
    CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "UTF-8"), "invalid UTF-8 must be rejected: %s", sea_last_error());
    st = sea_tokenizer_encode(tok, "abab", 4, false, &ids, &n);
    CHECK(st == SEA_OK && n == 2 && ids[0] == 2 && ids[1] == 2, "tiny merge: n=%zu", n);
    free(ids);
    int32_t badid[] = {0, 7};
    char *text = NULL;
    st = sea_tokenizer_decode(tok, badid, 2, false, &text);
    CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "id 7"), "out-of-range id: %s", sea_last_error());
    sea_tokenizer_free(tok);
}

/* Concurrent encodes share the word cache: results must not depend on interleaving. */
typedef struct job {
    sea_tokenizer *tok;
    const char *text;
    int32_t *ids;
    size_t n;
    sea_status st;
} job;

static void *encode_job(void *p)
{
    job *j = p;
    for (int k = 0; k < 20; k++) {
        free(j->ids);
        j->st = sea_tokenizer_encode(j->tok, j->text, strlen(j->text), true, &j->ids, &j->n);
    }
    return NULL;
}

static void test_threads(void)
{
    char *path = fixture("llama3.json");
    sea_tokenizer *tok = NULL;
    if (sea_tokenizer_load(path, &tok)) {
        free(path);
        CHECK(0, "load llama3: %s", sea_last_error());
        return;
    }
    const char *text = "The model learned to prefer the better answer. Don't stop; 12345 tokens, café!";
    int32_t *ref = NULL;
    size_t nref = 0;
    CHECK(sea_tokenizer_encode(tok, text, strlen(text), true, &ref, &nref) == SEA_OK, "encode");
    sea_tokenizer_free(tok);
    CHECK(sea_tokenizer_load(path, &tok) == SEA_OK, "reload"); /* fresh, empty cache */
    job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){tok, text, NULL, 0, SEA_OK};
        pthread_create(&th[i], NULL, encode_job, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].st == SEA_OK && jobs[i].n == nref && memcmp(jobs[i].ids, ref, nref * sizeof *ref) == 0,
              "thread %d result differs", i);
        free(jobs[i].ids);
    }
    free(ref);
    sea_tokenizer_free(tok);
    free(path);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    char *cases_path = fixture("cases.json");
    char *text = NULL;
    size_t len = 0;
    if (sea_file_read(cases_path, &text, &len)) {
        fprintf(stderr, "%s\n", sea_last_error());
        return 1;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    free(cases_path);
    if (!root) {
        fprintf(stderr, "cases.json does not parse\n");
        return 1;
    }
    test_json_tokenizers(root);
    test_directory();
    test_gguf_tokenizers(root);
    test_errors();
    test_threads();
    cJSON_Delete(root);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("all tokenizer checks passed\n");
    return failures ? 1 : 0;
}
