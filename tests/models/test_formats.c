/* safetensors, config.json and GGUF readers against files written by the Python reference
 * libraries (safetensors, transformers, gguf-py) and their recorded values, plus malformed
 * inputs that must fail with a status and a message naming the file, tensor or field.
 * Usage: test_formats <fixtures/formats dir> <scratch dir> */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "models/gguf.h"
#include "models/hf_config.h"
#include "models/json_util.h"
#include "models/safetensors.h"
#include "models/tokenizer.h"

static int failures;
#include "tests/test_check.h"

static const char *fixdir, *scratch;

static char *path_in(const char *dir, const char *name) { return sea_path_join(dir, name); }

static cJSON *load_json(const char *dir, const char *name)
{
    char *p = path_in(dir, name), *text;
    size_t len;
    cJSON *j = NULL;
    if (sea_file_read(p, &text, &len) == SEA_OK) {
        j = cJSON_ParseWithLength(text, len);
        free(text);
    }
    if (!j) fprintf(stderr, "cannot load %s\n", p);
    free(p);
    return j;
}

/* ------------------------------------------------------------------ safetensors */

static void test_st_basic(void)
{
    cJSON *ref = load_json(fixdir, "basic.json");
    char *p = path_in(fixdir, "basic.safetensors");
    sea_safetensors *f = NULL;
    sea_status st = sea_safetensors_open(p, &f);
    CHECK(st == SEA_OK, "open basic: %s", sea_last_error());
    if (st || !ref) goto out;
    CHECK(sea_safetensors_count(f) == (size_t)cJSON_GetArraySize(ref), "count %zu vs %d", sea_safetensors_count(f),
          cJSON_GetArraySize(ref));
    const char *fmt = sea_safetensors_metadata(f, "format"), *note = sea_safetensors_metadata(f, "note");
    CHECK(fmt && strcmp(fmt, "pt") == 0 && note && strcmp(note, "fixture") == 0, "metadata");
    for (const cJSON *e = ref->child; e; e = e->next) {
        const sea_st_tensor *t = sea_safetensors_find(f, e->string);
        CHECK(t != NULL, "tensor %s missing", e->string);
        if (!t) continue;
        CHECK(strcmp(t->dtype_name, cJSON_GetObjectItem(e, "dtype")->valuestring) == 0, "%s dtype %s", e->string, t->dtype_name);
        const cJSON *shape = cJSON_GetObjectItem(e, "shape");
        CHECK(t->ndim == cJSON_GetArraySize(shape), "%s ndim %d", e->string, t->ndim);
        int d = 0;
        for (const cJSON *s = shape->child; s; s = s->next, d++) CHECK(t->shape[d] == (int64_t)s->valuedouble, "%s shape", e->string);
        const cJSON *vals = cJSON_GetObjectItem(e, "values");
        int64_t n = sea_st_tensor_numel(t);
        CHECK(n == cJSON_GetArraySize(vals), "%s numel %lld", e->string, (long long)n);
        if (t->dtype == SEA_ST_DTYPE_NONE) {
            /* I64: check raw little-endian values */
            int i = 0;
            for (const cJSON *v = vals->child; v; v = v->next, i++) {
                int64_t x;
                memcpy(&x, (const char *)t->data + 8 * i, 8);
                CHECK(x == (int64_t)v->valuedouble, "%s[%d]", e->string, i);
            }
            float dummy;
            CHECK(sea_st_tensor_to_f32(t, &dummy) == SEA_ERR_DTYPE && strstr(sea_last_error(), e->string),
                  "I64 to f32 must be refused naming the tensor: %s", sea_last_error());
            continue;
        }
        float *buf = malloc((size_t)(n ? n : 1) * sizeof *buf);
        CHECK(sea_st_tensor_to_f32(t, buf) == SEA_OK, "to_f32 %s", e->string);
        int i = 0;
        for (const cJSON *v = vals->child; v; v = v->next, i++)
            CHECK(buf[i] == (float)v->valuedouble, "%s[%d] = %g, want %g", e->string, i, buf[i], v->valuedouble);
        free(buf);
    }
    int64_t want[2] = {3, 5}, wrong[2] = {5, 3};
    CHECK(sea_st_tensor_expect(sea_safetensors_find(f, "a.weight"), 2, want) == SEA_OK, "expect ok");
    CHECK(sea_st_tensor_expect(sea_safetensors_find(f, "a.weight"), 2, wrong) == SEA_ERR_SHAPE &&
              strstr(sea_last_error(), "a.weight") && strstr(sea_last_error(), "[3, 5]"),
          "shape mismatch message: %s", sea_last_error());
    const sea_st_tensor *missing;
    CHECK(sea_safetensors_get(f, "nope.weight", &missing) == SEA_ERR_FORMAT && strstr(sea_last_error(), "nope.weight") &&
              strstr(sea_last_error(), "basic.safetensors"),
          "missing tensor message: %s", sea_last_error());
out:
    sea_safetensors_close(f);
    cJSON_Delete(ref);
    free(p);
}

