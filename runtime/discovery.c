/* hwloc topology + backend enumeration -> one list of devices and a default choice. */
#include "discovery.h"

#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rank for the default choice; lower is better. CPU-type API devices are never default. */
static int default_rank(const sea_device_entry *e)
{
    bool cpu_backend = !strcmp(e->backend, "cpu");
    if (cpu_backend) return 50;
    if (e->props.kind == SEA_DEVICE_CPU) return 1000; /* PoCL, lavapipe: only when named */
    if (!strcmp(e->backend, "cuda")) return 0;
    if (e->props.kind == SEA_DEVICE_GPU) return !strcmp(e->backend, "vulkan") ? 10 : 11;
    return !strcmp(e->backend, "vulkan") ? 20 : 21; /* integrated */
}

/* Which backend wins when several see the same PCI device. */
static int backend_preference(const char *name)
{
    if (!strcmp(name, "cuda")) return 0;
    if (!strcmp(name, "vulkan")) return 1;
    if (!strcmp(name, "opencl")) return 2;
    return 3;
}

static const char *vendor_name(unsigned vendor, char *buf, size_t n)
{
    switch (vendor) {
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    default: snprintf(buf, n, "vendor 0x%04x", vendor); return buf;
    }
}

static size_t meminfo_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %zu kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

