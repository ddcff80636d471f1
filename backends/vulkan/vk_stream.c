/* Streams: batched command recording, submission at sync points, host transfers.
 *
 * A stream keeps one command buffer open. Each op appends its dispatches, each followed by a
 * global memory barrier (compute/transfer writes -> compute/transfer reads and writes):
 * coarse, but always correct for dependent ops and cheap next to a submit. The buffer is
 * submitted and waited for only when the host needs results (buffer_read, stream_sync) or
 * when pending staging memory grows past a bound. Temporaries and staging ranges used by
 * recorded work are released after that work completes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define VK_DSET_POOL 1024                          /* descriptor sets per batch (fallback path) */
#define VK_STAGING_FLUSH ((VkDeviceSize)256 << 20) /* submit once this much staging is pending */

sea_status vk_stream_create(sea_device *dev, sea_stream *s)
{
    vk_dev *d = dev->ctx;
    vk_stream *vs = calloc(1, sizeof *vs);
    if (!vs) return sea_error(SEA_ERR_OOM, "%s: out of host memory creating a stream", d->label);
    vs->d = d;
    sea_status st;
    VkCommandPoolCreateInfo cpci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                    .queueFamilyIndex = d->qfam};
    if ((st = vk_check(vkCreateCommandPool(d->dev, &cpci, NULL, &vs->pool), d, "vkCreateCommandPool"))) goto fail;
    VkCommandBufferAllocateInfo cbai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                        .commandPool = vs->pool,
                                        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                        .commandBufferCount = 1};
    if ((st = vk_check(vkAllocateCommandBuffers(d->dev, &cbai, &vs->cb), d, "vkAllocateCommandBuffers"))) goto fail;
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if ((st = vk_check(vkCreateFence(d->dev, &fci, NULL, &vs->fence), d, "vkCreateFence"))) goto fail;
    if (!d->push_desc) {
        VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = VK_DSET_POOL * VK_MAX_BINDINGS};
        VkDescriptorPoolCreateInfo dpci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                           .maxSets = VK_DSET_POOL,
                                           .poolSizeCount = 1,
                                           .pPoolSizes = &ps};
        if ((st = vk_check(vkCreateDescriptorPool(d->dev, &dpci, NULL, &vs->dpool), d, "vkCreateDescriptorPool"))) goto fail;
    }
    s->ctx = vs;
    return SEA_OK;
fail:
    s->ctx = vs;
    vk_stream_destroy(s);
    return st;
}

static void release_deferred(vk_stream *vs)
{
    for (int i = 0; i < vs->n_deferred; i++) vk_mem_free(vs->d, &vs->deferred[i]);
    vs->n_deferred = 0;
    vs->staged_bytes = 0;
}

void vk_stream_destroy(sea_stream *s)
{
    vk_stream *vs = s->ctx;
    if (!vs) return;
    vk_dev *d = vs->d;
    if (vs->recording) {
        vk_stream_sync(s);
        sea_error_clear();
    }
    release_deferred(vs);
    free(vs->deferred);
    if (vs->dpool) vkDestroyDescriptorPool(d->dev, vs->dpool, NULL);
    if (vs->fence) vkDestroyFence(d->dev, vs->fence, NULL);
    if (vs->pool) vkDestroyCommandPool(d->dev, vs->pool, NULL);
    free(vs);
    s->ctx = NULL;
}

sea_status vk_record_begin(vk_stream *vs)
{
    if (vs->recording) return SEA_OK;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    SEA_TRY(vk_check(vkBeginCommandBuffer(vs->cb, &bi), vs->d, "vkBeginCommandBuffer"));
    vs->recording = true;
    vs->n_dispatch = 0;
    return SEA_OK;
}

static void barrier(vk_stream *vs, VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = dst_access};
    vkCmdPipelineBarrier(vs->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage, 0, 1, &mb, 0,
                         NULL, 0, NULL);
}

/* Submit what is recorded and wait for it. */
static sea_status flush(vk_stream *vs)
{
    if (!vs->recording) return SEA_OK;
    vk_dev *d = vs->d;
    barrier(vs, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    vs->recording = false;
    sea_status st = vk_check(vkEndCommandBuffer(vs->cb), d, "vkEndCommandBuffer");
    if (!st) {
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &vs->cb};
        pthread_mutex_lock(&d->lock);
        st = vk_check(vkQueueSubmit(d->queue, 1, &si, vs->fence), d, "vkQueueSubmit");
        pthread_mutex_unlock(&d->lock);
        if (!st) {
            VkResult r;
            do r = vkWaitForFences(d->dev, 1, &vs->fence, VK_TRUE, 1000000000ull * 60);
            while (r == VK_TIMEOUT);
            st = vk_check(r, d, "waiting for queued work (vkWaitForFences)");
            vkResetFences(d->dev, 1, &vs->fence);
        }
    }
    vkResetCommandBuffer(vs->cb, 0);
    if (vs->dpool) vkResetDescriptorPool(d->dev, vs->dpool, 0);
    vs->dsets_used = 0;
    release_deferred(vs);
    return st;
}

