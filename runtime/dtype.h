/* Element types and the scalar conversions between them (round-to-nearest-even). */
#ifndef SEA_DTYPE_H
#define SEA_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_dtype {
    SEA_F32 = 0,
    SEA_BF16,
    SEA_F16,
    SEA_I32,
    SEA_DTYPE_COUNT
} sea_dtype;

size_t sea_dtype_size(sea_dtype t);
static inline bool sea_dtype_is_float(sea_dtype t) { return t == SEA_F32 || t == SEA_BF16 || t == SEA_F16; }
const char *sea_dtype_name(sea_dtype t);   /* "f32", "bf16", "f16", "i32" */
int sea_dtype_from_name(const char *name, sea_dtype *out); /* 0 on success */

uint16_t sea_f32_to_bf16(float f);
float sea_bf16_to_f32(uint16_t h);
uint16_t sea_f32_to_f16(float f);
float sea_f16_to_f32(uint16_t h);

/* Convert n elements between any two float types or i32 (i32<->float by value). */
void sea_convert(void *dst, sea_dtype dst_type, const void *src, sea_dtype src_type, size_t n);

#ifdef __cplusplus
}
#endif
#endif
