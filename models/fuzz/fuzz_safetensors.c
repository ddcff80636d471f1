/* libFuzzer target: safetensors header/offset validation and tensor conversion on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "models/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sea_safetensors *f = NULL;
    if (sea_safetensors_open_memory(data, size, "fuzz.safetensors", &f) != SEA_OK) return 0;
    /* Everything handed out must lie inside the input. */
    for (size_t i = 0; i < sea_safetensors_count(f); i++) {
        const sea_st_tensor *t = sea_safetensors_at(f, i);
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) abort();
        if (sea_safetensors_find(f, t->name) != t) abort();
        if (t->dtype != SEA_ST_DTYPE_NONE) {
            int64_t n = sea_st_tensor_numel(t);
            float *buf = malloc((size_t)(n ? n : 1) * sizeof *buf);
            if (buf) sea_st_tensor_to_f32(t, buf);
            free(buf);
        }
    }
    sea_safetensors_metadata(f, "format");
    sea_safetensors_close(f);
    return 0;
}
