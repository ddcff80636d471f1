/* GGUF reader: bounds-checked parse of an mmapped file. See gguf.h. */
#include "gguf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "json_util.h"

struct sea_gguf {
    char *name;
    sea_mapped_file map; /* zeroed when borrowed */
    const uint8_t *base;
    size_t size;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    sea_gguf_kv *kvs;
    size_t n_kv;
    sea_gguf_tensor *tensors;
    size_t n_tensors;
};

typedef struct cursor {
    const uint8_t *p;
    size_t pos, size;
    const char *file;
} cursor;

static sea_status need(cursor *c, uint64_t n, const char *what)
{
    if (n > c->size - c->pos)
        return sea_error(SEA_ERR_FORMAT, "%s: truncated: %s needs %" PRIu64 " bytes at offset %zu but the file has %zu",
                         c->file, what, n, c->pos, c->size);
    return SEA_OK;
}

static uint64_t rd_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static sea_status rd_u32(cursor *c, uint32_t *v, const char *what)
{
    SEA_TRY(need(c, 4, what));
    *v = (uint32_t)rd_le(c->p + c->pos, 4);
    c->pos += 4;
    return SEA_OK;
}

static sea_status rd_u64(cursor *c, uint64_t *v, const char *what)
{
    SEA_TRY(need(c, 8, what));
    *v = rd_le(c->p + c->pos, 8);
    c->pos += 8;
    return SEA_OK;
}

static sea_status rd_str(cursor *c, sea_gguf_str *s, const char *what)
{
    uint64_t len;
    SEA_TRY(rd_u64(c, &len, what));
    SEA_TRY(need(c, len, what));
    char *d = malloc((size_t)len + 1);
    if (!d) return sea_error(SEA_ERR_OOM, "%s: out of memory for a %" PRIu64 "-byte string", c->file, len);
    memcpy(d, c->p + c->pos, (size_t)len);
    d[len] = 0;
    c->pos += (size_t)len;
    s->str = d;
    s->len = len;
    return SEA_OK;
}