static void test_st_sharded(void)
{
    char *d = path_in(fixdir, "sharded");
    sea_safetensors *f = NULL;
    sea_status st = sea_safetensors_open_dir(d, &f);
    CHECK(st == SEA_OK, "open sharded: %s", sea_last_error());
    if (!st) {
        CHECK(sea_safetensors_count(f) == 6, "6 tensors across shards, got %zu", sea_safetensors_count(f));
        for (int i = 0; i < 6; i++) {
            char name[32];
            snprintf(name, sizeof name, "layers.%d.w", i);
            const sea_st_tensor *t = sea_safetensors_find(f, name);
            CHECK(t && t->ndim == 1 && t->shape[0] == 64, "%s", name);
            if (t) {
                float v[64];
                sea_st_tensor_to_f32(t, v);
                CHECK(v[0] == (float)i && v[63] == (float)i, "%s values", name);
            }
        }
    }
    sea_safetensors_close(f);
    free(d);
}

/* Build a safetensors image from a header string and `data_len` bytes of data. */
static unsigned char *st_image(const char *header, size_t data_len, size_t *len)
{
    size_t h = strlen(header);
    *len = 8 + h + data_len;
    unsigned char *b = calloc(1, *len);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    for (size_t i = 0; i < data_len; i++) b[8 + h + i] = (unsigned char)i;
    return b;
}

static void expect_st_error(const char *header, size_t data_len, const char *needle1, const char *needle2)
{
    size_t len;
    unsigned char *img = st_image(header, data_len, &len);
    sea_safetensors *f = NULL;
    sea_status st = sea_safetensors_open_memory(img, len, "bad.safetensors", &f);
    CHECK(st == SEA_ERR_FORMAT, "header %s: status %s", header, sea_status_name(st));
    const char *msg = sea_last_error();
    CHECK(strstr(msg, "bad.safetensors") && strstr(msg, needle1) && (!needle2 || strstr(msg, needle2)),
          "message '%s' should name the file, '%s' and '%s'", msg, needle1, needle2 ? needle2 : "");
    CHECK(f == NULL, "no handle on failure");
    sea_safetensors_close(f);
    free(img);
}

static void test_st_bad(void)
{
    /* overlapping ranges, gaps, dtype/shape mismatch, offsets past the data, unknown dtype */
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "'b'", "overlap");
    expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "belong to no tensor", "'b'");
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'w'", "needs 12");
    expect_st_error("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 4, "'w'", "beyond");
    expect_st_error("{\"w\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'w'", "F99");
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "cover", NULL);
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "'w'", "shape[0]");
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'w'", "data_offsets");
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "'w'", "twice");
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", 4, "malformed JSON", NULL);
    expect_st_error("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4, "'w'", NULL);
    expect_st_error("{\"__metadata__\":{\"format\":7}}", 0, "__metadata__", NULL);

    /* header length past the end of the file, over the cap, and a file too short for it */
    unsigned char img[16] = {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    sea_safetensors *f = NULL;
    CHECK(sea_safetensors_open_memory(img, 10, "short.safetensors", &f) == SEA_ERR_FORMAT &&
              strstr(sea_last_error(), "short.safetensors") && strstr(sea_last_error(), "past the end"),
          "header past EOF: %s", sea_last_error());
    unsigned char big[16] = {0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}'};
    CHECK(sea_safetensors_open_memory(big, 10, "big.safetensors", &f) == SEA_ERR_FORMAT && strstr(sea_last_error(), "limit"),
          "header over the cap: %s", sea_last_error());
    CHECK(sea_safetensors_open_memory(img, 5, "tiny.safetensors", &f) == SEA_ERR_FORMAT && strstr(sea_last_error(), "shorter"),
          "5-byte file: %s", sea_last_error());

    /* every truncation of a real file fails cleanly (and the full file opens) */
    char *p = path_in(fixdir, "basic.safetensors");
    char *data;
    size_t len;
    if (sea_file_read(p, &data, &len) == SEA_OK) {
        int bad = 0;
        for (size_t cut = 0; cut < len; cut++) {
            sea_safetensors *g = NULL;
            if (sea_safetensors_open_memory(data, cut, "cut.safetensors", &g) != SEA_ERR_FORMAT || g) bad++;
            sea_safetensors_close(g);
        }
        CHECK(bad == 0, "%d truncations of basic.safetensors were accepted", bad);
        free(data);
    }
    free(p);
    CHECK(sea_safetensors_open("/nonexistent/x.safetensors", &f) == SEA_ERR_IO && strstr(sea_last_error(), "/nonexistent/x.safetensors"),
          "missing file: %s", sea_last_error());
}

static bool no_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool ok = true;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) ok = false;
    closedir(d);
    return ok;
}

