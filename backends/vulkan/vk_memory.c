/* Device memory sub-allocator.
 *
 * Drivers limit the number of VkDeviceMemory objects (maxMemoryAllocationCount, often 4096)
 * and allocation is slow, so memory comes in 64 MiB blocks, each spanned by one VkBuffer;
 * a sea_buffer is an (offset, size) range of a block found first-fit in a sorted hole list
 * (holes coalesce on free). Requests larger than a block get a block of their own. Blocks
 * are kept until the device closes: freeing a range while recorded commands still use it
 * is then harmless, because later commands that reuse the range are ordered after them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

static VkDeviceSize round_up(VkDeviceSize x, VkDeviceSize a) { return (x + a - 1) / a * a; }

static sea_status holes_reserve(vk_block *b, int n)
{
    if (n <= b->cap_holes) return SEA_OK;
    int cap = b->cap_holes ? b->cap_holes * 2 : 16;
    while (cap < n) cap *= 2;
    VkDeviceSize *o = realloc(b->hole_off, (size_t)cap * sizeof *o);
    if (!o) return sea_error(SEA_ERR_OOM, "vulkan: out of host memory (allocator free list)");
    b->hole_off = o;
    VkDeviceSize *s = realloc(b->hole_size, (size_t)cap * sizeof *s);
    if (!s) return sea_error(SEA_ERR_OOM, "vulkan: out of host memory (allocator free list)");
    b->hole_size = s;
    b->cap_holes = cap;
    return SEA_OK;
}

static sea_status block_create(vk_dev *d, VkDeviceSize size, bool host, vk_block **out)
{
    uint32_t type = host ? d->mem_type_host : d->mem_type_dev;
    vk_block *b = calloc(1, sizeof *b);
    if (!b) return sea_error(SEA_ERR_OOM, "%s: out of host memory allocating a block record", d->label);
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = size,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                       VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vkCreateBuffer(d->dev, &bci, NULL, &b->buffer);
    sea_status st;
    if (r != VK_SUCCESS) {
        st = vk_check(r, d, "vkCreateBuffer");
        sea_error_context(st, "allocating %zu bytes", (size_t)size);
        free(b);
        return st;
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d->dev, b->buffer, &req);
    if (!(req.memoryTypeBits & (1u << type))) {
        vkDestroyBuffer(d->dev, b->buffer, NULL);
        free(b);
        return sea_error(SEA_ERR_DEVICE, "%s: storage buffers cannot use memory type %u", d->label, type);
    }
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size, .memoryTypeIndex = type};
    r = vkAllocateMemory(d->dev, &mai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(d->dev, b->buffer, NULL);
        free(b);
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return sea_error(SEA_ERR_OOM, "%s: out of %s memory allocating %zu bytes (%s)", d->label, host ? "staging" : "device",
                             (size_t)size, vk_result_name(r));
        return vk_check(r, d, "vkAllocateMemory");
    }
    b->host = host;
    r = vkBindBufferMemory(d->dev, b->buffer, b->mem, 0);
    if (r == VK_SUCCESS && (d->memprops.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
        (host || !d->force_staging))
        r = vkMapMemory(d->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->mapped);
    if (r != VK_SUCCESS) {
        st = vk_check(r, d, "binding/mapping block memory");
        vkDestroyBuffer(d->dev, b->buffer, NULL);
        vkFreeMemory(d->dev, b->mem, NULL);
        free(b);
        return st;
    }
    b->size = size;
    if ((st = holes_reserve(b, 16))) {
        vkDestroyBuffer(d->dev, b->buffer, NULL);
        vkFreeMemory(d->dev, b->mem, NULL);
        free(b);
        return st;
    }
    b->hole_off[0] = 0;
    b->hole_size[0] = size;
    b->n_holes = 1;
    *out = b;
    return SEA_OK;
}

static bool block_take(vk_block *b, VkDeviceSize size, VkDeviceSize *off)
{
    for (int i = 0; i < b->n_holes; i++) {
        if (b->hole_size[i] < size) continue;
        *off = b->hole_off[i];
        b->hole_off[i] += size;
        b->hole_size[i] -= size;
        if (b->hole_size[i] == 0) {
            memmove(b->hole_off + i, b->hole_off + i + 1, (size_t)(b->n_holes - i - 1) * sizeof *b->hole_off);
            memmove(b->hole_size + i, b->hole_size + i + 1, (size_t)(b->n_holes - i - 1) * sizeof *b->hole_size);
            b->n_holes--;
        }
        return true;
    }
    return false;
}

static sea_status block_give(vk_block *b, VkDeviceSize off, VkDeviceSize size)
{
    int i = 0;
    while (i < b->n_holes && b->hole_off[i] < off) i++;
    bool merge_prev = i > 0 && b->hole_off[i - 1] + b->hole_size[i - 1] == off;
    bool merge_next = i < b->n_holes && off + size == b->hole_off[i];
    if (merge_prev && merge_next) {
        b->hole_size[i - 1] += size + b->hole_size[i];
        memmove(b->hole_off + i, b->hole_off + i + 1, (size_t)(b->n_holes - i - 1) * sizeof *b->hole_off);
        memmove(b->hole_size + i, b->hole_size + i + 1, (size_t)(b->n_holes - i - 1) * sizeof *b->hole_size);
        b->n_holes--;
    } else if (merge_prev) {
        b->hole_size[i - 1] += size;
    } else if (merge_next) {
        b->hole_off[i] = off;
        b->hole_size[i] += size;
    } else {
        SEA_TRY(holes_reserve(b, b->n_holes + 1));
        memmove(b->hole_off + i + 1, b->hole_off + i, (size_t)(b->n_holes - i) * sizeof *b->hole_off);
        memmove(b->hole_size + i + 1, b->hole_size + i, (size_t)(b->n_holes - i) * sizeof *b->hole_size);
        b->hole_off[i] = off;
        b->hole_size[i] = size;
        b->n_holes++;
    }
    return SEA_OK;
}

sea_status vk_mem_alloc(vk_dev *d, VkDeviceSize size, bool host, vk_alloc *out)
{
    VkDeviceSize want = round_up(size ? size : 4, d->align);
    if (want > d->max_alloc)
        return sea_error(SEA_ERR_OOM, "%s: allocation of %zu bytes exceeds the device's maxMemoryAllocationSize %zu", d->label,
                         (size_t)size, (size_t)d->max_alloc);
    pthread_mutex_lock(&d->lock);
    vk_block **list = host ? &d->host_blocks : &d->blocks;
    sea_status st = SEA_OK;
    for (vk_block *b = *list; b; b = b->next) {
        VkDeviceSize off;
        if (block_take(b, want, &off)) {
            *out = (vk_alloc){b, off, want};
            goto done;
        }
    }
    vk_block *b = NULL;
    st = block_create(d, want > d->block_size ? want : d->block_size, host, &b);
    if (st) goto done;
    b->next = *list;
    *list = b;
    if (!host) d->block_bytes += b->size;
    VkDeviceSize off = 0;   /* a fresh block always has room; 0 keeps -Wmaybe-uninitialized quiet */
    block_take(b, want, &off);
    *out = (vk_alloc){b, off, want};
