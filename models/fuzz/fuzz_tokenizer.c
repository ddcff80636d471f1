/* libFuzzer target for the tokenizer and the JSON configs.
 * Input starting with '{': parsed as tokenizer.json, config.json and tokenizer_config.json; a
 * tokenizer that loads must encode and decode a fixed text.
 * Other input: text encoded with fixed tokenizers from the fixtures (SEA_FUZZ_TOKENIZERS dir);
 * for the byte-level ones decode(encode(text)) must give the text back exactly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/hf_config.h"
#include "models/tokenizer.h"

#ifndef SEA_FUZZ_TOKENIZERS
#define SEA_FUZZ_TOKENIZERS "tests/models/fixtures/tokenizers"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *file;
    bool roundtrip;
} fixed[] = {{"bytelevel_pairs.json", true}, {"llama3.json", true}, {"sentencepiece.json", false},
             {"metaspace.json", false}, {"prefix.json", false}, {"bytelevel_added.json", false}};
#define N_FIXED (sizeof fixed / sizeof fixed[0])
static sea_tokenizer *toks[N_FIXED];
static bool loaded;

static void load_fixed(void)
{
    if (loaded) return;
    loaded = true;
    const char *dir = getenv("SEA_FUZZ_TOKENIZERS");
    if (!dir) dir = SEA_FUZZ_TOKENIZERS;
    for (size_t i = 0; i < N_FIXED; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, fixed[i].file);
        if (sea_tokenizer_load(path, &toks[i]) != SEA_OK) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", sea_last_error());
            abort(); /* a harness without its tokenizers would test nothing */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    if (size && data[0] == '{') {
        sea_hf_config cfg;
        sea_hf_config_parse(text, size, "fuzz_config.json", &cfg);
        sea_hf_config_parse_tokenizer_config(text, size, "fuzz_tokenizer_config.json", &cfg);
        sea_tokenizer *tok = NULL;
        if (sea_tokenizer_load_json(text, size, "fuzz_tokenizer.json", &tok) == SEA_OK) {
            static const char s[] = "Hello  world\n don't 42 caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd <s>";
            int32_t *ids = NULL;
            size_t n = 0;
            if (sea_tokenizer_encode(tok, s, strlen(s), true, &ids, &n) == SEA_OK) {
                char *out = NULL;
                sea_tokenizer_decode(tok, ids, n, true, &out);
                free(out);
            }
            free(ids);
            sea_tokenizer_free(tok);
        }
        return 0;
    }
    load_fixed();
    for (size_t i = 0; i < N_FIXED; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (sea_tokenizer_encode(toks[i], text, size, i % 2 == 0, &ids, &n) != SEA_OK) {
            free(ids);
            continue; /* invalid UTF-8 is refused */
        }
        char *out = NULL;
        if (sea_tokenizer_decode(toks[i], ids, n, false, &out) != SEA_OK) abort(); /* own ids must decode */
        if (fixed[i].roundtrip && !memchr(text, 0, size)) {
            if (strlen(out) != size || memcmp(out, text, size) != 0) {
                fprintf(stderr, "fuzz_tokenizer: %s: decode(encode(x)) != x\n", fixed[i].file);
                abort();
            }
        }
        free(out);
        free(ids);
    }
    return 0;
}