static size_t scalar_size(sea_gguf_type t)
{
    switch (t) {
    case SEA_GGUF_UINT8: case SEA_GGUF_INT8: case SEA_GGUF_BOOL: return 1;
    case SEA_GGUF_UINT16: case SEA_GGUF_INT16: return 2;
    case SEA_GGUF_UINT32: case SEA_GGUF_INT32: case SEA_GGUF_FLOAT32: return 4;
    case SEA_GGUF_UINT64: case SEA_GGUF_INT64: case SEA_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

const char *sea_gguf_type_name(sea_gguf_type t)
{
    static const char *const names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                        "bool", "string", "array", "uint64", "int64", "float64"};
    return (unsigned)t < SEA_GGUF_TYPE_COUNT ? names[t] : "invalid";
}

static void scalar_decode(sea_gguf_type t, const uint8_t *p, sea_gguf_kv *kv)
{
    switch (t) {
    case SEA_GGUF_UINT8: kv->v.u64 = p[0]; break;
    case SEA_GGUF_UINT16: kv->v.u64 = rd_le(p, 2); break;
    case SEA_GGUF_UINT32: kv->v.u64 = rd_le(p, 4); break;
    case SEA_GGUF_UINT64: kv->v.u64 = rd_le(p, 8); break;
    case SEA_GGUF_INT8: kv->v.i64 = (int8_t)p[0]; break;
    case SEA_GGUF_INT16: kv->v.i64 = (int16_t)rd_le(p, 2); break;
    case SEA_GGUF_INT32: kv->v.i64 = (int32_t)rd_le(p, 4); break;
    case SEA_GGUF_INT64: kv->v.i64 = (int64_t)rd_le(p, 8); break;
    case SEA_GGUF_FLOAT32: {
        uint32_t u = (uint32_t)rd_le(p, 4);
        float f;
        memcpy(&f, &u, 4);
        kv->v.f64 = f;
        break;
    }
    case SEA_GGUF_FLOAT64: {
        uint64_t u = rd_le(p, 8);
        memcpy(&kv->v.f64, &u, 8);
        break;
    }
    case SEA_GGUF_BOOL: kv->v.b = p[0] != 0; break;
    default: break;
    }
}

/* Skip (nested) array elements without keeping them. */
static sea_status skip_value(cursor *c, sea_gguf_type t, const char *key, int depth)
{
    if (depth > 4) return sea_error(SEA_ERR_FORMAT, "%s: key '%s': arrays nested too deeply", c->file, key);
    size_t sz = scalar_size(t);
    if (sz) {
        SEA_TRY(need(c, sz, key));
        c->pos += sz;
        return SEA_OK;
    }
    if (t == SEA_GGUF_STRING) {
        uint64_t len;
        SEA_TRY(rd_u64(c, &len, key));
        SEA_TRY(need(c, len, key));
        c->pos += (size_t)len;
        return SEA_OK;
    }
    if (t == SEA_GGUF_ARRAY) {
        uint32_t et;
        uint64_t n;
        SEA_TRY(rd_u32(c, &et, key));
        SEA_TRY(rd_u64(c, &n, key));
        if (et >= SEA_GGUF_TYPE_COUNT) return sea_error(SEA_ERR_FORMAT, "%s: key '%s': bad array element type %u", c->file, key, et);
        for (uint64_t i = 0; i < n; i++) SEA_TRY(skip_value(c, (sea_gguf_type)et, key, depth + 1));
        return SEA_OK;
    }
    return sea_error(SEA_ERR_FORMAT, "%s: key '%s': bad value type %d", c->file, key, (int)t);
}

static sea_status read_kv(cursor *c, sea_gguf_kv *kv)
{
    sea_gguf_str key;
    SEA_TRY(rd_str(c, &key, "metadata key"));
    kv->key = key.str;
    uint32_t t;
    SEA_TRY(rd_u32(c, &t, kv->key));
    if (t >= SEA_GGUF_TYPE_COUNT) return sea_error(SEA_ERR_FORMAT, "%s: key '%s': unknown value type %u", c->file, kv->key, t);
    kv->type = (sea_gguf_type)t;
    size_t sz = scalar_size(kv->type);
    if (sz) {
        SEA_TRY(need(c, sz, kv->key));
        scalar_decode(kv->type, c->p + c->pos, kv);
        c->pos += sz;
        return SEA_OK;
    }
    if (kv->type == SEA_GGUF_STRING) return rd_str(c, &kv->v.s, kv->key);
    /* array */
    uint32_t et;
    uint64_t n;
    SEA_TRY(rd_u32(c, &et, kv->key));
    SEA_TRY(rd_u64(c, &n, kv->key));
    if (et >= SEA_GGUF_TYPE_COUNT)
        return sea_error(SEA_ERR_FORMAT, "%s: key '%s': unknown array element type %u", c->file, kv->key, et);
    kv->v.arr.type = (sea_gguf_type)et;
    kv->v.arr.n = n;
    size_t esz = scalar_size(kv->v.arr.type);
    if (esz) {
        if (n > (c->size - c->pos) / esz)
            return sea_error(SEA_ERR_FORMAT, "%s: key '%s': array of %" PRIu64 " %s runs past the end of the file", c->file,
                             kv->key, n, sea_gguf_type_name(kv->v.arr.type));
        kv->v.arr.raw = c->p + c->pos;
        c->pos += (size_t)n * esz;
        return SEA_OK;
    }
    if (kv->v.arr.type == SEA_GGUF_STRING) {
        if (n > (c->size - c->pos) / 8)
            return sea_error(SEA_ERR_FORMAT, "%s: key '%s': array of %" PRIu64 " strings runs past the end of the file",
                             c->file, kv->key, n);
        sea_gguf_str *strs = calloc(n ? (size_t)n : 1, sizeof *strs);
        if (!strs) return sea_error(SEA_ERR_OOM, "%s: key '%s': out of memory", c->file, kv->key);
        kv->v.arr.strs = strs;
        for (uint64_t i = 0; i < n; i++) {
            sea_status st = rd_str(c, &strs[i], kv->key);
            if (st) {
                kv->v.arr.n = i; /* free only what was read */
                return st;
            }
        }
        return SEA_OK;
    }
    for (uint64_t i = 0; i < n; i++) SEA_TRY(skip_value(c, kv->v.arr.type, kv->key, 1));
    return SEA_OK;
}

bool sea_ggml_type_block(sea_ggml_type t, int64_t *block_elems, size_t *block_bytes)
{
    int64_t be = 1;
    size_t bb;
    switch (t) {
    case SEA_GGML_F32: bb = 4; break;
    case SEA_GGML_F16: case SEA_GGML_BF16: case SEA_GGML_I16: bb = 2; break;
    case SEA_GGML_I8: bb = 1; break;
    case SEA_GGML_I32: bb = 4; break;
    case SEA_GGML_I64: case SEA_GGML_F64: bb = 8; break;
    case SEA_GGML_Q4_0: be = 32, bb = 18; break;
    case SEA_GGML_Q4_1: be = 32, bb = 20; break;
    case SEA_GGML_Q5_0: be = 32, bb = 22; break;
    case SEA_GGML_Q5_1: be = 32, bb = 24; break;
    case SEA_GGML_Q8_0: be = 32, bb = 34; break;
    case SEA_GGML_Q8_1: be = 32, bb = 36; break;
    case SEA_GGML_Q2_K: be = 256, bb = 84; break;
    case SEA_GGML_Q3_K: be = 256, bb = 110; break;
    case SEA_GGML_Q4_K: be = 256, bb = 144; break;
    case SEA_GGML_Q5_K: be = 256, bb = 176; break;
    case SEA_GGML_Q6_K: be = 256, bb = 210; break;
    case SEA_GGML_Q8_K: be = 256, bb = 292; break;
    default: return false;
    }
    if (block_elems) *block_elems = be;
    if (block_bytes) *block_bytes = bb;
    return true;
}

const char *sea_ggml_type_name(sea_ggml_type t)
{
    switch (t) {
    case SEA_GGML_F32: return "F32";
    case SEA_GGML_F16: return "F16";
    case SEA_GGML_BF16: return "BF16";
    case SEA_GGML_Q4_0: return "Q4_0";
    case SEA_GGML_Q4_1: return "Q4_1";
    case SEA_GGML_Q5_0: return "Q5_0";
    case SEA_GGML_Q5_1: return "Q5_1";
    case SEA_GGML_Q8_0: return "Q8_0";
    case SEA_GGML_Q8_1: return "Q8_1";
    case SEA_GGML_Q2_K: return "Q2_K";
    case SEA_GGML_Q3_K: return "Q3_K";
    case SEA_GGML_Q4_K: return "Q4_K";
    case SEA_GGML_Q5_K: return "Q5_K";
    case SEA_GGML_Q6_K: return "Q6_K";
    case SEA_GGML_Q8_K: return "Q8_K";
    case SEA_GGML_I8: return "I8";
    case SEA_GGML_I16: return "I16";
    case SEA_GGML_I32: return "I32";
    case SEA_GGML_I64: return "I64";
    case SEA_GGML_F64: return "F64";
    default: return "unknown";
    }
}

static sea_status read_tensor_info(cursor *c, sea_gguf_tensor *t)
{
    sea_gguf_str name;
    SEA_TRY(rd_str(c, &name, "tensor name"));
    t->name = name.str;
    uint32_t nd, type;
    SEA_TRY(rd_u32(c, &nd, t->name));
    if (nd < 1 || nd > 4)
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': %u dimensions (1 to 4 allowed)", c->file, t->name, nd);
    t->n_dims = (int)nd;
    for (int i = 0; i < 4; i++) t->ne[i] = t->shape[i] = 1;
    for (uint32_t i = 0; i < nd; i++) {
        uint64_t d;
        SEA_TRY(rd_u64(c, &d, t->name));
        if (d > (uint64_t)INT64_MAX / 2)
            return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': dimension %u is %" PRIu64, c->file, t->name, i, d);
        t->ne[i] = (int64_t)d;
    }
    for (int i = 0; i < t->n_dims; i++) t->shape[i] = t->ne[t->n_dims - 1 - i];
    SEA_TRY(rd_u32(c, &type, t->name));
    t->type = (sea_ggml_type)type;
    SEA_TRY(rd_u64(c, &t->offset, t->name));
    int64_t be;
    size_t bb;
    if (!sea_ggml_type_block(t->type, &be, &bb))
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: tensor '%s': unknown ggml type %u", c->file, t->name, type);
    if (t->ne[0] % be)
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': row length %" PRId64 " is not a multiple of the %s block size %" PRId64,
                         c->file, t->name, t->ne[0], sea_ggml_type_name(t->type), be);
    /* nbytes = ne0/be*bb * ne1*ne2*ne3, with overflow checks */
    unsigned __int128 bytes = (unsigned __int128)(t->ne[0] / be) * bb;
    for (int i = 1; i < 4; i++) bytes *= (unsigned __int128)t->ne[i];
    if (bytes > (unsigned __int128)c->size)
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': %s data of shape ne=[%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                         "] is larger than the file (%zu bytes)", c->file, t->name, sea_ggml_type_name(t->type), t->ne[0],
                         t->ne[1], t->ne[2], t->ne[3], c->size);
    t->nbytes = (size_t)bytes;
    return SEA_OK;
}

