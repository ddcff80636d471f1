/* sea devices [--json]: the machine (hwloc) and every device each backend sees. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "runtime/discovery.h"

static const char *kind_name(sea_device_kind k)
{
    switch (k) {
    case SEA_DEVICE_CPU: return "cpu";
    case SEA_DEVICE_GPU: return "gpu";
    case SEA_DEVICE_IGPU: return "igpu";
    }
    return "?";
}

static void human_bytes(size_t b, char *buf, size_t n)
{
    if (!b) snprintf(buf, n, "-");
    else if (b >= (1ull << 30)) snprintf(buf, n, "%.1f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(buf, n, "%.1f MiB", (double)b / (1ull << 20));
    else snprintf(buf, n, "%.0f KiB", (double)b / 1024);
}

static void print_table(const sea_discovery *d)
{
    const sea_machine_info *m = &d->machine;
    char mem[32], l2[32], l3[32];
    human_bytes(m->memory_total, mem, sizeof mem);
    human_bytes(m->l2, l2, sizeof l2);
    human_bytes(m->l3, l3, sizeof l3);
    printf("machine: %s; %d package%s, %d NUMA node%s, %d cores, %d hardware threads (cpuset %s); memory %s; L2 %s, L3 %s\n\n",
           m->cpu_model, m->packages, m->packages == 1 ? "" : "s", m->numa_nodes, m->numa_nodes == 1 ? "" : "s", m->cores,
           m->pus, m->cpuset[0] ? m->cpuset : "?", mem, l2, l3);
    printf("  %-10s %-4s %-40s %-10s %-14s %-5s %-8s %s\n", "DEVICE", "KIND", "NAME", "MEMORY", "PCI", "NUMA", "CPUS", "");
    for (int i = 0; i < d->n_devices; i++) {
        const sea_device_entry *e = &d->devices[i];
        char memb[32], numa[16];
        human_bytes(e->props.mem_total, memb, sizeof memb);
        if (e->props.numa_node >= 0) snprintf(numa, sizeof numa, "%d", e->props.numa_node);
        else snprintf(numa, sizeof numa, "-");
        char note[128] = "";
        if (e->is_default) snprintf(note, sizeof note, "<- default");
        else if (e->props.kind == SEA_DEVICE_CPU && strcmp(e->backend, "cpu"))
            snprintf(note, sizeof note, "(CPU-type device: used only when named)");
        printf("%s %-10s %-4s %-40.40s %-10s %-14s %-5s %-8s %s\n", e->is_default ? "*" : " ", e->spec,
               kind_name(e->props.kind), e->props.name, memb, e->props.pci_bus_id[0] ? e->props.pci_bus_id : "-", numa,
               e->props.cpuset[0] ? e->props.cpuset : "-", note);
        if (e->also_seen_as[0]) printf("  %-10s also seen as %s\n", "", e->also_seen_as);
    }
    printf("\ndefault: %s (%s); override with --device SPEC or SEA_DEVICE\n",
           d->n_devices ? d->devices[d->default_index].spec : "none", d->default_reason);
    for (int i = 0; i < d->n_backends; i++)
        if (d->backends[i].device_count == 0 && d->backends[i].reason[0])
            printf("backend %-7s 0 devices: %s\n", d->backends[i].name, d->backends[i].reason);
    for (int i = 0; i < d->n_orphans; i++)
        printf("GPU without a usable driver: %s at %s: %s\n", d->orphans[i].vendor, d->orphans[i].pci_bus_id,
               d->orphans[i].reason);
}

static cJSON *to_json(const sea_discovery *d)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(root, "machine");
    cJSON_AddStringToObject(m, "cpu_model", d->machine.cpu_model);
    cJSON_AddNumberToObject(m, "packages", d->machine.packages);
    cJSON_AddNumberToObject(m, "numa_nodes", d->machine.numa_nodes);
    cJSON_AddNumberToObject(m, "cores", d->machine.cores);
    cJSON_AddNumberToObject(m, "hardware_threads", d->machine.pus);
    cJSON_AddStringToObject(m, "cpuset", d->machine.cpuset);
    cJSON_AddNumberToObject(m, "memory_bytes", (double)d->machine.memory_total);
    cJSON_AddNumberToObject(m, "l1d_bytes", (double)d->machine.l1d);
    cJSON_AddNumberToObject(m, "l2_bytes", (double)d->machine.l2);
    cJSON_AddNumberToObject(m, "l3_bytes", (double)d->machine.l3);
    cJSON *devs = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < d->n_devices; i++) {
        const sea_device_entry *e = &d->devices[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "spec", e->spec);
        cJSON_AddStringToObject(o, "backend", e->backend);
        cJSON_AddNumberToObject(o, "index", e->index);
        cJSON_AddStringToObject(o, "name", e->props.name);
        cJSON_AddStringToObject(o, "kind", kind_name(e->props.kind));
        cJSON_AddNumberToObject(o, "memory_total", (double)e->props.mem_total);
        cJSON_AddNumberToObject(o, "memory_free", (double)e->props.mem_free);
        cJSON_AddStringToObject(o, "pci_bus_id", e->props.pci_bus_id);
        cJSON_AddNumberToObject(o, "numa_node", e->props.numa_node);
        cJSON_AddStringToObject(o, "cpuset", e->props.cpuset);
        cJSON_AddBoolToObject(o, "fp16", e->props.fp16);
        cJSON_AddBoolToObject(o, "bf16", e->props.bf16);
        cJSON_AddNumberToObject(o, "subgroup_size", e->props.subgroup_size);
        cJSON_AddNumberToObject(o, "max_buffer_size", (double)e->props.max_buffer_size);
        cJSON_AddNumberToObject(o, "compute_units", e->props.compute_units);
        cJSON_AddStringToObject(o, "driver", e->props.driver);
        cJSON_AddStringToObject(o, "also_seen_as", e->also_seen_as);
        cJSON_AddBoolToObject(o, "default", e->is_default);
        cJSON_AddItemToArray(devs, o);
    }
    cJSON_AddStringToObject(root, "default", d->n_devices ? d->devices[d->default_index].spec : "");
    cJSON_AddStringToObject(root, "default_reason", d->default_reason);
    cJSON *bs = cJSON_AddArrayToObject(root, "backends");
    for (int i = 0; i < d->n_backends; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", d->backends[i].name);
        cJSON_AddNumberToObject(o, "devices", d->backends[i].device_count);
        cJSON_AddStringToObject(o, "reason", d->backends[i].reason);
        cJSON_AddItemToArray(bs, o);
    }
    cJSON *orph = cJSON_AddArrayToObject(root, "gpus_without_driver");
    for (int i = 0; i < d->n_orphans; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "pci_bus_id", d->orphans[i].pci_bus_id);
        cJSON_AddStringToObject(o, "vendor", d->orphans[i].vendor);
        cJSON_AddStringToObject(o, "reason", d->orphans[i].reason);
        cJSON_AddItemToArray(orph, o);
    }
    return root;
}

int sea_cmd_devices(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: sea devices [--json]\n\nLists the machine (hwloc) and every device of every backend, marks the\n"
                   "default and says why; GPUs on the PCI bus without a usable driver are listed with the reason.\n");
            return 0;
        } else {
            fprintf(stderr, "sea devices: unknown option '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    sea_discovery *d;
    if (sea_discover(&d)) {
        fprintf(stderr, "sea devices: %s\n", sea_last_error());
        return 1;
    }
    if (json) {
        cJSON *root = to_json(d);
        char *text = cJSON_Print(root);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(root);
    } else {
        print_table(d);
    }
    sea_discovery_free(d);
    return 0;
}