static void test_st_write(void)
{
    float a[6] = {1.5f, -2.25f, 3e-8f, 1e30f, -0.0f, 7.0f};
    uint16_t b[4] = {sea_f32_to_bf16(1.0f), sea_f32_to_bf16(-3.5f), sea_f32_to_bf16(0.1f), 0x7f80};
    int32_t c[3] = {-1, 0, 2147483647};
    sea_st_tensor ts[3] = {
        {.name = "a.weight", .dtype = SEA_F32, .ndim = 2, .shape = {2, 3}, .data = a, .nbytes = sizeof a},
        {.name = "b \"quoted\\name\"", .dtype = SEA_BF16, .ndim = 1, .shape = {4}, .data = b, .nbytes = sizeof b},
        {.name = "c", .dtype = SEA_I32, .ndim = 1, .shape = {3}, .data = c, .nbytes = sizeof c},
    };
    char *p = path_in(scratch, "written.safetensors");
    const char *mk[] = {"step"}, *mv[] = {"42"};
    sea_status st = sea_safetensors_write(p, ts, 3, mk, mv, 1);
    CHECK(st == SEA_OK, "write: %s", sea_last_error());
    CHECK(no_temp_files(scratch), "temporary files left behind");
    sea_safetensors *f = NULL;
    st = sea_safetensors_open(p, &f);
    CHECK(st == SEA_OK, "reopen written: %s", sea_last_error());
    if (!st) {
        CHECK(strcmp(sea_safetensors_metadata(f, "format"), "pt") == 0 && strcmp(sea_safetensors_metadata(f, "step"), "42") == 0,
              "metadata");
        for (int i = 0; i < 3; i++) {
            const sea_st_tensor *t = sea_safetensors_find(f, ts[i].name);
            CHECK(t && t->nbytes == ts[i].nbytes && memcmp(t->data, ts[i].data, t->nbytes) == 0, "round trip %s", ts[i].name);
            CHECK(i > 0 || (t && ((uintptr_t)t->data % 8) == 0), "first tensor 8-byte aligned (header padded)");
        }
        const sea_st_tensor *t = sea_safetensors_at(f, 0);
        CHECK(t && strcmp(t->name, "a.weight") == 0, "file order kept");
    }
    sea_safetensors_close(f);
    /* header length is a multiple of 8 */
    char *data;
    size_t len;
    if (sea_file_read(p, &data, &len) == SEA_OK) {
        uint64_t h = 0;
        memcpy(&h, data, 8);
        CHECK(h % 8 == 0, "header length %llu not padded", (unsigned long long)h);
        free(data);
    }
    /* bad requests to the writer */
    sea_st_tensor bad = {.name = "x", .dtype = SEA_F32, .ndim = 1, .shape = {4}, .data = a, .nbytes = 8};
    CHECK(sea_safetensors_write(p, &bad, 1, NULL, NULL, 0) == SEA_ERR_SHAPE && strstr(sea_last_error(), "'x'"),
          "nbytes mismatch: %s", sea_last_error());
    sea_st_tensor dup[2] = {ts[0], ts[0]};
    CHECK(sea_safetensors_write(p, dup, 2, NULL, NULL, 0) == SEA_ERR_INVALID && strstr(sea_last_error(), "a.weight"),
          "duplicate names: %s", sea_last_error());
    CHECK(sea_safetensors_write("/nonexistent/dir/x.safetensors", ts, 1, NULL, NULL, 0) == SEA_ERR_IO, "unwritable dir");
    free(p);

    /* sharded: 6 tensors of 256 bytes, at most 600 bytes per shard -> 3 shards + index */
    float w[6][64];
    sea_st_tensor sh[6];
    char names[6][32];
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < 64; j++) w[i][j] = (float)(i * 100 + j);
        snprintf(names[i], sizeof names[i], "model.layers.%d.w", i);
        sh[i] = (sea_st_tensor){.name = names[i], .dtype = SEA_F32, .ndim = 1, .shape = {64}, .data = w[i], .nbytes = 256};
    }
    char *d = path_in(scratch, "sharded_out");
    mkdir(d, 0755);
    size_t nsh = 0;
    st = sea_safetensors_write_sharded(d, "model", sh, 6, 600, &nsh);
    CHECK(st == SEA_OK && nsh == 3, "write sharded: %s (%zu shards)", sea_last_error(), nsh);
    st = sea_safetensors_open_dir(d, &f);
    CHECK(st == SEA_OK, "open written shards: %s", sea_last_error());
    if (!st) {
        CHECK(sea_safetensors_count(f) == 6, "count");
        for (int i = 0; i < 6; i++) {
            const sea_st_tensor *t = sea_safetensors_find(f, names[i]);
            CHECK(t && memcmp(t->data, w[i], 256) == 0, "shard tensor %d", i);
            CHECK(t && strstr(t->file, i < 2 ? "model-00001-of-00003" : i < 4 ? "model-00002-of-00003" : "model-00003-of-00003"),
                  "tensor %d in shard %s", i, t ? t->file : "?");
        }
    }
    sea_safetensors_close(f);
    CHECK(no_temp_files(d), "temporary files left in the shard dir");
    free(d);
}

/* ------------------------------------------------------------------ config.json */