void sea_gguf_close(sea_gguf *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n_kv; i++) {
        sea_gguf_kv *kv = &g->kvs[i];
        free((char *)kv->key);
        if (kv->type == SEA_GGUF_STRING) free((char *)kv->v.s.str);
        if (kv->type == SEA_GGUF_ARRAY && kv->v.arr.type == SEA_GGUF_STRING && kv->v.arr.strs) {
            for (uint64_t j = 0; j < kv->v.arr.n; j++) free((char *)kv->v.arr.strs[j].str);
            free((void *)kv->v.arr.strs);
        }
    }
    for (size_t i = 0; i < g->n_tensors; i++) free((char *)g->tensors[i].name);
    free(g->kvs);
    free(g->tensors);
    sea_file_unmap(&g->map);
    free(g->name);
    free(g);
}

static sea_status parse(sea_gguf *g)
{
    cursor c = {g->base, 0, g->size, g->name};
    if (g->size < 4 || memcmp(g->base, "GGUF", 4) != 0)
        return sea_error(SEA_ERR_FORMAT, "%s: not a GGUF file (magic is not 'GGUF')", g->name);
    c.pos = 4;
    SEA_TRY(rd_u32(&c, &g->version, "version"));
    if (g->version != 2 && g->version != 3)
        return sea_error(SEA_ERR_FORMAT, "%s: GGUF version %u is not supported (2 or 3; a big-endian file reads as a huge version)",
                         g->name, g->version);
    uint64_t nt, nkv;
    SEA_TRY(rd_u64(&c, &nt, "tensor count"));
    SEA_TRY(rd_u64(&c, &nkv, "metadata count"));
    /* Each kv takes at least 8+4+1 bytes and each tensor info 8+4+8+4+8. */
    if (nkv > g->size / 13 || nt > g->size / 32)
        return sea_error(SEA_ERR_FORMAT, "%s: %" PRIu64 " metadata entries and %" PRIu64 " tensors cannot fit in %zu bytes",
                         g->name, nkv, nt, g->size);
    g->kvs = calloc(nkv ? (size_t)nkv : 1, sizeof *g->kvs);
    g->tensors = calloc(nt ? (size_t)nt : 1, sizeof *g->tensors);
    if (!g->kvs || !g->tensors) return sea_error(SEA_ERR_OOM, "%s: out of memory", g->name);
    for (uint64_t i = 0; i < nkv; i++) {
        g->n_kv++;
        SEA_TRY(read_kv(&c, &g->kvs[i]));
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->kvs[j].key, g->kvs[i].key) == 0)
                return sea_error(SEA_ERR_FORMAT, "%s: metadata key '%s' appears twice", g->name, g->kvs[i].key);
    }
    g->alignment = 32;
    const sea_gguf_kv *al = sea_gguf_find_kv(g, "general.alignment");
    if (al) {
        if (al->type != SEA_GGUF_UINT32 || al->v.u64 == 0 || (al->v.u64 & (al->v.u64 - 1)))
            return sea_error(SEA_ERR_FORMAT, "%s: general.alignment must be a power-of-two uint32", g->name);
        g->alignment = al->v.u64;
    }
    for (uint64_t i = 0; i < nt; i++) {
        g->n_tensors++;
        SEA_TRY(read_tensor_info(&c, &g->tensors[i]));
    }
    uint64_t off = c.pos;
    off = (off + g->alignment - 1) / g->alignment * g->alignment;
    g->data_offset = off;
    for (size_t i = 0; i < g->n_tensors; i++) {
        sea_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                             g->name, t->name, t->offset, g->alignment);
        if (off > g->size || t->offset > g->size - off || t->nbytes > g->size - off - t->offset)
            return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': data [%" PRIu64 ", %" PRIu64 "+%zu) beyond file size %zu", g->name,
                             t->name, off + t->offset, off + t->offset, t->nbytes, g->size);
        t->data = g->base + off + t->offset;
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->tensors[j].name, t->name) == 0)
                return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' appears twice", g->name, t->name);
    }
    return SEA_OK;
}

