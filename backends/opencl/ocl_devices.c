/* Device enumeration: every device of every OpenCL platform, listed once at first use.
 * No ICD, no platform or a failing driver means 0 devices with a reason, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"

#define OCL_MAX_DEVICES 32

/* cl_khr_pci_bus_info and the vendor topology queries, declared here because older
 * headers lack them. */
#ifndef CL_DEVICE_PCI_BUS_INFO_KHR
#define CL_DEVICE_PCI_BUS_INFO_KHR 0x410F
typedef struct _cl_device_pci_bus_info_khr {
    cl_uint pci_domain, pci_bus, pci_device, pci_function;
} cl_device_pci_bus_info_khr;
#endif
#define OCL_DEVICE_TOPOLOGY_AMD 0x4037
#define OCL_DEVICE_PCI_BUS_ID_NV 0x4008
#define OCL_DEVICE_PCI_SLOT_ID_NV 0x4009
#define OCL_DEVICE_PCI_DOMAIN_ID_NV 0x400A

typedef struct ocl_entry {
    cl_platform_id platform;
    cl_device_id device;
    sea_device_props props;
} ocl_entry;

static ocl_entry entries[OCL_MAX_DEVICES];
static int n_entries;
static char reason[256];
static pthread_once_t enum_once = PTHREAD_ONCE_INIT;

static bool has_extension(const char *exts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = exts; (p = strstr(p, name)) != NULL; p += n)
        if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

static void pci_bus_id(cl_device_id dev, const char *exts, char *out, size_t n)
{
    out[0] = '\0';
    if (has_extension(exts, "cl_khr_pci_bus_info")) {
        cl_device_pci_bus_info_khr info;
        if (clGetDeviceInfo(dev, CL_DEVICE_PCI_BUS_INFO_KHR, sizeof info, &info, NULL) == CL_SUCCESS) {
            snprintf(out, n, "%04x:%02x:%02x.%x", info.pci_domain, info.pci_bus, info.pci_device, info.pci_function);
            return;
        }
    }
    if (has_extension(exts, "cl_amd_device_attribute_query")) {
        /* cl_device_topology_amd: type 1 = PCIe, then bus, device, function bytes. */
        union {
            struct { cl_uint type, data[5]; } raw;
            struct { cl_uint type; cl_char unused[17]; cl_char bus, device, function; } pcie;
        } topo;
        if (clGetDeviceInfo(dev, OCL_DEVICE_TOPOLOGY_AMD, sizeof topo, &topo, NULL) == CL_SUCCESS && topo.raw.type == 1) {
            snprintf(out, n, "0000:%02x:%02x.%x", (unsigned char)topo.pcie.bus, (unsigned char)topo.pcie.device,
                     (unsigned char)topo.pcie.function);
            return;
        }
    }
    if (has_extension(exts, "cl_nv_device_attribute_query")) {
        cl_uint bus = 0, slot = 0, domain = 0;
        if (clGetDeviceInfo(dev, OCL_DEVICE_PCI_BUS_ID_NV, sizeof bus, &bus, NULL) == CL_SUCCESS &&
            clGetDeviceInfo(dev, OCL_DEVICE_PCI_SLOT_ID_NV, sizeof slot, &slot, NULL) == CL_SUCCESS) {
            clGetDeviceInfo(dev, OCL_DEVICE_PCI_DOMAIN_ID_NV, sizeof domain, &domain, NULL);
            /* NVIDIA packs device and function into the slot id as device << 3 | function. */
            snprintf(out, n, "%04x:%02x:%02x.%x", domain, bus, slot >> 3, slot & 7);
        }
    }
}

