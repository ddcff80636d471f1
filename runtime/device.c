/* Opening devices by spec ("cpu", "cuda:0", ...) and their default streams. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "discovery.h"

static _Thread_local char label_buf[4][192];
static _Thread_local int label_next;

const char *sea_device_label(const sea_device *dev)
{
    if (!dev) return "(no device)";
    char *b = label_buf[label_next++ & 3];
    if (!strcmp(dev->backend->name, "cpu"))
        snprintf(b, sizeof label_buf[0], "cpu (%s)", dev->props.name);
    else
        snprintf(b, sizeof label_buf[0], "%s:%d (%s)", dev->backend->name, dev->index, dev->props.name);
    return b;
}

static sea_status parse_spec(const char *spec, char *name, size_t n, int *index)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len == 0 || len >= n) return sea_error(SEA_ERR_DEVICE, "device '%s': expected BACKEND[:INDEX] (cpu, cuda:0, vulkan:1, opencl:0)", spec);
    memcpy(name, spec, len);
    name[len] = '\0';
    *index = 0;
    if (colon) {
        char *end;
        errno = 0;
        long v = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || v < 0 || v > 1000)
            return sea_error(SEA_ERR_DEVICE, "device '%s': index must be a non-negative integer", spec);
        *index = (int)v;
    }
    return SEA_OK;
}

static void list_backends(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < sea_backend_count() && used < n; i++) {
        const struct sea_backend_ops *b = sea_backend_get(i);
        used += (size_t)snprintf(buf + used, n - used, "%s%s (%d device%s)", i ? ", " : "", b->name, b->device_count(),
                                 b->device_count() == 1 ? "" : "s");
    }
}

sea_status sea_device_open(const char *spec, sea_device **out)
{
    *out = NULL;
    char chosen[64], reason[160];
    if (!spec || !*spec) spec = getenv("SEA_DEVICE");
    if (!spec || !*spec) {
        SEA_TRY(sea_default_device_spec(chosen, sizeof chosen, reason, sizeof reason));
        spec = chosen;
    }
    char name[32];
    int index;
    SEA_TRY(parse_spec(spec, name, sizeof name, &index));
    const struct sea_backend_ops *b = sea_backend_find(name);
    if (!b) {
        char have[256];
        list_backends(have, sizeof have);
        const char *why = sea_backend_module_error(name);
        if (why) return sea_error(SEA_ERR_DEVICE, "device '%s': backend %s unavailable: %s", spec, name, why);
        return sea_error(SEA_ERR_DEVICE, "device '%s': unknown backend '%s' (available: %s)", spec, name, have);
    }
    int count = b->device_count();
    if (index >= count) {
        const char *why = b->unavailable_reason ? b->unavailable_reason() : NULL;
        if (count == 0)
            return sea_error(SEA_ERR_DEVICE, "device '%s': backend %s has no devices%s%s", spec, name, why ? ": " : "",
                             why ? why : "");
        return sea_error(SEA_ERR_DEVICE, "device '%s': backend %s has %d device%s (indices 0..%d)", spec, name, count,
                         count == 1 ? "" : "s", count - 1);
    }
    sea_device *dev = calloc(1, sizeof *dev);
    sea_stream *s = calloc(1, sizeof *s);
    if (!dev || !s) {
        free(dev);
        free(s);
        return sea_error(SEA_ERR_OOM, "device_open: out of host memory");
    }
    dev->backend = b;
    dev->index = index;
    dev->props.numa_node = -1;
    sea_status st = b->device_props(index, &dev->props);
    if (!st) st = b->device_open(dev);
    if (st) {
        free(dev);
        free(s);
        return sea_error_context(st, "opening device '%s'", spec);
    }
    s->dev = dev;
    st = b->stream_create(dev, s);
    if (st) {
        b->device_close(dev);
        free(dev);
        free(s);
        return sea_error_context(st, "creating the stream of device '%s'", spec);
    }
    dev->stream = s;
    *out = dev;
    return SEA_OK;
}

void sea_device_close(sea_device *dev)
{
    if (!dev) return;
    if (dev->stream) {
        dev->backend->stream_sync(dev->stream);
        dev->backend->stream_destroy(dev->stream);
        free(dev->stream);
    }
    dev->backend->device_close(dev);
    free(dev);
}

sea_stream *sea_device_stream(sea_device *dev) { return dev ? dev->stream : NULL; }

sea_status sea_stream_sync(sea_stream *s)
{
    if (!s) return sea_error(SEA_ERR_INVALID, "stream_sync: NULL stream");
    if (s->capture)
        return sea_error(SEA_ERR_INVALID, "%s: stream sync while the stream captures a graph", sea_device_label(s->dev));
    return s->dev->backend->stream_sync(s);
}

sea_status sea_device_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out)
{
    memset(out, 0, sizeof *out);
    if (!dev) return sea_error(SEA_ERR_INVALID, "memory_stats: NULL device");
    if (!dev->backend->memory_stats)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: the %s backend keeps no memory statistics", sea_device_label(dev),
                         dev->backend->name);
    return dev->backend->memory_stats(dev, reset_peak, out);
}

sea_status sea_device_memory_trim(sea_device *dev)
{
    if (!dev) return sea_error(SEA_ERR_INVALID, "memory_trim: NULL device");
    if (!dev->backend->memory_trim || (dev->stream && dev->stream->capture)) return SEA_OK;
    return dev->backend->memory_trim(dev);
}

sea_status sea_stream_native(sea_stream *s, void **out)
{
    *out = NULL;
    if (!s) return sea_error(SEA_ERR_INVALID, "stream_native: NULL stream");
    if (!s->dev->backend->stream_native)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: the %s backend exposes no native stream", sea_device_label(s->dev),
                         s->dev->backend->name);
    return s->dev->backend->stream_native(s, out);
}