static void test_configs(void)
{
    char *base = path_in(fixdir, "configs");
    cJSON *ref = load_json(base, "reference.json");
    for (const cJSON *r = ref ? ref->child : NULL; r; r = r->next) {
        char *d = path_in(base, r->string);
        sea_hf_config c;
        sea_status st = sea_hf_config_load(d, &c);
        CHECK(st == SEA_OK, "config %s: %s", r->string, sea_last_error());
        free(d);
        if (st) continue;
#define INT_FIELD(f) CHECK(c.f == (int64_t)cJSON_GetObjectItem(r, #f)->valuedouble, "%s: " #f " = %lld, HF %g", r->string, (long long)c.f, cJSON_GetObjectItem(r, #f)->valuedouble)
#define DBL_FIELD(f) CHECK(fabs(c.f - cJSON_GetObjectItem(r, #f)->valuedouble) <= 1e-12 * fabs(c.f), "%s: " #f " = %g, HF %g", r->string, (double)c.f, cJSON_GetObjectItem(r, #f)->valuedouble)
#define BOOL_FIELD(f) CHECK(c.f == cJSON_IsTrue(cJSON_GetObjectItem(r, #f)), "%s: " #f " = %d", r->string, (int)c.f)
#define STR_FIELD(f) CHECK(strcmp(c.f, cJSON_GetObjectItem(r, #f)->valuestring) == 0, "%s: " #f " = '%s', HF '%s'", r->string, c.f, cJSON_GetObjectItem(r, #f)->valuestring)
        STR_FIELD(model_type);
        STR_FIELD(architecture);
        STR_FIELD(hidden_act);
        STR_FIELD(rope_type);
        INT_FIELD(hidden_size);
        INT_FIELD(num_hidden_layers);
        INT_FIELD(num_attention_heads);
        INT_FIELD(num_key_value_heads);
        INT_FIELD(head_dim);
        INT_FIELD(intermediate_size);
        INT_FIELD(vocab_size);
        INT_FIELD(max_position_embeddings);
        INT_FIELD(num_labels);
        INT_FIELD(rope_original_max_position_embeddings);
        DBL_FIELD(norm_eps);
        DBL_FIELD(partial_rotary_factor);
        DBL_FIELD(rope_theta);
        DBL_FIELD(rope_factor);
        DBL_FIELD(rope_low_freq_factor);
        DBL_FIELD(rope_high_freq_factor);
        BOOL_FIELD(tie_word_embeddings);
        BOOL_FIELD(use_parallel_residual);
        BOOL_FIELD(attention_bias);
        const cJSON *bos = cJSON_GetObjectItem(r, "bos_token_id"), *pad = cJSON_GetObjectItem(r, "pad_token_id");
        CHECK(c.bos_token_id == (cJSON_IsNull(bos) ? -1 : (int32_t)bos->valuedouble), "%s: bos %d", r->string, c.bos_token_id);
        CHECK(c.pad_token_id == (cJSON_IsNull(pad) ? -1 : (int32_t)pad->valuedouble), "%s: pad %d", r->string, c.pad_token_id);
        const cJSON *eos = cJSON_GetObjectItem(r, "eos_token_ids");
        CHECK(c.n_eos == cJSON_GetArraySize(eos), "%s: %d eos ids", r->string, c.n_eos);
        int i = 0;
        for (const cJSON *e = eos->child; e && i < c.n_eos; e = e->next, i++)
            CHECK(c.eos_token_ids[i] == (int32_t)e->valuedouble, "%s: eos[%d]", r->string, i);

        /* write it back and read again: same values */
        char *out = path_in(scratch, "config_rt.json");
        st = sea_hf_config_write(&c, out);
        CHECK(st == SEA_OK, "write config %s: %s", r->string, sea_last_error());
        sea_hf_config c2;
        st = sea_hf_config_load(out, &c2);
        CHECK(st == SEA_OK, "reload written config %s: %s", r->string, sea_last_error());
        if (!st) {
            CHECK(c2.hidden_size == c.hidden_size && c2.num_key_value_heads == c.num_key_value_heads &&
                      c2.head_dim == c.head_dim && c2.partial_rotary_factor == c.partial_rotary_factor &&
                      c2.rope_theta == c.rope_theta && strcmp(c2.rope_type, c.rope_type) == 0 &&
                      c2.rope_factor == c.rope_factor && c2.norm_eps == c.norm_eps &&
                      c2.tie_word_embeddings == c.tie_word_embeddings && c2.num_labels == c.num_labels &&
                      c2.n_eos == c.n_eos && c2.bos_token_id == c.bos_token_id && c2.pad_token_id == c.pad_token_id &&
                      c2.use_parallel_residual == c.use_parallel_residual && strcmp(c2.architecture, c.architecture) == 0,
                  "%s: written config reads back differently", r->string);
        }
        free(out);
    }
    cJSON_Delete(ref);
    free(base);

    /* errors name the file and the field */
    struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10}", "'hidden_size'"},
        {"{\"model_type\": \"llama\", \"hidden_size\": -64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10}",
         "field 'hidden_size' must be a positive integer"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64.5, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10}",
         "'hidden_size'"},
        {"{\"hidden_size\": 64}", "'model_type'"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10,"
         " \"rms_norm_eps\": \"small\"}", "'rms_norm_eps'"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10,"
         " \"eos_token_id\": [1, \"x\"]}", "'eos_token_id'"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10,"
         " \"num_key_value_heads\": 3}", "num_key_value_heads"},
        {"{\"model_type\": \"gpt_neox\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 10,"
         " \"rope_parameters\": {\"partial_rotary_factor\": 1.5}}", "partial_rotary_factor"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64,", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sea_hf_config c;
        sea_status st = sea_hf_config_parse(bad[i].json, strlen(bad[i].json), "config.json", &c);
        CHECK(st == SEA_ERR_FORMAT, "bad config %zu accepted", i);
        CHECK(strstr(sea_last_error(), "config.json") && strstr(sea_last_error(), bad[i].needle),
              "bad config %zu: message '%s' should contain '%s'", i, sea_last_error(), bad[i].needle);
    }
    sea_hf_config c;
    CHECK(sea_hf_config_load("/nonexistent/cfg", &c) == SEA_ERR_IO && strstr(sea_last_error(), "/nonexistent/cfg"),
          "missing config: %s", sea_last_error());
}