static void fill_props(cl_platform_id plat, cl_device_id dev, sea_device_props *p)
{
    memset(p, 0, sizeof *p);
    p->numa_node = -1;
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof p->name - 1, p->name, NULL);
    cl_device_type type = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    cl_bool unified = CL_FALSE;
    clGetDeviceInfo(dev, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    if (type & CL_DEVICE_TYPE_CPU) p->kind = SEA_DEVICE_CPU;
    else if (type & CL_DEVICE_TYPE_GPU) p->kind = unified ? SEA_DEVICE_IGPU : SEA_DEVICE_GPU;
    else p->kind = SEA_DEVICE_GPU; /* accelerators: schedule like a discrete device */
    cl_ulong mem = 0, max_alloc = 0;
    clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    p->mem_total = (size_t)mem;
    p->max_buffer_size = (size_t)max_alloc;
    cl_uint cu = 0;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    p->compute_units = (int)cu;
    char drv[48] = "", ver[64] = "";
    clGetDeviceInfo(dev, CL_DRIVER_VERSION, sizeof drv - 1, drv, NULL);
    clGetPlatformInfo(plat, CL_PLATFORM_VERSION, sizeof ver - 1, ver, NULL);
    if (snprintf(p->driver, sizeof p->driver, "%s (%.40s)", drv, ver) >= (int)sizeof p->driver) {
        /* cut: the label is for people, the start says enough */
    }

    size_t ext_n = 0;
    clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_n);
    char *exts = calloc(1, ext_n + 1);
    if (exts) {
        clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, ext_n, exts, NULL);
        p->fp16 = has_extension(exts, "cl_khr_fp16");
        pci_bus_id(dev, exts, p->pci_bus_id, sizeof p->pci_bus_id);
        if (has_extension(exts, "cl_nv_device_attribute_query")) {
            cl_uint warp = 0;
            if (clGetDeviceInfo(dev, 0x4003 /* CL_DEVICE_WARP_SIZE_NV */, sizeof warp, &warp, NULL) == CL_SUCCESS)
                p->subgroup_size = (int)warp;
        } else if (has_extension(exts, "cl_amd_device_attribute_query")) {
            cl_uint wave = 0;
            if (clGetDeviceInfo(dev, 0x4043 /* CL_DEVICE_WAVEFRONT_WIDTH_AMD */, sizeof wave, &wave, NULL) == CL_SUCCESS)
                p->subgroup_size = (int)wave;
        }
        free(exts);
    }
    p->bf16 = false; /* bf16 is a storage format here; arithmetic is f32 */
}

static void enumerate(void)
{
    cl_uint n_plat = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &n_plat);
    if (err != CL_SUCCESS || n_plat == 0) {
        /* -1001 is CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no vendor driver. */
        snprintf(reason, sizeof reason, "no OpenCL platform (clGetPlatformIDs: %s%s)", ocl_error_name(err),
                 err == -1001 || n_plat == 0 ? "; no ICD installed in /etc/OpenCL/vendors?" : "");
        return;
    }
    cl_platform_id plats[16];
    if (n_plat > 16) n_plat = 16;
    if ((err = clGetPlatformIDs(n_plat, plats, NULL)) != CL_SUCCESS) {
        snprintf(reason, sizeof reason, "clGetPlatformIDs: %s", ocl_error_name(err));
        return;
    }
    for (cl_uint i = 0; i < n_plat && n_entries < OCL_MAX_DEVICES; i++) {
        cl_uint n_dev = 0;
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, 0, NULL, &n_dev) != CL_SUCCESS || n_dev == 0) continue;
        cl_device_id devs[OCL_MAX_DEVICES];
        if (n_dev > OCL_MAX_DEVICES) n_dev = OCL_MAX_DEVICES;
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, n_dev, devs, NULL) != CL_SUCCESS) continue;
        for (cl_uint j = 0; j < n_dev && n_entries < OCL_MAX_DEVICES; j++) {
            cl_bool avail = CL_FALSE, compiler = CL_FALSE;
            clGetDeviceInfo(devs[j], CL_DEVICE_AVAILABLE, sizeof avail, &avail, NULL);
            clGetDeviceInfo(devs[j], CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
            if (!avail || !compiler) continue; /* our kernels are compiled from source */
            ocl_entry *e = &entries[n_entries++];
            e->platform = plats[i];
            e->device = devs[j];
            fill_props(plats[i], devs[j], &e->props);
        }
    }
    if (n_entries == 0)
        snprintf(reason, sizeof reason, "%u OpenCL platform%s but no available device with a compiler", n_plat,
                 n_plat == 1 ? "" : "s");
}

int ocl_device_count(void)
{
    pthread_once(&enum_once, enumerate);
    return n_entries;
}

const char *ocl_unavailable_reason(void)
{
    pthread_once(&enum_once, enumerate);
    return n_entries ? NULL : reason;
}

sea_status ocl_device_props(int index, sea_device_props *out)
{
    if (index < 0 || index >= ocl_device_count())
        return sea_error(SEA_ERR_DEVICE, "opencl: no device %d (%d present)", index, ocl_device_count());
    *out = entries[index].props;
    /* Free memory is not queryable in core OpenCL; leave it unknown. */
    return SEA_OK;
}

sea_status ocl_device_ids(int index, cl_platform_id *platform, cl_device_id *device)
{
    if (index < 0 || index >= ocl_device_count())
        return sea_error(SEA_ERR_DEVICE, "opencl: no device %d (%d present)", index, ocl_device_count());
    *platform = entries[index].platform;
    *device = entries[index].device;
    return SEA_OK;
}
