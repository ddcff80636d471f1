/* libFuzzer target: GGUF parsing, metadata getters, dequantization, config mapping and the
 * GGUF tokenizer on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/gguf.h"
#include "models/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sea_gguf *g = NULL;
    if (sea_gguf_open_memory(data, size, "fuzz.gguf", &g) != SEA_OK) return 0;
    for (size_t i = 0; i < sea_gguf_kv_count(g); i++) {
        const sea_gguf_kv *kv = sea_gguf_kv_at(g, i);
        if (kv->type == SEA_GGUF_ARRAY && kv->v.arr.raw && kv->v.arr.n) {
            sea_gguf_arr_int(kv, kv->v.arr.n - 1);
            sea_gguf_arr_float(kv, 0);
        }
    }
    for (size_t i = 0; i < sea_gguf_tensor_count(g); i++) {
        const sea_gguf_tensor *t = sea_gguf_tensor_at(g, i);
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) abort();
        int64_t n = sea_gguf_tensor_numel(t);
        if (n > 0 && n < (1 << 22)) {
            float *buf = malloc((size_t)n * sizeof *buf);
            if (buf) sea_gguf_tensor_to_f32(t, buf);
            free(buf);
        }
    }
    sea_hf_config cfg;
    sea_gguf_to_hf_config(g, &cfg);
    sea_tokenizer *tok = NULL;
    if (sea_tokenizer_from_gguf(g, &tok) == SEA_OK) {
        static const char text[] = "Hello world, don't stop 123 caf\xc3\xa9 \xf0\x9f\x98\x80";
        int32_t *ids = NULL;
        size_t n = 0;
        if (sea_tokenizer_encode(tok, text, strlen(text), true, &ids, &n) == SEA_OK) {
            char *out = NULL;
            sea_tokenizer_decode(tok, ids, n, false, &out);
            free(out);
        }
        free(ids);
        sea_tokenizer_free(tok);
    }
    sea_gguf_close(g);
    return 0;
}
