/* The embedded SPIR-V compute shaders (the .comp files under shaders/, compiled at build time). */
#ifndef SEA_VK_SHADERS_H
#define SEA_VK_SHADERS_H

#include <stddef.h>
#include <stdint.h>

enum vk_shader {
    VK_SH_FILL = 0,
    VK_SH_COPY,
    VK_SH_UNARY,
    VK_SH_BINARY,
    VK_SH_COLSUM,
    VK_SH_EMBEDDING,
    VK_SH_MATMUL,
    VK_SH_NORM,
    VK_SH_SOFTMAX,
    VK_SH_LOGSOFTMAX,
    VK_SH_MASKED_SUM,
    VK_SH_ROPE,
    VK_SH_ATTN_FWD,
    VK_SH_ATTN_BWD,
    VK_SH_SAMPLE,
    VK_SH_OPTIM,
    VK_SH_MATMUL_FLAT,
    VK_SH_SET_ROWS,
    VK_SHADER_COUNT
};

typedef struct vk_shader_code {
    const char *name;
    const uint32_t *code;
    size_t size;   /* bytes */
} vk_shader_code;

extern const vk_shader_code vk_shader_table[VK_SHADER_COUNT];

#endif