sea_status sea_gguf_open_memory(const void *buf, size_t len, const char *name, sea_gguf **out)
{
    *out = NULL;
    sea_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(name ? name : "<memory>"))) {
        free(g);
        return sea_error(SEA_ERR_OOM, "gguf: out of memory");
    }
    g->base = buf ? buf : (const uint8_t *)"";
    g->size = buf ? len : 0;
    sea_status st = parse(g);
    if (st) {
        sea_gguf_close(g);
        return st;
    }
    *out = g;
    return SEA_OK;
}

sea_status sea_gguf_open(const char *path, sea_gguf **out)
{
    *out = NULL;
    sea_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(path))) {
        free(g);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    }
    sea_status st = sea_file_map(path, &g->map);
    if (!st) {
        g->base = g->map.data;
        g->size = g->map.size;
        st = parse(g);
    }
    if (st) {
        sea_gguf_close(g);
        return st;
    }
    *out = g;
    return SEA_OK;
}

uint32_t sea_gguf_version(const sea_gguf *g) { return g->version; }
uint64_t sea_gguf_alignment(const sea_gguf *g) { return g->alignment; }
uint64_t sea_gguf_data_offset(const sea_gguf *g) { return g->data_offset; }
size_t sea_gguf_kv_count(const sea_gguf *g) { return g->n_kv; }
const sea_gguf_kv *sea_gguf_kv_at(const sea_gguf *g, size_t i) { return i < g->n_kv ? &g->kvs[i] : NULL; }
size_t sea_gguf_tensor_count(const sea_gguf *g) { return g->n_tensors; }
const sea_gguf_tensor *sea_gguf_tensor_at(const sea_gguf *g, size_t i) { return i < g->n_tensors ? &g->tensors[i] : NULL; }

