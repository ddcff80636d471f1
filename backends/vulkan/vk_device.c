/* Opening a Vulkan device: queue, memory types, the shared pipeline layout, and pipelines
 * created lazily per (shader, specialization constants) through one VkPipelineCache.
 *
 * All shaders share one layout: set 0 holds VK_MAX_BINDINGS storage buffers and there is a
 * 128-byte push-constant block. Bindings are pushed per dispatch with VK_KHR_push_descriptor
 * (supported by RADV, ANV, NVIDIA and lavapipe); without it descriptor sets come from a
 * per-stream pool (vk_stream.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

static int pick_memory_type(const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
        if ((f & want) == want && !(f & avoid)) return (int)i;
    }
    return -1;
}

sea_status vk_device_open(sea_device *dev)
{
    VkPhysicalDevice p = vk_physical(dev->index);
    if (!p) return sea_error(SEA_ERR_DEVICE, "vulkan:%d: no such device", dev->index);
    vk_dev *d = calloc(1, sizeof *d);
    if (!d) return sea_error(SEA_ERR_OOM, "vulkan:%d: out of host memory opening the device", dev->index);
    d->phys = p;
    snprintf(d->label, sizeof d->label, "vulkan:%d (%s)", dev->index, dev->props.name);
    vkGetPhysicalDeviceProperties(p, &d->props);
    vkGetPhysicalDeviceMemoryProperties(p, &d->memprops);
    const VkPhysicalDeviceLimits *lim = &d->props.limits;
    d->max_range = lim->maxStorageBufferRange;
    const char *lim_env = getenv("SEA_VK_MAX_RANGE");   /* testing: force the split paths */
    if (lim_env && atoll(lim_env) >= 4096 && (VkDeviceSize)atoll(lim_env) < d->max_range)
        d->max_range = (VkDeviceSize)atoll(lim_env);
    d->align = lim->minStorageBufferOffsetAlignment < 16 ? 16 : lim->minStorageBufferOffsetAlignment;
    d->max_groups[0] = lim->maxComputeWorkGroupCount[0];
    d->max_groups[1] = lim->maxComputeWorkGroupCount[1];
    d->max_groups[2] = lim->maxComputeWorkGroupCount[2];
    d->shared_bytes = lim->maxComputeSharedMemorySize;
    if (lim->maxPerStageDescriptorStorageBuffers < VK_MAX_BINDINGS || lim->maxPushConstantsSize < VK_PUSH_BYTES) {
        sea_status e = sea_error(SEA_ERR_UNSUPPORTED, "%s: needs %d storage buffers per stage and %d bytes of push constants "
                                 "(device has %u and %u)", d->label, VK_MAX_BINDINGS, VK_PUSH_BYTES,
                                 lim->maxPerStageDescriptorStorageBuffers, lim->maxPushConstantsSize);
        free(d);
        dev->ctx = NULL;
        return e;
    }
    d->subgroup = (uint32_t)(dev->props.subgroup_size > 0 ? dev->props.subgroup_size : 32);
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(p, &p2);
    d->max_alloc = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : ((VkDeviceSize)1 << 30);
    d->uma = d->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
    pthread_mutex_init(&d->lock, NULL);
    dev->ctx = d;
    sea_status st;

    /* Memory types: on UMA devices (lavapipe, integrated GPUs) tensors live in host-visible
     * coherent memory, so reads and writes are plain memcpy; discrete GPUs get device-local
     * memory and go through staging copies. */
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int host = pick_memory_type(&d->memprops, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
    if (host < 0) host = pick_memory_type(&d->memprops, hv, 0);
    int devt = -1;
    if (d->uma) devt = pick_memory_type(&d->memprops, hv | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (devt < 0) devt = pick_memory_type(&d->memprops, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (devt < 0) devt = host;
    if (host < 0 || devt < 0) {
        st = sea_error(SEA_ERR_DEVICE, "%s: no usable memory type (need host-visible coherent memory for staging)", d->label);
        goto fail;
    }
    d->mem_type_host = (uint32_t)host;
    d->mem_type_dev = (uint32_t)devt;
    d->dev_host_visible = (d->memprops.memoryTypes[devt].propertyFlags & hv) == hv;
    d->force_staging = getenv("SEA_VK_FORCE_STAGING") != NULL;
    /* Shared-memory tiling pays off on GPUs; on CPU-type devices (lavapipe) barriers are
     * coroutine switches, so the flat kernel is used. SEA_VK_MATMUL=tiled|flat overrides. */
    /* Row kernels: 256 invocations on GPUs; on CPU-type devices one subgroup, so their
     * reductions need no cross-SIMD-group barriers. SEA_VK_ROW_WG overrides (power of 2). */
    d->row_wg = d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? d->subgroup : 256;
    const char *wg = getenv("SEA_VK_ROW_WG");
    if (wg && atoi(wg) >= 1 && atoi(wg) <= 1024) d->row_wg = (uint32_t)atoi(wg);
    while (d->row_wg & (d->row_wg - 1)) d->row_wg &= d->row_wg - 1;   /* round down to a power of 2 */
    if (d->row_wg > lim->maxComputeWorkGroupSize[0]) d->row_wg = 64;
    const char *mm = getenv("SEA_VK_MATMUL");
    d->matmul_flat = mm ? !strcmp(mm, "flat") : d->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    d->block_size = (VkDeviceSize)64 << 20;
    if (d->block_size > d->max_alloc) d->block_size = d->max_alloc;

    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(p, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    if (nq > 16) nq = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(p, &nq, qf);
    int fam = -1;
    /* Prefer a compute-only family (async compute on discrete GPUs), else any with compute. */
    for (uint32_t i = 0; i < nq && fam < 0; i++)
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) fam = (int)i;
    for (uint32_t i = 0; i < nq && fam < 0; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) fam = (int)i;
    if (fam < 0) {
        st = sea_error(SEA_ERR_DEVICE, "%s: no compute queue family", d->label);
        goto fail;
    }
    d->qfam = (uint32_t)fam;

    const char *exts[4];
    uint32_t n_ext = 0;
    d->push_desc = vk_phys_has_extension(p, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME) && !getenv("SEA_VK_NO_PUSH_DESCRIPTOR");
    if (d->push_desc) exts[n_ext++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = d->qfam,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = n_ext,
                              .ppEnabledExtensionNames = exts};
    st = vk_check(vkCreateDevice(p, &dci, NULL, &d->dev), d, "vkCreateDevice");
    if (st) goto fail;
    vkGetDeviceQueue(d->dev, d->qfam, 0, &d->queue);
    if (d->push_desc) {
        d->cmd_push_desc = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(d->dev, "vkCmdPushDescriptorSetKHR");
        if (!d->cmd_push_desc) d->push_desc = false;
    }

    VkDescriptorSetLayoutBinding b[VK_MAX_BINDINGS];
    for (int i = 0; i < VK_MAX_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = (uint32_t)i,
                                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1,
                                              .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dsl = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .flags = d->push_desc ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
                                           .bindingCount = VK_MAX_BINDINGS,
                                           .pBindings = b};
    st = vk_check(vkCreateDescriptorSetLayout(d->dev, &dsl, NULL, &d->dsl), d, "vkCreateDescriptorSetLayout");
    if (st) goto fail;
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                       .setLayoutCount = 1,
                                       .pSetLayouts = &d->dsl,
                                       .pushConstantRangeCount = 1,
                                       .pPushConstantRanges = &pcr};
    st = vk_check(vkCreatePipelineLayout(d->dev, &plci, NULL, &d->layout), d, "vkCreatePipelineLayout");
    if (st) goto fail;
    VkPipelineCacheCreateInfo pcci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    st = vk_check(vkCreatePipelineCache(d->dev, &pcci, NULL, &d->cache), d, "vkCreatePipelineCache");
    if (st) goto fail;
    st = vk_mem_alloc(d, 256, false, &d->dummy);
    if (st) goto fail;
    return SEA_OK;
fail:
    vk_device_close(dev);
    return st;
}

void vk_device_close(sea_device *dev)
{
    vk_dev *d = dev->ctx;
    if (!d) return;
    if (d->dev) {
        vkDeviceWaitIdle(d->dev);
        for (vk_pipeline *p = d->pipelines, *n; p; p = n) {
            n = p->next;
            vkDestroyPipeline(d->dev, p->pipe, NULL);
            free(p);
        }
        for (int i = 0; i < VK_SHADER_COUNT; i++)
            if (d->modules[i]) vkDestroyShaderModule(d->dev, d->modules[i], NULL);
        vk_mem_destroy_all(d);
        if (d->cache) vkDestroyPipelineCache(d->dev, d->cache, NULL);
        if (d->layout) vkDestroyPipelineLayout(d->dev, d->layout, NULL);
        if (d->dsl) vkDestroyDescriptorSetLayout(d->dev, d->dsl, NULL);
        vkDestroyDevice(d->dev, NULL);
    }
    pthread_mutex_destroy(&d->lock);
    free(d);
    dev->ctx = NULL;
}

/* Look up or build the pipeline for (shader, spec). spec[] are specialization constants
 * 0..3 (0 = use the shader's default for that id). */
sea_status vk_pipeline_get(vk_dev *d, int shader, const uint32_t spec_in[4], VkPipeline *out)
{
    uint32_t spec[4] = {0, 0, 0, 0};
    if (spec_in) memcpy(spec, spec_in, sizeof spec);
    pthread_mutex_lock(&d->lock);
    for (vk_pipeline *p = d->pipelines; p; p = p->next)
        if (p->shader == shader && !memcmp(p->spec, spec, sizeof spec)) {
            *out = p->pipe;
            pthread_mutex_unlock(&d->lock);
            return SEA_OK;
        }
    sea_status st = SEA_OK;
    const vk_shader_code *code = &vk_shader_table[shader];
    if (!d->modules[shader]) {
        VkShaderModuleCreateInfo smci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                         .codeSize = code->size,
                                         .pCode = code->code};
        st = vk_check(vkCreateShaderModule(d->dev, &smci, NULL, &d->modules[shader]), d, "vkCreateShaderModule");
        if (st) goto out;
    }
    VkSpecializationMapEntry me[4];
    uint32_t n_spec = 0, values[4];
    for (uint32_t i = 0; i < 4; i++) {
        if (!spec[i]) continue;
        me[n_spec] = (VkSpecializationMapEntry){.constantID = i, .offset = n_spec * 4, .size = 4};
        values[n_spec++] = spec[i];
    }
    VkSpecializationInfo si = {.mapEntryCount = n_spec, .pMapEntries = me, .dataSize = n_spec * 4, .pData = values};
    VkComputePipelineCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = d->modules[shader],
                  .pName = "main",
                  .pSpecializationInfo = n_spec ? &si : NULL},
        .layout = d->layout,
    };
    VkPipeline pipe;
    char what[96];
    snprintf(what, sizeof what, "vkCreateComputePipelines (shader %s)", code->name);
    st = vk_check(vkCreateComputePipelines(d->dev, d->cache, 1, &cpci, NULL, &pipe), d, what);
    if (st) goto out;
    vk_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        vkDestroyPipeline(d->dev, pipe, NULL);
        st = sea_error(SEA_ERR_OOM, "%s: out of host memory caching a pipeline", d->label);
        goto out;
    }
    p->shader = shader;
    memcpy(p->spec, spec, sizeof spec);
    p->pipe = pipe;
    p->next = d->pipelines;
    d->pipelines = p;
    *out = pipe;
out:
    pthread_mutex_unlock(&d->lock);
    return st;
}