/* ------------------------------------------------------------------ GGUF */

static void test_gguf(void)
{
    char *p = path_in(fixdir, "tiny.gguf");
    cJSON *ref = load_json(fixdir, "tiny_gguf.json");
    sea_gguf *g = NULL;
    sea_status st = sea_gguf_open(p, &g);
    CHECK(st == SEA_OK, "open tiny.gguf: %s", sea_last_error());
    if (st || !ref) goto out;
    CHECK(sea_gguf_version(g) == 3 && sea_gguf_alignment(g) == 32 && sea_gguf_data_offset(g) % 32 == 0, "header");
    int64_t i64;
    double f64;
    bool b;
    CHECK(sea_gguf_get_int(g, "test.u8", &i64) && i64 == 200, "u8");
    CHECK(sea_gguf_get_int(g, "test.i8", &i64) && i64 == -100, "i8");
    CHECK(sea_gguf_get_int(g, "test.u16", &i64) && i64 == 60000, "u16");
    CHECK(sea_gguf_get_int(g, "test.i16", &i64) && i64 == -30000, "i16");
    CHECK(sea_gguf_get_int(g, "test.u32", &i64) && i64 == 4000000000LL, "u32");
    CHECK(sea_gguf_get_int(g, "test.i32", &i64) && i64 == -2000000000LL, "i32");
    CHECK(sea_gguf_get_int(g, "test.i64", &i64) && i64 == -(1LL << 62), "i64");
    const sea_gguf_kv *u64 = sea_gguf_find_kv(g, "test.u64");
    CHECK(u64 && u64->type == SEA_GGUF_UINT64 && u64->v.u64 == (1ULL << 63) + 5, "u64");
    CHECK(!sea_gguf_get_int(g, "test.u64", &i64), "u64 above INT64_MAX is not an int64");
    CHECK(sea_gguf_get_float(g, "test.f32", &f64) && f64 == 0.25, "f32");
    CHECK(sea_gguf_get_float(g, "test.f64", &f64) && f64 == 3.141592653589793, "f64");
    CHECK(sea_gguf_get_bool(g, "test.bool", &b) && b, "bool");
    CHECK(sea_gguf_get_str(g, "test.str") && strcmp(sea_gguf_get_str(g, "test.str"), "h\xc3\xa9llo w\xc3\xb6rld") == 0, "str");
    const sea_gguf_kv *ai = sea_gguf_find_kv(g, "test.arr_i32"), *as = sea_gguf_find_kv(g, "test.arr_str");
    CHECK(ai && ai->type == SEA_GGUF_ARRAY && ai->v.arr.n == 3 && sea_gguf_arr_int(ai, 0) == 1 && sea_gguf_arr_int(ai, 1) == -2 &&
              sea_gguf_arr_int(ai, 2) == 3, "int array");
    CHECK(as && as->v.arr.n == 3 && strcmp(as->v.arr.strs[1].str, "bc") == 0 && as->v.arr.strs[2].len == 0, "string array");
    CHECK(sea_gguf_get_str(g, "general.architecture") && strcmp(sea_gguf_get_str(g, "general.architecture"), "llama") == 0, "arch");

    CHECK(sea_gguf_tensor_count(g) == (size_t)cJSON_GetArraySize(ref), "tensor count %zu", sea_gguf_tensor_count(g));
    for (const cJSON *e = ref->child; e; e = e->next) {
        const sea_gguf_tensor *t = sea_gguf_find_tensor(g, e->string);
        CHECK(t != NULL, "tensor %s", e->string);
        if (!t) continue;
        CHECK(strcmp(sea_ggml_type_name(t->type), cJSON_GetObjectItem(e, "type")->valuestring) == 0, "%s type %s", e->string,
              sea_ggml_type_name(t->type));
        const cJSON *shape = cJSON_GetObjectItem(e, "shape");
        int d = 0;
        for (const cJSON *s = shape->child; s; s = s->next, d++)
            CHECK(t->shape[d] == (int64_t)s->valuedouble, "%s shape[%d] = %lld", e->string, d, (long long)t->shape[d]);
        CHECK(t->n_dims == cJSON_GetArraySize(shape) && t->ne[0] == t->shape[t->n_dims - 1], "%s dims order", e->string);
        int64_t n = sea_gguf_tensor_numel(t);
        const cJSON *vals = cJSON_GetObjectItem(e, "values");
        CHECK(n == cJSON_GetArraySize(vals), "%s numel", e->string);
        float *buf = malloc((size_t)n * sizeof *buf);
        st = sea_gguf_tensor_to_f32(t, buf);
        CHECK(st == SEA_OK, "dequantize %s: %s", e->string, sea_last_error());
        double maxerr = 0;
        int i = 0;
        for (const cJSON *v = vals->child; v && i < n; v = v->next, i++) {
            double err = fabs(buf[i] - v->valuedouble) / (fabs(v->valuedouble) + 1e-6);
            if (err > maxerr) maxerr = err;
        }
        CHECK(maxerr <= 1e-6, "%s: max relative error %g vs gguf-py's dequantize", e->string, maxerr);
        free(buf);
    }
    sea_hf_config cfg;
    st = sea_gguf_to_hf_config(g, &cfg);
    CHECK(st == SEA_OK, "gguf -> config: %s", sea_last_error());
    if (!st)
        CHECK(strcmp(cfg.model_type, "llama") == 0 && cfg.hidden_size == 64 && cfg.num_hidden_layers == 2 &&
                  cfg.num_attention_heads == 4 && cfg.num_key_value_heads == 2 && cfg.intermediate_size == 128 &&
                  cfg.max_position_embeddings == 256 && cfg.rope_theta == 500000.0 && cfg.partial_rotary_factor == 1.0 &&
                  fabs(cfg.norm_eps - 1e-5) < 1e-12 && cfg.norm_is_rms && cfg.vocab_size == 10 && cfg.tie_word_embeddings,
              "gguf config values");
out:
    sea_gguf_close(g);
    cJSON_Delete(ref);

    /* every truncation fails cleanly; bad magic / version are named */
    char *data;
    size_t len;
    if (sea_file_read(p, &data, &len) == SEA_OK) {
        int bad = 0;
        for (size_t cut = 0; cut < len; cut += (cut < 2048 ? 1 : 97)) {
            sea_gguf *h = NULL;
            if (sea_gguf_open_memory(data, cut, "cut.gguf", &h) != SEA_ERR_FORMAT || h) bad++;
            else if (!strstr(sea_last_error(), "cut.gguf")) bad++;
            sea_gguf_close(h);
        }
        CHECK(bad == 0, "%d truncations of tiny.gguf were accepted or unnamed", bad);
        data[0] = 'X';
        sea_gguf *h = NULL;
        CHECK(sea_gguf_open_memory(data, len, "magic.gguf", &h) == SEA_ERR_FORMAT && strstr(sea_last_error(), "magic"), "magic");
        data[0] = 'G';
        data[4] = 9;
        CHECK(sea_gguf_open_memory(data, len, "v9.gguf", &h) == SEA_ERR_FORMAT && strstr(sea_last_error(), "version 9"), "version");
        data[4] = 3;
        /* absurd tensor count */
        memset(data + 8, 0xff, 8);
        CHECK(sea_gguf_open_memory(data, len, "count.gguf", &h) == SEA_ERR_FORMAT && strstr(sea_last_error(), "count.gguf"),
              "huge tensor count: %s", sea_last_error());
        free(data);
    }
    free(p);
}

