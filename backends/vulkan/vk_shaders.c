/* SPIR-V of every shader, embedded so the module needs no files at run time.
 * Each *.spv.inc is glslc -mfmt=num (or glslangValidator -x) output: a comma-separated
 * list of 32-bit words, included inside an initializer. */
#include "vk_shaders.h"

#define SPV(name) static const uint32_t spv_##name[] = {
#define END };

SPV(fill)
#include "fill.spv.inc"
END
SPV(copy)
#include "copy.spv.inc"
END
SPV(unary)
#include "unary.spv.inc"
END
SPV(binary)
#include "binary.spv.inc"
END
SPV(colsum)
#include "colsum.spv.inc"
END
SPV(embedding)
#include "embedding.spv.inc"
END
SPV(matmul)
#include "matmul.spv.inc"
END
SPV(norm)
#include "norm.spv.inc"
END
SPV(softmax)
#include "softmax.spv.inc"
END
SPV(logsoftmax)
#include "logsoftmax.spv.inc"
END
SPV(masked_sum)
#include "masked_sum.spv.inc"
END
SPV(rope)
#include "rope.spv.inc"
END
SPV(attn_fwd)
#include "attn_fwd.spv.inc"
END
SPV(attn_bwd)
#include "attn_bwd.spv.inc"
END
SPV(sample)
#include "sample.spv.inc"
END
SPV(optim)
#include "optim.spv.inc"
END
SPV(matmul_flat)
#include "matmul_flat.spv.inc"
END
SPV(set_rows)
#include "set_rows.spv.inc"
END

#define ENTRY(id, name) [id] = {#name, spv_##name, sizeof spv_##name}
const vk_shader_code vk_shader_table[VK_SHADER_COUNT] = {
    ENTRY(VK_SH_FILL, fill),
    ENTRY(VK_SH_COPY, copy),
    ENTRY(VK_SH_UNARY, unary),
    ENTRY(VK_SH_BINARY, binary),
    ENTRY(VK_SH_COLSUM, colsum),
    ENTRY(VK_SH_EMBEDDING, embedding),
    ENTRY(VK_SH_MATMUL, matmul),
    ENTRY(VK_SH_NORM, norm),
    ENTRY(VK_SH_SOFTMAX, softmax),
    ENTRY(VK_SH_LOGSOFTMAX, logsoftmax),
    ENTRY(VK_SH_MASKED_SUM, masked_sum),
    ENTRY(VK_SH_ROPE, rope),
    ENTRY(VK_SH_ATTN_FWD, attn_fwd),
    ENTRY(VK_SH_ATTN_BWD, attn_bwd),
    ENTRY(VK_SH_SAMPLE, sample),
    ENTRY(VK_SH_OPTIM, optim),
    ENTRY(VK_SH_MATMUL_FLAT, matmul_flat),
    ENTRY(VK_SH_SET_ROWS, set_rows),
};
