/* The backend registry: the CPU backend (linked in) plus GPU backend modules found next to
 * libsea and loaded with dlopen. A module that is absent or fails to load is remembered with
 * the reason, so `sea devices` can say why a backend has no devices. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "backends/cpu/cpu_backend.h"

#define MAX_BACKENDS 8

static const char *const module_names[] = {"cuda", "vulkan", "opencl"};
#define N_MODULES (sizeof module_names / sizeof module_names[0])

static const struct sea_backend_ops *backends[MAX_BACKENDS];
static int n_backends;
static char module_errors[N_MODULES][PATH_MAX + 640];
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

/* Directory holding libsea.so (the build dir, or the install libdir). */
static void libsea_dir(char *dir, size_t n)
{
    Dl_info info;
    dir[0] = '\0';
    if (dladdr((void *)&sea_backend_count, &info) && info.dli_fname) {
        snprintf(dir, n, "%s", info.dli_fname);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else snprintf(dir, n, ".");
    }
}

static void *open_module(const char *name, char *err, size_t errn)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    const char *env = getenv("SEA_BACKEND_PATH");
    const char *candidates[3];
    char c0[PATH_MAX + 64], c1[PATH_MAX + 64], c2[PATH_MAX + 64];
    libsea_dir(dir, sizeof dir);
    snprintf(c0, sizeof c0, "%s/sea-%s.so", env ? env : "", name);
    snprintf(c1, sizeof c1, "%s/backends/%s/sea-%s.so", dir, name, name);
    snprintf(c2, sizeof c2, "%s/sea/sea-%s.so", dir, name);
    candidates[0] = env ? c0 : NULL;
    candidates[1] = c1;
    candidates[2] = c2;
    err[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (!candidates[i]) continue;
        snprintf(path, sizeof path, "%s", candidates[i]);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fclose(f);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
        const char *why = dlerror();
        snprintf(err, errn, "module %.*s failed to load: %.400s", (int)(errn / 2), path, why ? why : "unknown error");
        return NULL;
    }
    snprintf(err, errn, "module sea-%s.so not built (looked in %s/backends/%s)", name, dir, name);
    return NULL;
}

static void registry_init(void)
{
    backends[n_backends++] = sea_cpu_backend();
    if (getenv("SEA_NO_MODULES")) {
        for (size_t i = 0; i < N_MODULES; i++) snprintf(module_errors[i], sizeof module_errors[i], "disabled by SEA_NO_MODULES");
        return;
    }
    for (size_t i = 0; i < N_MODULES; i++) {
        void *h = open_module(module_names[i], module_errors[i], sizeof module_errors[i]);
        if (!h) continue;
        sea_backend_module_entry_fn entry;
        *(void **)&entry = dlsym(h, SEA_BACKEND_MODULE_ENTRY);
        const struct sea_backend_ops *ops = entry ? entry() : NULL;
        if (!ops) {
            snprintf(module_errors[i], sizeof module_errors[i], "module sea-%s.so has no usable %s", module_names[i],
                     SEA_BACKEND_MODULE_ENTRY);
            dlclose(h);
            continue;
        }
        if (n_backends < MAX_BACKENDS) backends[n_backends++] = ops;
    }
}

int sea_backend_count(void)
{
    pthread_once(&registry_once, registry_init);
    return n_backends;
}

const struct sea_backend_ops *sea_backend_get(int i)
{
    pthread_once(&registry_once, registry_init);
    return i >= 0 && i < n_backends ? backends[i] : NULL;
}

const struct sea_backend_ops *sea_backend_find(const char *name)
{
    pthread_once(&registry_once, registry_init);
    for (int i = 0; i < n_backends; i++)
        if (!strcmp(backends[i]->name, name)) return backends[i];
    return NULL;
}

const char *sea_backend_module_error(const char *name)
{
    pthread_once(&registry_once, registry_init);
    for (size_t i = 0; i < N_MODULES; i++)
        if (!strcmp(module_names[i], name)) return module_errors[i][0] ? module_errors[i] : NULL;
    return NULL;
}
