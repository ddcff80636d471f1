/* Device discovery: hwloc's view of the machine combined with every backend's enumeration.
 *
 * hwloc gives packages, NUMA nodes, cores, caches, the allowed cpuset and PCI devices (GPUs
 * appear by PCI class/vendor even without a driver). Each backend reports its devices with a
 * PCI bus id where it can; matching ids gives locality and lists a physical GPU once even when
 * several APIs see it (the entry keeps the best backend: CUDA > Vulkan > OpenCL).
 * Default choice: CUDA GPU > Vulkan/OpenCL discrete GPU > integrated GPU > CPU. CPU-type
 * OpenCL/Vulkan devices (PoCL, lavapipe) are listed but never chosen by default. */
#ifndef SEA_DISCOVERY_H
#define SEA_DISCOVERY_H

#include <stdbool.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_machine_info {
    char cpu_model[128];
    int packages, numa_nodes, cores, pus;   /* pus = hardware threads in the allowed cpuset */
    size_t l1d, l2, l3;                     /* bytes, per cache instance; 0 = unknown */
    size_t memory_total;                    /* from /proc/meminfo (hwloc's NUMA size can disagree) */
    char cpuset[64];                        /* allowed cpuset, hwloc list syntax ("0-1") */
} sea_machine_info;

typedef struct sea_device_entry {
    char spec[32];               /* "cuda:0", "cpu", ... (what --device accepts) */
    const char *backend;         /* backend name */
    int index;                   /* within the backend */
    sea_device_props props;      /* numa_node / cpuset filled from hwloc when the PCI id matches */
    bool is_default;
    char also_seen_as[64];       /* other APIs that see the same PCI device ("opencl:0") */
} sea_device_entry;

typedef struct sea_gpu_without_driver {
    char pci_bus_id[32];
    char vendor[32];             /* "NVIDIA", "AMD", "Intel", or the hex id */
    char reason[200];            /* "no CUDA driver (libcuda.so.1 not found)" */
} sea_gpu_without_driver;

typedef struct sea_backend_status {
    char name[16];
    int device_count;
    char reason[512];            /* why 0 devices, or "" */
} sea_backend_status;

typedef struct sea_discovery {
    sea_machine_info machine;
    sea_device_entry *devices;   /* (n_devices) */
    int n_devices;
    int default_index;           /* into devices */
    char default_reason[160];
    sea_gpu_without_driver *orphans; /* (n_orphans) GPUs on the PCI bus that no backend drives */
    int n_orphans;
    sea_backend_status backends[8];
    int n_backends;              /* compiled-in or attempted: cpu, cuda, vulkan, opencl */
} sea_discovery;

sea_status sea_discover(sea_discovery **out);
void sea_discovery_free(sea_discovery *d);
/* The spec discovery would choose ("cuda:0", "cpu", ...) into buf. */
sea_status sea_default_device_spec(char *buf, size_t n, char *reason, size_t reason_n);

#ifdef __cplusplus
}
#endif
#endif