static void test_gguf_neox(void)
{
    char *p = path_in(fixdir, "neox.gguf");
    sea_gguf *g = NULL;
    sea_hf_config c;
    sea_status st = sea_gguf_open(p, &g);
    CHECK(st == SEA_OK, "open neox.gguf: %s", sea_last_error());
    if (!st) st = sea_gguf_to_hf_config(g, &c);
    CHECK(st == SEA_OK, "neox gguf config: %s", sea_last_error());
    if (!st) {
        CHECK(strcmp(c.model_type, "gpt_neox") == 0 && c.hidden_size == 48 && c.num_hidden_layers == 3 &&
                  c.num_attention_heads == 3 && c.num_key_value_heads == 3 && c.head_dim == 16 &&
                  c.intermediate_size == 192 && c.max_position_embeddings == 512 && c.vocab_size == 20,
              "neox gguf sizes");
        CHECK(sea_hf_config_rotary_dim(&c) == 4 && !c.use_parallel_residual && !c.norm_is_rms &&
                  fabs(c.norm_eps - 1e-5) < 1e-12 && !c.tie_word_embeddings && c.attention_bias,
              "neox gguf: rotary %lld parallel %d rms %d tie %d", (long long)sea_hf_config_rotary_dim(&c),
              c.use_parallel_residual, c.norm_is_rms, c.tie_word_embeddings);
        CHECK(strcmp(c.torch_dtype, "float16") == 0, "dtype from token_embd: %s", c.torch_dtype);
    }
    sea_gguf_close(g);
    free(p);
}