done:
    if (!st && !host) {
        d->live += want;
        if (d->live > d->live_peak) d->live_peak = d->live;
    }
    pthread_mutex_unlock(&d->lock);
    return st;
}

void vk_mem_free(vk_dev *d, const vk_alloc *a)
{
    if (!a->blk) return;
    pthread_mutex_lock(&d->lock);
    if (!a->blk->host) d->live -= a->size;
    if (block_give(a->blk, a->off, a->size)) {
        /* Out of host memory for the hole list: the range leaks until the device closes. */
        sea_error_clear();
    }
    pthread_mutex_unlock(&d->lock);
}

static void destroy_list(vk_dev *d, vk_block *b)
{
    while (b) {
        vk_block *n = b->next;
        vkDestroyBuffer(d->dev, b->buffer, NULL);
        vkFreeMemory(d->dev, b->mem, NULL);
        free(b->hole_off);
        free(b->hole_size);
        free(b);
        b = n;
    }
}

void vk_mem_destroy_all(vk_dev *d)
{
    destroy_list(d, d->blocks);
    destroy_list(d, d->host_blocks);
    d->blocks = d->host_blocks = NULL;
    d->live = d->live_peak = d->block_bytes = 0;
}

sea_status vk_buffer_alloc(sea_device *dev, size_t size, sea_buffer *buf)
{
    vk_dev *d = dev->ctx;
    vk_alloc *a = malloc(sizeof *a);
    if (!a) return sea_error(SEA_ERR_OOM, "%s: out of host memory for a buffer record", d->label);
    sea_status st = vk_mem_alloc(d, size, false, a);
    if (st) {
        free(a);
        return st;
    }
    buf->handle = a;
    /* buf->host stays NULL even on UMA devices: recorded work may still be pending, so the
     * host must go through buffer_read/buffer_write, which order against it. */
    buf->host = NULL;
    return SEA_OK;
}

sea_status vk_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out)
{
    vk_dev *d = dev->ctx;
    pthread_mutex_lock(&d->lock);
    out->allocated = out->held = (size_t)d->live;
    out->allocated_peak = out->held_peak = (size_t)d->live_peak;
    out->cached = (size_t)(d->block_bytes - d->live);
    if (reset_peak) d->live_peak = d->live;
    pthread_mutex_unlock(&d->lock);
    return SEA_OK;
}

void vk_buffer_free(sea_device *dev, sea_buffer *buf)
{
    vk_alloc *a = buf->handle;
    if (!a) return;
    vk_mem_free(dev->ctx, a);
    free(a);
    buf->handle = NULL;
}