sea_status vk_stream_sync(sea_stream *s) { return flush(s->ctx); }

static sea_status defer(vk_stream *vs, const vk_alloc *a)
{
    if (vs->n_deferred == vs->cap_deferred) {
        int cap = vs->cap_deferred ? vs->cap_deferred * 2 : 64;
        vk_alloc *n = realloc(vs->deferred, (size_t)cap * sizeof *n);
        if (!n) return sea_error(SEA_ERR_OOM, "%s: out of host memory (deferred frees)", vs->d->label);
        vs->deferred = n;
        vs->cap_deferred = cap;
    }
    vs->deferred[vs->n_deferred++] = *a;
    return SEA_OK;
}

sea_status vk_temp(sea_stream *s, VkDeviceSize bytes, vk_alloc *out)
{
    vk_stream *vs = s->ctx;
    SEA_TRY(vk_mem_alloc(vs->d, bytes, false, out));
    sea_status st = defer(vs, out);
    if (st) vk_mem_free(vs->d, out);
    return st;
}

sea_status vk_temp_adopt(sea_stream *s, const vk_alloc *a) { return defer(s->ctx, a); }

sea_status vk_temp_tensor(sea_stream *s, sea_dtype dt, int ndim, const int64_t *shape, sea_buffer *buf, vk_alloc *a,
                          sea_tensor *out)
{
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    const size_t bytes = (size_t)numel * sea_dtype_size(dt);
    SEA_TRY(vk_temp(s, bytes ? bytes : 4, a));
    *buf = (sea_buffer){.dev = s->dev, .size = bytes, .handle = a, .refs = 1};
    *out = sea_tensor_make(buf, 0, dt, ndim, shape);
    return SEA_OK;
}

static sea_status check_range(const vk_dev *d, const sea_buffer *buf, size_t off, size_t n, const char *what)
{
    if (off > buf->size || n > buf->size - off)
        return sea_error(SEA_ERR_INVALID, "%s: %s of %zu bytes at offset %zu beyond buffer of %zu bytes", d->label, what, n, off,
                         buf->size);
    return SEA_OK;
}