/* Index files that disagree with their shards are refused, naming the index and tensor. */
static void test_st_bad_index(void)
{
    char *d = path_in(scratch, "bad_index");
    mkdir(d, 0755);
    float v[2] = {1, 2};
    sea_st_tensor t = {.name = "x", .dtype = SEA_F32, .ndim = 1, .shape = {2}, .data = v, .nbytes = 8};
    char *shard = path_in(d, "model-00001-of-00001.safetensors"), *idx = path_in(d, "model.safetensors.index.json");
    CHECK(sea_safetensors_write(shard, &t, 1, NULL, NULL, 0) == SEA_OK, "write shard");
    static const char missing_file[] = "{\"weight_map\": {\"x\": \"model-00002-of-00002.safetensors\"}}";
    sea_file_write_atomic(idx, missing_file, strlen(missing_file));
    sea_safetensors *f = NULL;
    CHECK(sea_safetensors_open_dir(d, &f) == SEA_ERR_IO && strstr(sea_last_error(), "model-00002-of-00002.safetensors"),
          "index naming a missing shard: %s", sea_last_error());
    static const char wrong_tensor[] = "{\"weight_map\": {\"y\": \"model-00001-of-00001.safetensors\"}}";
    sea_file_write_atomic(idx, wrong_tensor, strlen(wrong_tensor));
    CHECK(sea_safetensors_open_dir(d, &f) == SEA_ERR_FORMAT && strstr(sea_last_error(), "'y'") &&
              strstr(sea_last_error(), "index.json"),
          "index naming a tensor the shard lacks: %s", sea_last_error());
    static const char escape[] = "{\"weight_map\": {\"x\": \"../x.safetensors\"}}";
    sea_file_write_atomic(idx, escape, strlen(escape));
    CHECK(sea_safetensors_open_dir(d, &f) == SEA_ERR_FORMAT && strstr(sea_last_error(), "plain file name"),
          "index escaping the directory: %s", sea_last_error());
    CHECK(f == NULL, "no handle on failure");
    free(shard);
    free(idx);
    free(d);
}

