/* Binding tensors as storage-buffer descriptor ranges, and grid folding.
 *
 * Limits: a descriptor range may not exceed maxStorageBufferRange (128 MiB on lavapipe, 4 GiB
 * on most discrete GPUs) and its offset must be a multiple of minStorageBufferOffsetAlignment.
 * Each tensor is therefore bound as its own range: it starts at the aligned offset at or below
 * the tensor's first byte and covers exactly the tensor's extent; the shader gets the element
 * offset of the tensor inside that range as a push constant. A buffer of any size (a model's
 * flat parameter buffer) works this way as long as each single tensor fits the limit; a
 * tensor beyond it is reported as SEA_ERR_UNSUPPORTED naming the tensor, the op and the limit
 * (ops that meet such tensors in practice split them over rows before binding). */
#include <stdio.h>

#include "vk_internal.h"

sea_status vk_bind_tensor(const vk_dev *d, const sea_tensor *t, const char *op, const char *what, vk_binding *out)
{
    const vk_alloc *a = t->buf->handle;
    size_t es = sea_dtype_size(t->dtype);
    /* Extent in elements: the last element reachable through the strides, plus one. */
    uint64_t last = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] == 0) {
            last = 0;
            break;
        }
        if (t->stride[i] < 0) {
            char desc[96];
            return sea_error(SEA_ERR_UNSUPPORTED, "%s on %s: %s %s has a negative stride", op, d->label, what,
                             sea_tensor_describe(t, desc, sizeof desc));
        }
        last += (uint64_t)(t->shape[i] - 1) * (uint64_t)t->stride[i];
    }
    VkDeviceSize first = a->off + t->offset;
    VkDeviceSize end = first + (last + 1) * es;
    VkDeviceSize base = first / d->align * d->align;
    VkDeviceSize range = (end - base + 3) / 4 * 4;
    if (range > d->max_range || (last + 1) > 0x7fffffffu) {
        char desc[96];
        return sea_error(SEA_ERR_UNSUPPORTED,
                         "%s on %s: %s %s spans %zu bytes, more than one storage-buffer binding may address "
                         "(maxStorageBufferRange %zu)",
                         op, d->label, what, sea_tensor_describe(t, desc, sizeof desc), (size_t)range, (size_t)d->max_range);
    }
    if (base + range > a->blk->size) range = a->blk->size - base;
    out->buffer = a->blk->buffer;
    out->off = base;
    out->range = range;
    out->elem = (uint32_t)((first - base) / es);
    return SEA_OK;
}

uint64_t vk_rows_per_binding(const vk_dev *d, uint64_t row_bytes)
{
    uint64_t slack = (d->align - 1) + 3;   /* start aligned down, range rounded up to 4 bytes */
    return row_bytes && d->max_range > slack ? (d->max_range - slack) / row_bytes : 0;
}

vk_binding vk_bind_alloc(const vk_alloc *a)
{
    return (vk_binding){.buffer = a->blk->buffer, .off = a->off, .range = a->size, .elem = 0};
}

vk_binding vk_bind_dummy(const vk_dev *d) { return vk_bind_alloc(&d->dummy); }

void vk_grid_1d(const vk_dev *d, uint64_t n, uint32_t per_group, uint32_t *gx, uint32_t *gy)
{
    uint64_t groups = (n + per_group - 1) / per_group;
    uint64_t maxx = d->max_groups[0] < 65535u ? d->max_groups[0] : 65535u;
    if (groups <= maxx) {
        *gx = (uint32_t)groups;
        *gy = 1;
    } else {
        *gx = (uint32_t)maxx;
        *gy = (uint32_t)((groups + maxx - 1) / maxx);
    }
}
