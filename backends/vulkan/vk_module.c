/* The module entry point, the VkInstance and physical-device enumeration.
 *
 * Enumeration happens once per process. A missing driver (vkCreateInstance ->
 * VK_ERROR_INCOMPATIBLE_DRIVER) or a loader without devices means "0 devices" with the
 * reason kept for unavailable_reason(); nothing here aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define VK_MAX_PHYS 16

static pthread_once_t enum_once = PTHREAD_ONCE_INIT;
static VkInstance instance;
static VkPhysicalDevice phys[VK_MAX_PHYS];
static int n_phys;
static char reason[256];

const char *vk_result_name(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult(other)";
    }
}

sea_status vk_check(VkResult r, const vk_dev *d, const char *what)
{
    if (r == VK_SUCCESS) return SEA_OK;
    const char *who = d ? d->label : "vulkan";
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return sea_error(SEA_ERR_OOM, "%s: %s failed: %s", who, what, vk_result_name(r));
    if (r == VK_ERROR_DEVICE_LOST)
        return sea_error(SEA_ERR_DEVICE, "%s: %s failed: device lost (VK_ERROR_DEVICE_LOST)", who, what);
    return sea_error(SEA_ERR_DEVICE, "%s: %s failed: %s (%d)", who, what, vk_result_name(r), (int)r);
}

static void enumerate(void)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "sea",
        .pEngineName = "sea",
        .apiVersion = VK_API_VERSION_1_1,
    };
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkResult r = vkCreateInstance(&ici, NULL, &instance);
    if (r != VK_SUCCESS) {
        instance = VK_NULL_HANDLE;
        if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
            snprintf(reason, sizeof reason, "no Vulkan driver (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)");
        else
            snprintf(reason, sizeof reason, "vkCreateInstance failed: %s", vk_result_name(r));
        return;
    }
    uint32_t n = 0;
    r = vkEnumeratePhysicalDevices(instance, &n, NULL);
    if (r != VK_SUCCESS) {
        snprintf(reason, sizeof reason, "vkEnumeratePhysicalDevices failed: %s", vk_result_name(r));
        return;
    }
    if (n > VK_MAX_PHYS) n = VK_MAX_PHYS;
    r = vkEnumeratePhysicalDevices(instance, &n, phys);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        snprintf(reason, sizeof reason, "vkEnumeratePhysicalDevices failed: %s", vk_result_name(r));
        return;
    }
    /* Keep only devices with a compute queue and Vulkan >= 1.1 (subgroup properties). */
    int kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(phys[i], &p);
        uint32_t nq = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(phys[i], &nq, NULL);
        VkQueueFamilyProperties q[16];
        if (nq > 16) nq = 16;
        vkGetPhysicalDeviceQueueFamilyProperties(phys[i], &nq, q);
        bool compute = false;
        for (uint32_t j = 0; j < nq; j++) compute |= (q[j].queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
        if (compute && p.apiVersion >= VK_API_VERSION_1_1) phys[kept++] = phys[i];
    }
    n_phys = kept;
    if (n == 0) snprintf(reason, sizeof reason, "Vulkan loader found no physical devices");
    else if (kept == 0) snprintf(reason, sizeof reason, "no Vulkan 1.1 device with a compute queue");
}

VkInstance vk_instance(void)
{
    pthread_once(&enum_once, enumerate);
    return instance;
}

VkPhysicalDevice vk_physical(int index)
{
    pthread_once(&enum_once, enumerate);
    return index >= 0 && index < n_phys ? phys[index] : VK_NULL_HANDLE;
}

static int vk_device_count(void)
{
    pthread_once(&enum_once, enumerate);
    return n_phys;
}

static const char *vk_unavailable_reason(void)
{
    pthread_once(&enum_once, enumerate);
    return n_phys ? NULL : reason;
}