/* A tiny GGUF writer for malformed files the Python library would refuse to write. */
typedef struct gw {
    unsigned char b[4096];
    size_t n;
} gw;
static void gw_bytes(gw *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void gw_u32(gw *w, uint32_t v) { gw_bytes(w, &v, 4); } /* little-endian host */
static void gw_u64(gw *w, uint64_t v) { gw_bytes(w, &v, 8); }
static void gw_str(gw *w, const char *s)
{
    gw_u64(w, strlen(s));
    gw_bytes(w, s, strlen(s));
}
static void gw_header(gw *w, uint64_t nt, uint64_t nkv)
{
    w->n = 0;
    gw_bytes(w, "GGUF", 4);
    gw_u32(w, 3);
    gw_u64(w, nt);
    gw_u64(w, nkv);
}
static void gw_kv_str(gw *w, const char *k, const char *v)
{
    gw_str(w, k);
    gw_u32(w, SEA_GGUF_STRING);
    gw_str(w, v);
}
static void gw_tensor(gw *w, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off)
{
    gw_str(w, name);
    gw_u32(w, nd);
    for (uint32_t i = 0; i < nd; i++) gw_u64(w, ne[i]);
    gw_u32(w, type);
    gw_u64(w, off);
}
static void gw_pad(gw *w, size_t data_bytes)
{
    while (w->n % 32) w->b[w->n++] = 0;
    memset(w->b + w->n, 0x11, data_bytes);
    w->n += data_bytes;
}

static void expect_gguf_error(gw *w, sea_status want, const char *needle)
{
    sea_gguf *g = NULL;
    sea_status st = sea_gguf_open_memory(w->b, w->n, "crafted.gguf", &g);
    CHECK(st == want && g == NULL, "crafted gguf (%s): status %s", needle, sea_status_name(st));
    CHECK(strstr(sea_last_error(), "crafted.gguf") && strstr(sea_last_error(), needle), "message '%s' should contain '%s'",
          sea_last_error(), needle);
    sea_gguf_close(g);
}

static void test_gguf_crafted(void)
{
    gw w;
    uint64_t ne[2] = {32, 2};
    /* a valid one first, so the failures below are about the one thing changed */
    gw_header(&w, 1, 1);
    gw_kv_str(&w, "general.architecture", "llama");
    gw_tensor(&w, "t", 2, ne, SEA_GGML_F32, 0);
    gw_pad(&w, 256);
    sea_gguf *g = NULL;
    CHECK(sea_gguf_open_memory(w.b, w.n, "crafted.gguf", &g) == SEA_OK, "crafted valid gguf: %s", sea_last_error());
    sea_gguf_close(g);

    gw_header(&w, 1, 0);
    gw_tensor(&w, "t", 2, ne, SEA_GGML_F32, 4);
    gw_pad(&w, 260);
    expect_gguf_error(&w, SEA_ERR_FORMAT, "not a multiple of the alignment");

    gw_header(&w, 1, 0);
    gw_tensor(&w, "t", 2, ne, SEA_GGML_F32, 0);
    gw_pad(&w, 100);
    expect_gguf_error(&w, SEA_ERR_FORMAT, "'t'");

    gw_header(&w, 0, 2);
    gw_kv_str(&w, "a", "x");
    gw_kv_str(&w, "a", "y");
    expect_gguf_error(&w, SEA_ERR_FORMAT, "'a' appears twice");

    gw_header(&w, 1, 0);
    uint64_t ne5[5] = {1, 1, 1, 1, 1};
    gw_tensor(&w, "five", 5, ne5, SEA_GGML_F32, 0);
    gw_pad(&w, 4);
    expect_gguf_error(&w, SEA_ERR_FORMAT, "'five'");

    gw_header(&w, 1, 0);
    uint64_t ne_q[1] = {20};
    gw_tensor(&w, "q", 1, ne_q, SEA_GGML_Q8_0, 0);
    gw_pad(&w, 34);
    expect_gguf_error(&w, SEA_ERR_FORMAT, "block size");

    gw_header(&w, 1, 0);
    gw_tensor(&w, "weird", 1, ne, 99, 0);
    gw_pad(&w, 128);
    expect_gguf_error(&w, SEA_ERR_UNSUPPORTED, "ggml type 99");

    gw_header(&w, 0, 1);
    gw_str(&w, "general.alignment");
    gw_u32(&w, SEA_GGUF_UINT32);
    gw_u32(&w, 24);
    expect_gguf_error(&w, SEA_ERR_FORMAT, "general.alignment");

    /* a supported layout but a type that cannot be dequantized here */
    gw_header(&w, 1, 0);
    uint64_t ne_k[1] = {256};
    gw_tensor(&w, "k4", 1, ne_k, SEA_GGML_Q4_K, 0);
    gw_pad(&w, 144);
    {
        sea_gguf *h = NULL;
        CHECK(sea_gguf_open_memory(w.b, w.n, "crafted.gguf", &h) == SEA_OK, "Q4_K layout: %s", sea_last_error());
        float out[256];
        if (h)
            CHECK(sea_gguf_tensor_to_f32(sea_gguf_find_tensor(h, "k4"), out) == SEA_ERR_UNSUPPORTED &&
                      strstr(sea_last_error(), "Q4_K") && strstr(sea_last_error(), "k4"),
                  "Q4_K dequantize: %s", sea_last_error());
        sea_gguf_close(h);
    }

    /* a gpt2 tokenizer with a pre-tokenizer we do not implement is refused, not guessed */
    gw_header(&w, 0, 4);
    gw_kv_str(&w, "tokenizer.ggml.model", "gpt2");
    gw_kv_str(&w, "tokenizer.ggml.pre", "qwen2");
    gw_str(&w, "tokenizer.ggml.tokens");
    gw_u32(&w, SEA_GGUF_ARRAY);
    gw_u32(&w, SEA_GGUF_STRING);
    gw_u64(&w, 2);
    gw_str(&w, "a");
    gw_str(&w, "b");
    gw_str(&w, "tokenizer.ggml.merges");
    gw_u32(&w, SEA_GGUF_ARRAY);
    gw_u32(&w, SEA_GGUF_STRING);
    gw_u64(&w, 0);
    g = NULL;
    CHECK(sea_gguf_open_memory(w.b, w.n, "crafted.gguf", &g) == SEA_OK, "tokenizer gguf: %s", sea_last_error());
    sea_tokenizer *tok = NULL;
    if (g)
        CHECK(sea_tokenizer_from_gguf(g, &tok) == SEA_ERR_UNSUPPORTED && strstr(sea_last_error(), "qwen2") && !tok,
              "unknown pre-tokenizer: %s", sea_last_error());
    sea_tokenizer_free(tok);
    sea_gguf_close(g);
}

/* llama.cpp permutes q/k rows as w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2): apply that
 * here independently, then check sea_gguf_unpermute_qk restores the original. */
static void test_unpermute(void)
{
    enum { NH = 3, HD = 8, COLS = 5, ROWS = NH * HD };
    float orig[ROWS][COLS], perm[ROWS][COLS];
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) orig[r][c] = (float)(r * 1000 + c);
    for (int h = 0; h < NH; h++)
        for (int two = 0; two < 2; two++)
            for (int i = 0; i < HD / 2; i++)
                /* source index (h, two, i) lands at (h, i, two) */
                memcpy(perm[h * HD + i * 2 + two], orig[h * HD + two * (HD / 2) + i], sizeof orig[0]);
    CHECK(sea_gguf_unpermute_qk(perm, ROWS, sizeof perm[0], NH) == SEA_OK, "unpermute");
    CHECK(memcmp(perm, orig, sizeof orig) == 0, "unpermute does not invert llama.cpp's permute");
    CHECK(sea_gguf_unpermute_qk(perm, ROWS, sizeof perm[0], 5) == SEA_ERR_SHAPE, "bad head count");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    fixdir = argv[1];
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/test_formats.XXXXXX", argv[2]);
    mkdir(argv[2], 0755);
    scratch = mkdtemp(tmpl);
    if (!scratch) {
        perror("mkdtemp");
        return 1;
    }
    test_st_basic();
    test_st_sharded();
    test_st_bad();
    test_st_write();
    test_configs();
    test_st_bad_index();
    test_gguf();
    test_gguf_neox();
    test_gguf_crafted();
    test_unpermute();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("all format checks passed\n");
    return failures ? 1 : 0;
}