const sea_gguf_kv *sea_gguf_find_kv(const sea_gguf *g, const char *key)
{
    for (size_t i = 0; i < g->n_kv; i++)
        if (g->kvs[i].key && strcmp(g->kvs[i].key, key) == 0) return &g->kvs[i];
    return NULL;
}

const sea_gguf_tensor *sea_gguf_find_tensor(const sea_gguf *g, const char *name)
{
    for (size_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

static bool is_uint(sea_gguf_type t) { return t == SEA_GGUF_UINT8 || t == SEA_GGUF_UINT16 || t == SEA_GGUF_UINT32 || t == SEA_GGUF_UINT64; }
static bool is_sint(sea_gguf_type t) { return t == SEA_GGUF_INT8 || t == SEA_GGUF_INT16 || t == SEA_GGUF_INT32 || t == SEA_GGUF_INT64; }

bool sea_gguf_get_int(const sea_gguf *g, const char *key, int64_t *out)
{
    const sea_gguf_kv *kv = sea_gguf_find_kv(g, key);
    if (!kv) return false;
    if (is_uint(kv->type)) {
        if (kv->v.u64 > INT64_MAX) return false;
        *out = (int64_t)kv->v.u64;
        return true;
    }
    if (is_sint(kv->type)) {
        *out = kv->v.i64;
        return true;
    }
    return false;
}

bool sea_gguf_get_float(const sea_gguf *g, const char *key, double *out)
{
    const sea_gguf_kv *kv = sea_gguf_find_kv(g, key);
    if (!kv) return false;
    if (kv->type == SEA_GGUF_FLOAT32 || kv->type == SEA_GGUF_FLOAT64) *out = kv->v.f64;
    else if (is_uint(kv->type)) *out = (double)kv->v.u64;
    else if (is_sint(kv->type)) *out = (double)kv->v.i64;
    else return false;
    return true;
}

bool sea_gguf_get_bool(const sea_gguf *g, const char *key, bool *out)
{
    const sea_gguf_kv *kv = sea_gguf_find_kv(g, key);
    if (!kv) return false;
    if (kv->type == SEA_GGUF_BOOL) *out = kv->v.b;
    else if (is_uint(kv->type)) *out = kv->v.u64 != 0;
    else if (is_sint(kv->type)) *out = kv->v.i64 != 0;
    else return false;
    return true;
}

const char *sea_gguf_get_str(const sea_gguf *g, const char *key)
{
    const sea_gguf_kv *kv = sea_gguf_find_kv(g, key);
    return kv && kv->type == SEA_GGUF_STRING ? kv->v.s.str : NULL;
}

int64_t sea_gguf_arr_int(const sea_gguf_kv *kv, uint64_t i)
{
    sea_gguf_kv tmp = {0};
    sea_gguf_type t = kv->v.arr.type;
    size_t sz = scalar_size(t);
    if (!sz || i >= kv->v.arr.n) return 0;
    scalar_decode(t, (const uint8_t *)kv->v.arr.raw + i * sz, &tmp);
    if (is_uint(t)) return (int64_t)tmp.v.u64;
    if (is_sint(t)) return tmp.v.i64;
    if (t == SEA_GGUF_BOOL) return tmp.v.b;
    return (int64_t)tmp.v.f64;
}

double sea_gguf_arr_float(const sea_gguf_kv *kv, uint64_t i)
{
    sea_gguf_kv tmp = {0};
    sea_gguf_type t = kv->v.arr.type;
    size_t sz = scalar_size(t);
    if (!sz || i >= kv->v.arr.n) return 0;
    scalar_decode(t, (const uint8_t *)kv->v.arr.raw + i * sz, &tmp);
    if (is_uint(t)) return (double)tmp.v.u64;
    if (is_sint(t)) return (double)tmp.v.i64;
    if (t == SEA_GGUF_BOOL) return tmp.v.b;
    return tmp.v.f64;
}

int64_t sea_gguf_tensor_numel(const sea_gguf_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

static float f16_at(const uint8_t *p) { return sea_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

sea_status sea_ggml_dequantize(sea_ggml_type type, const void *src, float *dst, int64_t n)
{
    const uint8_t *p = src;
    int64_t be;
    size_t bb;
    if (!sea_ggml_type_block(type, &be, &bb) || n % be)
        return sea_error(SEA_ERR_INVALID, "dequantize %s: %" PRId64 " elements is not a whole number of blocks",
                         sea_ggml_type_name(type), n);
    switch (type) {
    case SEA_GGML_F32:
        memcpy(dst, p, (size_t)n * 4);
        return SEA_OK;
    case SEA_GGML_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = f16_at(p + 2 * i);
        return SEA_OK;
    case SEA_GGML_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = sea_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return SEA_OK;
    case SEA_GGML_Q8_0:
        /* block: f16 scale, 32 x int8 */
        for (int64_t b = 0; b < n / 32; b++, p += 34) {
            float d = f16_at(p);
            for (int j = 0; j < 32; j++) dst[b * 32 + j] = d * (float)(int8_t)p[2 + j];
        }
        return SEA_OK;
    case SEA_GGML_Q4_0:
        /* block: f16 scale, 16 bytes; low nibbles are elements 0..15, high nibbles 16..31, offset 8 */
        for (int64_t b = 0; b < n / 32; b++, p += 18) {
            float d = f16_at(p);
            for (int j = 0; j < 16; j++) {
                dst[b * 32 + j] = d * (float)((p[2 + j] & 0x0F) - 8);
                dst[b * 32 + j + 16] = d * (float)((p[2 + j] >> 4) - 8);
            }
        }
        return SEA_OK;
    case SEA_GGML_Q4_1:
        /* block: f16 scale, f16 min, 16 bytes of nibbles (same order as Q4_0) */
        for (int64_t b = 0; b < n / 32; b++, p += 20) {
            float d = f16_at(p), m = f16_at(p + 2);
            for (int j = 0; j < 16; j++) {
                dst[b * 32 + j] = d * (float)(p[4 + j] & 0x0F) + m;
                dst[b * 32 + j + 16] = d * (float)(p[4 + j] >> 4) + m;
            }
        }
        return SEA_OK;
    default:
        return sea_error(SEA_ERR_UNSUPPORTED, "dequantize: ggml type %s is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1)",
                         sea_ggml_type_name(type));
    }
}

sea_status sea_gguf_tensor_to_f32(const sea_gguf_tensor *t, float *dst)
{
    sea_status st = sea_ggml_dequantize(t->type, t->data, dst, sea_gguf_tensor_numel(t));
    if (st) return sea_error_context(st, "tensor '%s'", t->name);
    return SEA_OK;
}

sea_status sea_gguf_unpermute_qk(void *rows_data, int64_t rows, size_t row_bytes, int64_t n_head)
{
    if (n_head <= 0 || rows % n_head || (rows / n_head) % 2)
        return sea_error(SEA_ERR_SHAPE, "gguf unpermute: %" PRId64 " rows cannot be split into %" PRId64 " heads of even size",
                         rows, n_head);
    int64_t hd = rows / n_head, half = hd / 2;
    uint8_t *tmp = malloc((size_t)hd * row_bytes);
    if (!tmp) return sea_error(SEA_ERR_OOM, "gguf unpermute: out of memory");
    uint8_t *base = rows_data;
    for (int64_t h = 0; h < n_head; h++) {
        uint8_t *head = base + (size_t)(h * hd) * row_bytes;
        /* file row 2*i + j holds HF row j*half + i */
        for (int64_t i = 0; i < half; i++)
            for (int64_t j = 0; j < 2; j++)
                memcpy(tmp + (size_t)(j * half + i) * row_bytes, head + (size_t)(2 * i + j) * row_bytes, row_bytes);
        memcpy(head, tmp, (size_t)hd * row_bytes);
    }
    free(tmp);
    return SEA_OK;
}

sea_status sea_gguf_to_hf_config(const sea_gguf *g, sea_hf_config *cfg)
{
    const char *arch = sea_gguf_get_str(g, "general.architecture");
    if (!arch) return sea_error(SEA_ERR_FORMAT, "%s: missing general.architecture", g->name);
    bool llama = strcmp(arch, "llama") == 0, neox = strcmp(arch, "gptneox") == 0;
    if (!llama && !neox)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (llama, gptneox)", g->name, arch);
    sea_hf_config_init(cfg, llama ? "llama" : "gpt_neox");
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", llama ? "LlamaForCausalLM" : "GPTNeoXForCausalLM");
    char key[160];
#define KEY(suffix) (snprintf(key, sizeof key, "%s.%s", arch, suffix), key)
    int64_t v;
    struct {
        const char *suffix;
        int64_t *dst;
        bool required;
    } ints[] = {{"embedding_length", &cfg->hidden_size, true},
                {"block_count", &cfg->num_hidden_layers, true},
                {"attention.head_count", &cfg->num_attention_heads, true},
                {"feed_forward_length", &cfg->intermediate_size, false},
                {"context_length", &cfg->max_position_embeddings, false}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (sea_gguf_get_int(g, KEY(ints[i].suffix), &v)) {
            if (v <= 0 || v > INT32_MAX) return sea_error(SEA_ERR_FORMAT, "%s: %s must be a positive integer", g->name, key);
            *ints[i].dst = v;
        } else if (ints[i].required)
            return sea_error(SEA_ERR_FORMAT, "%s: missing metadata key '%s'", g->name, key);
    }
    if (!sea_gguf_get_int(g, KEY("feed_forward_length"), &v)) cfg->intermediate_size = 4 * cfg->hidden_size;
    cfg->num_key_value_heads = cfg->num_attention_heads;
    if (sea_gguf_get_int(g, KEY("attention.head_count_kv"), &v) && v > 0) cfg->num_key_value_heads = v;
    if (cfg->num_attention_heads % cfg->num_key_value_heads)
        return sea_error(SEA_ERR_FORMAT, "%s: head_count %" PRId64 " not a multiple of head_count_kv %" PRId64, g->name,
                         cfg->num_attention_heads, cfg->num_key_value_heads);
    if (sea_gguf_get_int(g, KEY("attention.key_length"), &v) && v > 0) {
        cfg->head_dim = v;
        cfg->has_head_dim = true;
    } else {
        if (cfg->hidden_size % cfg->num_attention_heads)
            return sea_error(SEA_ERR_FORMAT, "%s: embedding_length not a multiple of head_count", g->name);
        cfg->head_dim = cfg->hidden_size / cfg->num_attention_heads;
    }
    if (sea_gguf_get_int(g, KEY("rope.dimension_count"), &v) && v > 0 && v <= cfg->head_dim)
        cfg->partial_rotary_factor = (double)v / (double)cfg->head_dim;
    else if (llama) cfg->partial_rotary_factor = 1.0;
    double f;
    if (sea_gguf_get_float(g, KEY("rope.freq_base"), &f) && f > 0) cfg->rope_theta = f;
    if (sea_gguf_get_float(g, KEY("attention.layer_norm_rms_epsilon"), &f) && f > 0) {
        cfg->norm_eps = f;
        cfg->norm_is_rms = true;
    } else if (sea_gguf_get_float(g, KEY("attention.layer_norm_epsilon"), &f) && f > 0) {
        cfg->norm_eps = f;
        cfg->norm_is_rms = false;
    }
    bool b;
    if (sea_gguf_get_bool(g, KEY("use_parallel_residual"), &b)) cfg->use_parallel_residual = b;
    /* Linear/YaRN-style scaling is described by metadata; Llama-3's frequency scaling is stored
     * as a rope_freqs.weight tensor instead (not mapped here: the loader must read that tensor). */
    const char *scaling = sea_gguf_get_str(g, KEY("rope.scaling.type"));
    if (scaling && strcmp(scaling, "none") != 0) {
        snprintf(cfg->rope_type, sizeof cfg->rope_type, "%s", scaling);
        if (sea_gguf_get_float(g, KEY("rope.scaling.factor"), &f) && f > 0) cfg->rope_factor = f;
        if (sea_gguf_get_int(g, KEY("rope.scaling.original_context_length"), &v) && v > 0)
            cfg->rope_original_max_position_embeddings = v;
    }
#undef KEY
    const sea_gguf_kv *toks = sea_gguf_find_kv(g, "tokenizer.ggml.tokens");
    const sea_gguf_tensor *emb = sea_gguf_find_tensor(g, "token_embd.weight");
    if (emb) cfg->vocab_size = emb->shape[0];
    else if (toks && toks->type == SEA_GGUF_ARRAY) cfg->vocab_size = (int64_t)toks->v.arr.n;
    else return sea_error(SEA_ERR_FORMAT, "%s: no token_embd.weight or tokenizer.ggml.tokens to size the vocabulary", g->name);
    cfg->tie_word_embeddings = sea_gguf_find_tensor(g, "output.weight") == NULL;
    cfg->has_tie_word_embeddings = true;
    if (llama) cfg->attention_bias = sea_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
    if (sea_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &v)) cfg->bos_token_id = (int32_t)v;
    if (sea_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &v)) {
        cfg->eos_token_ids[0] = (int32_t)v;
        cfg->n_eos = 1;
    }
    if (sea_gguf_get_int(g, "tokenizer.ggml.padding_token_id", &v)) cfg->pad_token_id = (int32_t)v;
    const char *ft = NULL;
    if (emb) ft = emb->type == SEA_GGML_F16 ? "float16" : emb->type == SEA_GGML_BF16 ? "bfloat16" : "float32";
    if (ft) snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "%s", ft);
    return SEA_OK;
}