static bool has_extension(VkPhysicalDevice p, const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(p, NULL, &n, NULL) != VK_SUCCESS) return false;
    VkExtensionProperties *e = calloc(n ? n : 1, sizeof *e);
    if (!e) return false;
    bool found = false;
    if (vkEnumerateDeviceExtensionProperties(p, NULL, &n, e) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

bool vk_phys_has_extension(VkPhysicalDevice p, const char *name) { return has_extension(p, name); }

static sea_status vk_device_props(int index, sea_device_props *out)
{
    VkPhysicalDevice p = vk_physical(index);
    if (!p) return sea_error(SEA_ERR_DEVICE, "vulkan:%d: no such device (%d found)", index, n_phys);
    memset(out, 0, sizeof *out);
    out->numa_node = -1;

    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDevicePCIBusInfoPropertiesEXT pci = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
    bool has_pci = has_extension(p, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    m3.pNext = &sub;
    if (has_pci) sub.pNext = &pci;
    vkGetPhysicalDeviceProperties2(p, &p2);
    const VkPhysicalDeviceProperties *pp = &p2.properties;

    snprintf(out->name, sizeof out->name, "%.*s", (int)sizeof out->name - 1, pp->deviceName);
    switch (pp->deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: out->kind = SEA_DEVICE_GPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: out->kind = SEA_DEVICE_IGPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: out->kind = SEA_DEVICE_GPU; break;
    default: out->kind = SEA_DEVICE_CPU; break;
    }
    if (has_pci)
        snprintf(out->pci_bus_id, sizeof out->pci_bus_id, "%04x:%02x:%02x.%x", pci.pciDomain, pci.pciBus, pci.pciDevice,
                 pci.pciFunction);

    /* Memory: device-local heaps; the budget extension gives what is free now. */
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    bool has_budget = has_extension(p, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    VkPhysicalDeviceMemoryProperties2 m2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                            .pNext = has_budget ? &budget : NULL};
    vkGetPhysicalDeviceMemoryProperties2(p, &m2);
    for (uint32_t h = 0; h < m2.memoryProperties.memoryHeapCount; h++) {
        if (!(m2.memoryProperties.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)) continue;
        out->mem_total += m2.memoryProperties.memoryHeaps[h].size;
        if (has_budget && budget.heapBudget[h] > budget.heapUsage[h])
            out->mem_free += budget.heapBudget[h] - budget.heapUsage[h];
    }

    VkPhysicalDeviceShaderFloat16Int8Features f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f16};
    if (pp->apiVersion >= VK_API_VERSION_1_2 || has_extension(p, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME))
        vkGetPhysicalDeviceFeatures2(p, &f2);
    out->fp16 = f16.shaderFloat16;
    out->bf16 = false;   /* bf16 arithmetic needs VK_KHR_shader_bfloat16; we store bf16 only */
    out->subgroup_size = (int)sub.subgroupSize;
    /* The largest single allocation (a buffer may exceed one binding's range: ops bind each
     * tensor as its own range and split what is larger, see vk_dispatch.c / vk_split.c). */
    out->max_buffer_size = m3.maxMemoryAllocationSize;
    out->compute_units = 0;
    uint32_t v = pp->driverVersion;
    if (pp->vendorID == 0x10de) /* NVIDIA packs 10.8.8.6 */
        snprintf(out->driver, sizeof out->driver, "%u.%u.%u (Vulkan %u.%u)", v >> 22, (v >> 14) & 0xff, (v >> 6) & 0xff,
                 VK_API_VERSION_MAJOR(pp->apiVersion), VK_API_VERSION_MINOR(pp->apiVersion));
    else
        snprintf(out->driver, sizeof out->driver, "%u.%u.%u (Vulkan %u.%u)", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
                 VK_API_VERSION_PATCH(v), VK_API_VERSION_MAJOR(pp->apiVersion), VK_API_VERSION_MINOR(pp->apiVersion));
    return SEA_OK;
}

static const struct sea_backend_ops vk_ops = {
    .name = "vulkan",
    .device_count = vk_device_count,
    .unavailable_reason = vk_unavailable_reason,
    .device_props = vk_device_props,
    .device_open = vk_device_open,
    .device_close = vk_device_close,
    .stream_create = vk_stream_create,
    .stream_destroy = vk_stream_destroy,
    .stream_sync = vk_stream_sync,
    .buffer_alloc = vk_buffer_alloc,
    .buffer_free = vk_buffer_free,
    .memory_stats = vk_memory_stats,
    .buffer_write = vk_buffer_write,
    .buffer_read = vk_buffer_read,
    .supports = vk_supports,
    .op_forward = vk_op_forward,
    .op_backward = vk_op_backward,
};

__attribute__((visibility("default"))) const struct sea_backend_ops *sea_backend_module_entry(void) { return &vk_ops; }
