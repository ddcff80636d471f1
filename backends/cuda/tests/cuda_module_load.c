/* The module must dlopen() on any machine, and then either report devices whose properties
 * can be read, or report 0 devices with a reason (no driver, no GPU). Never crash. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cuda_module_load PATH/sea-cuda.so\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
        return 1;
    }
    sea_backend_module_entry_fn entry = (sea_backend_module_entry_fn)dlsym(h, SEA_BACKEND_MODULE_ENTRY);
    if (!entry) {
        fprintf(stderr, "%s: no %s\n", argv[1], SEA_BACKEND_MODULE_ENTRY);
        return 1;
    }
    const struct sea_backend_ops *ops = entry();
    if (!ops || !ops->name || strcmp(ops->name, "cuda") != 0 || !ops->device_count || !ops->op_forward ||
        !ops->op_backward || !ops->buffer_alloc || !ops->stream_create) {
        fprintf(stderr, "%s: incomplete backend table\n", argv[1]);
        return 1;
    }
    int n = ops->device_count();
    if (n != ops->device_count()) {
        fprintf(stderr, "device_count not stable\n");
        return 1;
    }
    if (n == 0) {
        const char *why = ops->unavailable_reason ? ops->unavailable_reason() : NULL;
        if (!why || !why[0]) {
            fprintf(stderr, "0 devices but no reason given\n");
            return 1;
        }
        printf("cuda: 0 devices: %s\n", why);
        return 0;
    }
    if (ops->unavailable_reason && ops->unavailable_reason()) {
        fprintf(stderr, "%d devices yet a reason: %s\n", n, ops->unavailable_reason());
        return 1;
    }
    for (int i = 0; i < n; i++) {
        sea_device_props p;
        memset(&p, 0, sizeof p);
        if (ops->device_props(i, &p)) {
            fprintf(stderr, "device_props(%d): %s\n", i, sea_last_error());
            return 1;
        }
        if (!p.name[0] || p.mem_total == 0 || p.compute_units <= 0 || p.subgroup_size != 32) {
            fprintf(stderr, "device %d: implausible props (name '%s', mem %zu, SMs %d, warp %d)\n", i, p.name,
                    p.mem_total, p.compute_units, p.subgroup_size);
            return 1;
        }
        printf("cuda:%d %s, %.1f GiB, %d SMs, pci %s, %s\n", i, p.name, p.mem_total / 1073741824.0, p.compute_units,
               p.pci_bus_id, p.driver);
    }
    if (ops->device_props(n, &(sea_device_props){0}) == SEA_OK) {
        fprintf(stderr, "device_props(%d) accepted an index out of range\n", n);
        return 1;
    }
    return 0;
}