static void cpu_model(char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(buf, n, "unknown CPU");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon += 2;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(buf, n, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

static size_t cache_size(hwloc_topology_t topo, hwloc_obj_type_t type)
{
    hwloc_obj_t o = hwloc_get_obj_by_type(topo, type, 0);
    return o && o->attr ? (size_t)o->attr->cache.size : 0;
}

static void machine_info(hwloc_topology_t topo, sea_machine_info *m)
{
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    m->packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    m->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    m->cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    m->pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    m->l1d = cache_size(topo, HWLOC_OBJ_L1CACHE);
    m->l2 = cache_size(topo, HWLOC_OBJ_L2CACHE);
    m->l3 = cache_size(topo, HWLOC_OBJ_L3CACHE); /* known to be bogus in some VMs */
    m->memory_total = meminfo_total();
    hwloc_bitmap_list_snprintf(m->cpuset, sizeof m->cpuset, hwloc_topology_get_allowed_cpuset(topo));
}

/* "0000:06:00.0" from a hwloc PCI object. */
static void pci_id(hwloc_obj_t o, char *buf, size_t n)
{
    snprintf(buf, n, "%04x:%02x:%02x.%01x", o->attr->pcidev.domain, o->attr->pcidev.bus, o->attr->pcidev.dev,
             o->attr->pcidev.func);
}

static bool pci_equal(const char *a, const char *b)
{
    /* Backends differ in case and in the width of the domain ("00000000:06:00.0" from CUDA). */
    unsigned d1, b1, s1, f1, d2, b2, s2, f2;
    if (sscanf(a, "%x:%x:%x.%x", &d1, &b1, &s1, &f1) != 4) return false;
    if (sscanf(b, "%x:%x:%x.%x", &d2, &b2, &s2, &f2) != 4) return false;
    return d1 == d2 && b1 == b2 && s1 == s2 && f1 == f2;
}

static void fill_locality(hwloc_topology_t topo, hwloc_obj_t pcidev, sea_device_props *p)
{
    hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(topo, pcidev);
    if (!anc) return;
    if (anc->cpuset) hwloc_bitmap_list_snprintf(p->cpuset, sizeof p->cpuset, anc->cpuset);
    if (anc->nodeset) {
        int node = hwloc_bitmap_first(anc->nodeset);
        if (node >= 0) p->numa_node = node;
    }
}

static const char *driverless_reason(unsigned vendor, const sea_discovery *d)
{
    const char *need = vendor == 0x10de ? "cuda" : "vulkan";
    for (int i = 0; i < d->n_backends; i++)
        if (!strcmp(d->backends[i].name, need) && d->backends[i].reason[0]) return d->backends[i].reason;
    return "no backend reports this device";
}

static sea_status add_device(sea_discovery *d, const char *backend, int index, const sea_device_props *props)
{
    sea_device_entry *grown = realloc(d->devices, (size_t)(d->n_devices + 1) * sizeof *grown);
    if (!grown) return sea_error(SEA_ERR_OOM, "discovery: out of host memory");
    d->devices = grown;
    sea_device_entry *e = &d->devices[d->n_devices++];
    memset(e, 0, sizeof *e);
    e->backend = backend;
    e->index = index;
    e->props = *props;
    if (!strcmp(backend, "cpu")) snprintf(e->spec, sizeof e->spec, "cpu");
    else snprintf(e->spec, sizeof e->spec, "%s:%d", backend, index);
    return SEA_OK;
}

/* Merge entries that are the same PCI device; keep the preferred backend's entry. */
static void merge_same_gpu(sea_discovery *d)
{
    for (int i = 0; i < d->n_devices; i++) {
        sea_device_entry *a = &d->devices[i];
        if (!a->props.pci_bus_id[0]) continue;
        for (int j = i + 1; j < d->n_devices; j++) {
            sea_device_entry *b = &d->devices[j];
            if (!b->props.pci_bus_id[0] || !pci_equal(a->props.pci_bus_id, b->props.pci_bus_id)) continue;
            sea_device_entry *keep = backend_preference(a->backend) <= backend_preference(b->backend) ? a : b;
            sea_device_entry *drop = keep == a ? b : a;
            size_t used = strlen(keep->also_seen_as);
            snprintf(keep->also_seen_as + used, sizeof keep->also_seen_as - used, "%s%s", used ? ", " : "", drop->spec);
            if (keep != a) *a = *keep;
            memmove(b, b + 1, (size_t)(d->n_devices - j - 1) * sizeof *b);
            d->n_devices--;
            j--;
        }
    }
}

sea_status sea_discover(sea_discovery **out)
{
    *out = NULL;
    sea_discovery *d = calloc(1, sizeof *d);
    if (!d) return sea_error(SEA_ERR_OOM, "discovery: out of host memory");
    /* Debian's hwloc OpenCL/GL plugins cost time and skip CPU devices; we enumerate ourselves. */
    setenv("HWLOC_COMPONENTS", "-opencl,-gl", 0);
    hwloc_topology_t topo;
    bool have_topo = hwloc_topology_init(&topo) == 0;
    if (have_topo) {
        hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
        if (hwloc_topology_load(topo) != 0) {
            hwloc_topology_destroy(topo);
            have_topo = false;
        }
    }
    if (have_topo) machine_info(topo, &d->machine);
    else cpu_model(d->machine.cpu_model, sizeof d->machine.cpu_model);

    sea_status st = SEA_OK;
    for (int b = 0; b < sea_backend_count() && !st; b++) {
        const struct sea_backend_ops *ops = sea_backend_get(b);
        sea_backend_status *bs = &d->backends[d->n_backends++];
        snprintf(bs->name, sizeof bs->name, "%s", ops->name);
        bs->device_count = ops->device_count();
        if (bs->device_count == 0 && ops->unavailable_reason && ops->unavailable_reason())
            snprintf(bs->reason, sizeof bs->reason, "%s", ops->unavailable_reason());
        for (int i = 0; i < bs->device_count && !st; i++) {
            sea_device_props p;
            memset(&p, 0, sizeof p);
            p.numa_node = -1;
            if (ops->device_props(i, &p)) continue;
            if (!strcmp(ops->name, "cpu") && have_topo) {
                snprintf(p.cpuset, sizeof p.cpuset, "%s", d->machine.cpuset);
                if (d->machine.numa_nodes == 1) p.numa_node = 0;
            }
            st = add_device(d, ops->name, i, &p);
        }
    }
    static const char *const modules[] = {"cuda", "vulkan", "opencl"};
    for (size_t m = 0; m < 3 && d->n_backends < 8; m++) {
        const char *why = sea_backend_module_error(modules[m]);
        if (!why) continue;
        sea_backend_status *bs = &d->backends[d->n_backends++];
        snprintf(bs->name, sizeof bs->name, "%s", modules[m]);
        snprintf(bs->reason, sizeof bs->reason, "%s", why);
    }
    merge_same_gpu(d);

    /* Locality and GPUs nobody drives, from hwloc's PCI objects (class 0x03xx = display, 0x12 = accelerators). */
    if (have_topo) {
        for (hwloc_obj_t o = hwloc_get_next_pcidev(topo, NULL); o; o = hwloc_get_next_pcidev(topo, o)) {
            unsigned cls = o->attr->pcidev.class_id >> 8;
            if (cls != 0x03 && cls != 0x12) continue;
            char id[32];
            pci_id(o, id, sizeof id);
            bool driven = false;
            for (int i = 0; i < d->n_devices; i++)
                if (d->devices[i].props.pci_bus_id[0] && pci_equal(d->devices[i].props.pci_bus_id, id)) {
                    fill_locality(topo, o, &d->devices[i].props);
                    driven = true;
                }
            if (driven) continue;
            sea_gpu_without_driver *g = realloc(d->orphans, (size_t)(d->n_orphans + 1) * sizeof *g);
            if (!g) break;
            d->orphans = g;
            g = &d->orphans[d->n_orphans++];
            char vb[32];
            snprintf(g->pci_bus_id, sizeof g->pci_bus_id, "%s", id);
            snprintf(g->vendor, sizeof g->vendor, "%s", vendor_name(o->attr->pcidev.vendor_id, vb, sizeof vb));
            snprintf(g->reason, sizeof g->reason, "%s", driverless_reason(o->attr->pcidev.vendor_id, d));
        }
        hwloc_topology_destroy(topo);
    }
    if (st) {
        sea_discovery_free(d);
        return st;
    }

    d->default_index = 0;
    for (int i = 1; i < d->n_devices; i++)
        if (default_rank(&d->devices[i]) < default_rank(&d->devices[d->default_index])) d->default_index = i;
    if (d->n_devices > 0) {
        sea_device_entry *e = &d->devices[d->default_index];
        e->is_default = true;
        int r = default_rank(e);
        snprintf(d->default_reason, sizeof d->default_reason, "%s",
                 r == 0    ? "CUDA GPU (preferred over every other backend)"
                 : r < 20  ? "discrete GPU (no CUDA device present)"
                 : r < 50  ? "integrated GPU (no discrete GPU present)"
                           : "no usable GPU found: the CPU backend");
    }
    *out = d;
    return SEA_OK;
}

void sea_discovery_free(sea_discovery *d)
{
    if (!d) return;
    free(d->devices);
    free(d->orphans);
    free(d);
}

sea_status sea_default_device_spec(char *buf, size_t n, char *reason, size_t reason_n)
{
    sea_discovery *d;
    SEA_TRY(sea_discover(&d));
    if (d->n_devices == 0) {
        sea_discovery_free(d);
        return sea_error(SEA_ERR_DEVICE, "no devices found (not even the CPU backend)");
    }
    snprintf(buf, n, "%s", d->devices[d->default_index].spec);
    if (reason) snprintf(reason, reason_n, "%s", d->default_reason);
    sea_discovery_free(d);
    return SEA_OK;
}