sea_status vk_buffer_write(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n)
{
    vk_stream *vs = s->ctx;
    vk_dev *d = vs->d;
    SEA_TRY(check_range(d, buf, off, n, "buffer_write"));
    if (n == 0) return SEA_OK;
    const vk_alloc *a = buf->handle;
    if (!vs->recording && a->blk->mapped) {
        /* Nothing queued can touch the buffer: write straight into mapped memory. */
        memcpy((char *)a->blk->mapped + a->off + off, src, n);
        return SEA_OK;
    }
    /* Keep stream order: stage the bytes and record a copy after the queued work. */
    if (vs->staged_bytes + n > VK_STAGING_FLUSH) SEA_TRY(flush(vs));
    if (!vs->recording && a->blk->mapped) {
        memcpy((char *)a->blk->mapped + a->off + off, src, n);
        return SEA_OK;
    }
    vk_alloc st_a;
    SEA_TRY(vk_mem_alloc(d, n, true, &st_a));
    sea_status st = defer(vs, &st_a);
    if (st) {
        vk_mem_free(d, &st_a);
        return st;
    }
    vs->staged_bytes += st_a.size;
    memcpy((char *)st_a.blk->mapped + st_a.off, src, n);
    SEA_TRY(vk_record_begin(vs));
    VkBufferCopy c = {.srcOffset = st_a.off, .dstOffset = a->off + off, .size = n};
    vkCmdCopyBuffer(vs->cb, st_a.blk->buffer, a->blk->buffer, 1, &c);
    barrier(vs, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    return SEA_OK;
}

sea_status vk_buffer_read(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n)
{
    vk_stream *vs = s->ctx;
    vk_dev *d = vs->d;
    SEA_TRY(check_range(d, buf, off, n, "buffer_read"));
    const vk_alloc *a = buf->handle;
    if (a->blk->mapped) {
        SEA_TRY(flush(vs));
        if (n) memcpy(dst, (const char *)a->blk->mapped + a->off + off, n);
        return SEA_OK;
    }
    /* Device-local memory: copy through staging in chunks of at most 64 MiB. */
    while (n) {
        size_t chunk = n < ((size_t)64 << 20) ? n : ((size_t)64 << 20);
        vk_alloc st_a;
        SEA_TRY(vk_mem_alloc(d, chunk, true, &st_a));
        sea_status st = vk_record_begin(vs);
        if (st) {
            vk_mem_free(d, &st_a);
            return st;
        }
        VkBufferCopy c = {.srcOffset = a->off + off, .dstOffset = st_a.off, .size = chunk};
        vkCmdCopyBuffer(vs->cb, a->blk->buffer, st_a.blk->buffer, 1, &c);
        st = flush(vs);
        if (!st) memcpy(dst, (const char *)st_a.blk->mapped + st_a.off, chunk);
        vk_mem_free(d, &st_a);
        if (st) return st;
        dst = (char *)dst + chunk;
        off += chunk;
        n -= chunk;
    }
    return SEA_OK;
}

sea_status vk_dispatch(sea_stream *s, int shader, const uint32_t spec[4], const vk_binding *b, int nb, const void *push,
                       uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz)
{
    vk_stream *vs = s->ctx;
    vk_dev *d = vs->d;
    if (gx == 0 || gy == 0 || gz == 0) return SEA_OK;
    if (gx > d->max_groups[0] || gy > d->max_groups[1] || gz > d->max_groups[2])
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: shader %s: grid (%u, %u, %u) exceeds maxComputeWorkGroupCount (%u, %u, %u)",
                         d->label, vk_shader_table[shader].name, gx, gy, gz, d->max_groups[0], d->max_groups[1], d->max_groups[2]);
    uint32_t row_spec[4] = {d->row_wg, 0, 0, 0};
    if (!spec && (shader == VK_SH_NORM || shader == VK_SH_SOFTMAX || shader == VK_SH_LOGSOFTMAX || shader == VK_SH_MASKED_SUM ||
                  shader == VK_SH_SAMPLE || shader == VK_SH_OPTIM))
        spec = row_spec;
    VkPipeline pipe;
    SEA_TRY(vk_pipeline_get(d, shader, spec, &pipe));
    if (!d->push_desc && vs->dsets_used >= VK_DSET_POOL) SEA_TRY(flush(vs));
    SEA_TRY(vk_record_begin(vs));

    VkDescriptorBufferInfo bi[VK_MAX_BINDINGS];
    VkWriteDescriptorSet w[VK_MAX_BINDINGS];
    for (int i = 0; i < VK_MAX_BINDINGS; i++) {
        const vk_binding x = i < nb && b[i].buffer ? b[i] : vk_bind_dummy(d);
        bi[i] = (VkDescriptorBufferInfo){.buffer = x.buffer, .offset = x.off, .range = x.range};
        w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                      .dstBinding = (uint32_t)i,
                                      .descriptorCount = 1,
                                      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      .pBufferInfo = &bi[i]};
    }
    vkCmdBindPipeline(vs->cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    if (d->push_desc) {
        d->cmd_push_desc(vs->cb, VK_PIPELINE_BIND_POINT_COMPUTE, d->layout, 0, VK_MAX_BINDINGS, w);
    } else {
        VkDescriptorSet set;
        VkDescriptorSetAllocateInfo dsai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                            .descriptorPool = vs->dpool,
                                            .descriptorSetCount = 1,
                                            .pSetLayouts = &d->dsl};
        SEA_TRY(vk_check(vkAllocateDescriptorSets(d->dev, &dsai, &set), d, "vkAllocateDescriptorSets"));
        vs->dsets_used++;
        for (int i = 0; i < VK_MAX_BINDINGS; i++) w[i].dstSet = set;
        vkUpdateDescriptorSets(d->dev, VK_MAX_BINDINGS, w, 0, NULL);
        vkCmdBindDescriptorSets(vs->cb, VK_PIPELINE_BIND_POINT_COMPUTE, d->layout, 0, 1, &set, 0, NULL);
    }
    if (push_size) {
        uint8_t pc[VK_PUSH_BYTES] = {0};
        memcpy(pc, push, push_size < VK_PUSH_BYTES ? push_size : VK_PUSH_BYTES);
        vkCmdPushConstants(vs->cb, d->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, VK_PUSH_BYTES, pc);
    }
    vkCmdDispatch(vs->cb, gx, gy, gz);
    vs->n_dispatch++;
    barrier(vs, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    return SEA_OK;
}
