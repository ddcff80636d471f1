/* safetensors reader (validating, mmap-backed) and atomic writer. See safetensors.h. */
#include "safetensors.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

typedef struct st_shard {
    char *path;            /* also used as the display name */
    sea_mapped_file map;   /* zeroed when the memory is borrowed */
    const uint8_t *base;
    size_t size;
} st_shard;

struct sea_safetensors {
    st_shard *shards;
    size_t n_shards;
    sea_st_tensor *tensors;
    size_t n, cap;
    size_t *by_name;       /* indices into tensors sorted by name, for bsearch */
    char **meta_keys, **meta_vals;
    size_t n_meta;
};

static const struct {
    const char *name;
    size_t size;
    int dtype;
} st_dtypes[] = {
    {"F32", 4, SEA_F32},  {"F16", 2, SEA_F16},  {"BF16", 2, SEA_BF16}, {"I32", 4, SEA_I32},
    {"F64", 8, -1},       {"I64", 8, -1},       {"I16", 2, -1},        {"I8", 1, -1},
    {"U8", 1, -1},        {"U16", 2, -1},       {"U32", 4, -1},        {"U64", 8, -1},
    {"BOOL", 1, -1},      {"F8_E4M3", 1, -1},   {"F8_E5M2", 1, -1},    {"F8_E8M0", 1, -1},
};
#define N_ST_DTYPES (sizeof st_dtypes / sizeof st_dtypes[0])

size_t sea_st_dtype_size(const char *name)
{
    for (size_t i = 0; i < N_ST_DTYPES; i++)
        if (name && strcmp(name, st_dtypes[i].name) == 0) return st_dtypes[i].size;
    return 0;
}

int sea_st_dtype_from_name(const char *name)
{
    for (size_t i = 0; i < N_ST_DTYPES; i++)
        if (name && strcmp(name, st_dtypes[i].name) == 0) return st_dtypes[i].dtype;
    return SEA_ST_DTYPE_NONE;
}

static const char *st_dtype_canon(const char *name)
{
    for (size_t i = 0; i < N_ST_DTYPES; i++)
        if (strcmp(name, st_dtypes[i].name) == 0) return st_dtypes[i].name;
    return NULL;
}

const char *sea_st_dtype_name(sea_dtype t)
{
    switch (t) {
    case SEA_F32: return "F32";
    case SEA_BF16: return "BF16";
    case SEA_F16: return "F16";
    case SEA_I32: return "I32";
    default: return NULL;
    }
}

int64_t sea_st_tensor_numel(const sea_st_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

static void shape_str(const int64_t *shape, int ndim, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* ---------------------------------------------------------------- reading */

static sea_status add_tensor(sea_safetensors *f, sea_st_tensor *t)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        sea_st_tensor *nt = realloc(f->tensors, nc * sizeof *nt);
        if (!nt) return sea_error(SEA_ERR_OOM, "safetensors: out of memory for the tensor table");
        f->tensors = nt;
        f->cap = nc;
    }
    f->tensors[f->n++] = *t;
    return SEA_OK;
}

typedef struct span {
    uint64_t begin, end;
    size_t idx;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static sea_status parse_metadata(sea_safetensors *f, const cJSON *meta, const char *file, bool keep)
{
    if (!cJSON_IsObject(meta)) return sea_error(SEA_ERR_FORMAT, "%s: __metadata__ must be an object", file);
    for (const cJSON *m = meta->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return sea_error(SEA_ERR_FORMAT, "%s: __metadata__ value '%s' must be a string", file, m->string);
        if (!keep) continue;
        char **k = realloc(f->meta_keys, (f->n_meta + 1) * sizeof *k);
        if (k) f->meta_keys = k;
        char **v = realloc(f->meta_vals, (f->n_meta + 1) * sizeof *v);
        if (v) f->meta_vals = v;
        if (!k || !v) return sea_error(SEA_ERR_OOM, "%s: out of memory", file);
        f->meta_keys[f->n_meta] = strdup(m->string);
        f->meta_vals[f->n_meta] = strdup(m->valuestring);
        f->n_meta++;
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1])
            return sea_error(SEA_ERR_OOM, "%s: out of memory", file);
    }
    return SEA_OK;
}

/* Parse one tensor entry; name is not yet owned. */
static sea_status parse_entry(const cJSON *e, const char *file, uint64_t data_size, sea_st_tensor *t,
                              uint64_t *begin, uint64_t *end)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e)) return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': entry must be an object", file, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt)) return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': missing or non-string 'dtype'", file, name);
    const char *canon = st_dtype_canon(dt->valuestring);
    if (!canon) return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", file, name, dt->valuestring);
    if (!cJSON_IsArray(sh)) return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': missing or non-array 'shape'", file, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > SEA_ST_MAX_DIMS)
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d supported)", file, name, nd, SEA_ST_MAX_DIMS);
    memset(t, 0, sizeof *t);
    t->dtype_name = canon;
    t->dtype = sea_st_dtype_from_name(canon);
    t->elem_size = sea_st_dtype_size(canon);
    t->ndim = nd;
    for (int i = 0; i < SEA_ST_MAX_DIMS; i++) t->shape[i] = 1;
    /* numel * elem_size must fit: track it in unsigned 128-bit-safe steps. */
    uint64_t bytes = t->elem_size;
    bool overflow = false;
    int i = 0;
    for (const cJSON *d = sh->child; d; d = d->next, i++) {
        int64_t v;
        if (!sea_json_is_int(d, 0, INT64_MAX, &v))
            return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': shape[%d] must be a non-negative integer", file, name, i);
        t->shape[i] = v;
        if (v && bytes > UINT64_MAX / (uint64_t)v) overflow = true;
        else bytes *= (uint64_t)v;
    }
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' must be [begin, end]", file, name);
    int64_t b, en;
    if (!sea_json_is_int(off->child, 0, INT64_MAX, &b) || !sea_json_is_int(off->child->next, 0, INT64_MAX, &en))
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': data_offsets must be non-negative integers", file, name);
    if (en < b)
        return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] end before begin", file, name, b, en);
    char s[160];
    shape_str(t->shape, nd, s, sizeof s);
    if (overflow || bytes != (uint64_t)(en - b))
        return sea_error(SEA_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] span %" PRId64
                         " bytes but shape %s %s needs %s%" PRIu64,
                         file, name, b, en, en - b, s, canon, overflow ? "more than " : "", overflow ? UINT64_MAX : bytes);
    if ((uint64_t)en > data_size)
        return sea_error(SEA_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] beyond the data section (%" PRIu64 " bytes)",
                         file, name, b, en, data_size);
    t->nbytes = (size_t)bytes;
    *begin = (uint64_t)b;
    *end = (uint64_t)en;
    return SEA_OK;
}

static sea_status parse_shard(sea_safetensors *f, size_t shard_idx, bool keep_meta)
{
    st_shard *sh = &f->shards[shard_idx];
    const char *file = sh->path;
    const uint8_t *p = sh->base;
    size_t len = sh->size;
    if (len < 8)
        return sea_error(SEA_ERR_FORMAT, "%s: file is %zu bytes, shorter than the 8-byte header length", file, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > SEA_ST_MAX_HEADER)
        return sea_error(SEA_ERR_FORMAT, "%s: header length %" PRIu64 " exceeds the %u-byte limit", file, hlen, SEA_ST_MAX_HEADER);
    if (hlen > len - 8)
        return sea_error(SEA_ERR_FORMAT, "%s: header length %" PRIu64 " runs past the end of the file (size %zu)", file, hlen, len);
    const char *hdr = (const char *)p + 8;
    if (hlen < 2 || hdr[0] != '{')
        return sea_error(SEA_ERR_FORMAT, "%s: header does not start with a JSON object", file);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!root) {
        size_t off = end && end >= hdr && end <= hdr + hlen ? (size_t)(end - hdr) : 0;
        return sea_error(SEA_ERR_FORMAT, "%s: malformed JSON header near byte %zu of %" PRIu64, file, off, hlen);
    }
    /* Only padding (spaces) may follow the object. */
    for (const char *q = end; q < hdr + hlen; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            cJSON_Delete(root);
            return sea_error(SEA_ERR_FORMAT, "%s: unexpected bytes after the JSON header at byte %zu", file, (size_t)(q - hdr));
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sea_error(SEA_ERR_FORMAT, "%s: header is not a JSON object", file);
    }
    uint64_t data_size = len - 8 - hlen;
    const uint8_t *data = p + 8 + hlen;

    size_t count = 0;
    for (const cJSON *e = root->child; e; e = e->next) count++;
    span *spans = calloc(count ? count : 1, sizeof *spans);
    if (!spans) {
        cJSON_Delete(root);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", file);
    }
    size_t first = f->n, ns = 0;
    sea_status st = SEA_OK;
    bool seen_meta = false;
    for (const cJSON *e = root->child; e && !st; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta) st = sea_error(SEA_ERR_FORMAT, "%s: __metadata__ appears twice", file);
            seen_meta = true;
            if (!st) st = parse_metadata(f, e, file, keep_meta);
            continue;
        }
        sea_st_tensor t;
        uint64_t b = 0, en = 0;
        st = parse_entry(e, file, data_size, &t, &b, &en);
        if (st) break;
        t.name = strdup(e->string);
        t.file = file;
        t.data = data + b;
        if (!t.name) {
            st = sea_error(SEA_ERR_OOM, "%s: out of memory", file);
            break;
        }
        st = add_tensor(f, &t);
        if (st) {
            free((char *)t.name);
            break;
        }
        spans[ns++] = (span){b, en, f->n - 1};
    }
    cJSON_Delete(root);
    if (!st) {
        /* Ranges sorted by position must tile [0, data_size) exactly. */
        qsort(spans, ns, sizeof *spans, span_cmp);
        uint64_t pos = 0;
        for (size_t i = 0; i < ns && !st; i++) {
            const char *nm = f->tensors[spans[i].idx].name;
            if (spans[i].begin < pos) {
                const char *prev = i ? f->tensors[spans[i - 1].idx].name : "?";
                st = sea_error(SEA_ERR_FORMAT,
                               "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor '%s' (ends at %" PRIu64 ")",
                               file, nm, spans[i].begin, spans[i].end, prev, pos);
            } else if (spans[i].begin > pos) {
                st = sea_error(SEA_ERR_FORMAT,
                               "%s: bytes [%" PRIu64 ", %" PRIu64 ") of the data section belong to no tensor (next is '%s')",
                               file, pos, spans[i].begin, nm);
            }
            if (spans[i].end > pos) pos = spans[i].end;
        }
        if (!st && pos != data_size)
            st = sea_error(SEA_ERR_FORMAT,
                           "%s: tensors cover %" PRIu64 " bytes but the data section has %" PRIu64 " (trailing bytes or truncated)",
                           file, pos, data_size);
        /* Keep tensors in file (offset) order: reorder this shard's slice. */
        if (!st && ns > 1) {
            sea_st_tensor *tmp = malloc(ns * sizeof *tmp);
            if (!tmp) st = sea_error(SEA_ERR_OOM, "%s: out of memory", file);
            else {
                for (size_t i = 0; i < ns; i++) tmp[i] = f->tensors[spans[i].idx];
                memcpy(f->tensors + first, tmp, ns * sizeof *tmp);
                free(tmp);
            }
        }
    }
    free(spans);
    return st;
}

/* Build the name index and reject duplicate names (also across shards). */
static sea_status build_index(sea_safetensors *f)
{
    f->by_name = malloc((f->n ? f->n : 1) * sizeof *f->by_name);
    if (!f->by_name) return sea_error(SEA_ERR_OOM, "safetensors: out of memory");
    for (size_t i = 0; i < f->n; i++) f->by_name[i] = i;
    /* Bottom-up merge sort by name: qsort has no context argument in C17 and a static
     * context would not be thread-safe. */
    size_t n = f->n;
    size_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return sea_error(SEA_ERR_OOM, "safetensors: out of memory");
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = strcmp(f->tensors[f->by_name[i]].name, f->tensors[f->by_name[j]].name) <= 0
                               ? f->by_name[i++] : f->by_name[j++];
            while (i < mid) tmp[k++] = f->by_name[i++];
            while (j < hi) tmp[k++] = f->by_name[j++];
        }
        memcpy(f->by_name, tmp, n * sizeof *tmp);
    }
    free(tmp);
    for (size_t i = 1; i < n; i++) {
        const sea_st_tensor *a = &f->tensors[f->by_name[i - 1]], *b = &f->tensors[f->by_name[i]];
        if (strcmp(a->name, b->name) == 0) {
            if (a->file == b->file)
                return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' appears twice", a->file, a->name);
            return sea_error(SEA_ERR_FORMAT, "tensor '%s' appears in both %s and %s", a->name, a->file, b->file);
        }
    }
    return SEA_OK;
}

void sea_safetensors_close(sea_safetensors *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) free((char *)f->tensors[i].name);
    for (size_t i = 0; i < f->n_shards; i++) {
        sea_file_unmap(&f->shards[i].map);
        free(f->shards[i].path);
    }
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->shards);
    free(f->tensors);
    free(f->by_name);
    free(f);
}

static sea_status add_shard(sea_safetensors *f, const char *path, const void *buf, size_t len)
{
    st_shard *ns = realloc(f->shards, (f->n_shards + 1) * sizeof *ns);
    if (!ns) return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    f->shards = ns;
    st_shard *sh = &f->shards[f->n_shards];
    memset(sh, 0, sizeof *sh);
    sh->path = strdup(path);
    if (!sh->path) return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    f->n_shards++;
    if (buf) {
        sh->base = buf;
        sh->size = len;
    } else {
        SEA_TRY(sea_file_map(path, &sh->map));
        sh->base = sh->map.data;
        sh->size = sh->map.size;
    }
    return parse_shard(f, f->n_shards - 1, f->n_shards == 1);
}

sea_status sea_safetensors_open_memory(const void *buf, size_t len, const char *name, sea_safetensors **out)
{
    *out = NULL;
    sea_safetensors *f = calloc(1, sizeof *f);
    if (!f) return sea_error(SEA_ERR_OOM, "%s: out of memory", name);
    static const char empty = 0;
    sea_status st = add_shard(f, name ? name : "<memory>", buf ? buf : &empty, buf ? len : 0);
    if (!st) st = build_index(f);
    if (st) {
        sea_safetensors_close(f);
        return st;
    }
    *out = f;
    return SEA_OK;
}

sea_status sea_safetensors_open(const char *path, sea_safetensors **out)
{
    *out = NULL;
    sea_safetensors *f = calloc(1, sizeof *f);
    if (!f) return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    sea_status st = add_shard(f, path, NULL, 0);
    if (!st) st = build_index(f);
    if (st) {
        sea_safetensors_close(f);
        return st;
    }
    *out = f;
    return SEA_OK;
}

static sea_status open_index(const char *dir, const char *index_path, sea_safetensors **out)
{
    char *text;
    size_t len;
    SEA_TRY(sea_file_read(index_path, &text, &len));
    cJSON *root;
    sea_status st = sea_json_parse(text, len, index_path, &root);
    free(text);
    if (st) return st;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(root);
        return sea_error(SEA_ERR_FORMAT, "%s: missing object 'weight_map'", index_path);
    }
    sea_safetensors *f = calloc(1, sizeof *f);
    if (!f) {
        cJSON_Delete(root);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", index_path);
    }
    /* Open each distinct shard once, in order of first mention. */
    for (const cJSON *e = wm->child; e && !st; e = e->next) {
        if (!cJSON_IsString(e)) {
            st = sea_error(SEA_ERR_FORMAT, "%s: weight_map['%s'] must be a file name", index_path, e->string);
            break;
        }
        const char *fn = e->valuestring;
        if (strchr(fn, '/') || strcmp(fn, "..") == 0 || !*fn) {
            st = sea_error(SEA_ERR_FORMAT, "%s: weight_map['%s'] names '%s', which is not a plain file name", index_path, e->string, fn);
            break;
        }
        char *path = sea_path_join(dir, fn);
        if (!path) {
            st = sea_error(SEA_ERR_OOM, "%s: out of memory", index_path);
            break;
        }
        bool have = false;
        for (size_t i = 0; i < f->n_shards; i++)
            if (strcmp(f->shards[i].path, path) == 0) have = true;
        if (!have) st = add_shard(f, path, NULL, 0);
        free(path);
    }
    if (!st) st = build_index(f);
    /* Every mapped tensor must be where the index says. */
    for (const cJSON *e = wm->child; e && !st; e = e->next) {
        const sea_st_tensor *t = sea_safetensors_find(f, e->string);
        const char *slash = t ? strrchr(t->file, '/') : NULL;
        const char *base = t ? (slash ? slash + 1 : t->file) : NULL;
        if (!t)
            st = sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' is mapped to %s but that file does not contain it",
                           index_path, e->string, e->valuestring);
        else if (strcmp(base, e->valuestring) != 0)
            st = sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' is mapped to %s but found in %s", index_path, e->string,
                           e->valuestring, t->file);
    }
    cJSON_Delete(root);
    if (st) {
        sea_safetensors_close(f);
        return st;
    }
    *out = f;
    return SEA_OK;
}

sea_status sea_safetensors_open_dir(const char *dir, sea_safetensors **out)
{
    *out = NULL;
    if (!sea_path_is_dir(dir)) return sea_safetensors_open(dir, out);
    char *index = sea_path_join(dir, "model.safetensors.index.json");
    char *single = sea_path_join(dir, "model.safetensors");
    sea_status st;
    if (!index || !single) st = sea_error(SEA_ERR_OOM, "%s: out of memory", dir);
    else if (sea_file_exists(index)) st = open_index(dir, index, out);
    else if (sea_file_exists(single)) st = sea_safetensors_open(single, out);
    else st = sea_error(SEA_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json in this directory", dir);
    free(index);
    free(single);
    return st;
}

size_t sea_safetensors_count(const sea_safetensors *f) { return f ? f->n : 0; }

const sea_st_tensor *sea_safetensors_at(const sea_safetensors *f, size_t i)
{
    return f && i < f->n ? &f->tensors[i] : NULL;
}

const sea_st_tensor *sea_safetensors_find(const sea_safetensors *f, const char *name)
{
    if (!f || !name || !f->by_name) return NULL;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tensors[f->by_name[mid]].name, name);
        if (c == 0) return &f->tensors[f->by_name[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

sea_status sea_safetensors_get(const sea_safetensors *f, const char *name, const sea_st_tensor **out)
{
    *out = sea_safetensors_find(f, name);
    if (*out) return SEA_OK;
    const char *where = f && f->n_shards ? f->shards[0].path : "safetensors";
    if (f && f->n_shards > 1)
        return sea_error(SEA_ERR_FORMAT, "tensor '%s' not found in any of the %zu shards (first: %s)", name, f->n_shards, where);
    return sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' not found", where, name);
}

const char *sea_safetensors_metadata(const sea_safetensors *f, const char *key)
{
    if (!f) return NULL;
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

sea_status sea_st_tensor_expect(const sea_st_tensor *t, int ndim, const int64_t *shape)
{
    if (t->dtype == SEA_ST_DTYPE_NONE)
        return sea_error(SEA_ERR_DTYPE, "%s: tensor '%s': dtype %s is not supported (need F32, BF16, F16 or I32)",
                         t->file ? t->file : "safetensors", t->name, t->dtype_name);
    if (ndim < 0) return SEA_OK;
    bool ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        char a[160], b[160];
        shape_str(t->shape, t->ndim, a, sizeof a);
        shape_str(shape, ndim, b, sizeof b);
        return sea_error(SEA_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s",
                         t->file ? t->file : "safetensors", t->name, a, b);
    }
    return SEA_OK;
}

sea_status sea_st_tensor_to_f32(const sea_st_tensor *t, float *dst)
{
    SEA_TRY(sea_st_tensor_expect(t, -1, NULL));
    size_t n = (size_t)sea_st_tensor_numel(t);
    const uint8_t *p = t->data;
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case SEA_F32: memcpy(&dst[i], p + 4 * i, 4); break;
        case SEA_I32: {
            int32_t v;
            memcpy(&v, p + 4 * i, 4);
            dst[i] = (float)v;
            break;
        }
        case SEA_BF16: dst[i] = sea_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8)); break;
        case SEA_F16: dst[i] = sea_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8)); break;
        default: break;
        }
    }
    return SEA_OK;
}

/* ---------------------------------------------------------------- writing */

typedef struct strbuf {
    char *p;
    size_t n, cap;
    bool oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_fmt(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(strbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* JSON string literal with the escapes JSON requires. */
static void sb_json_str(strbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q == '"') sb_put(b, "\\\"", 2);
        else if (*q == '\\') sb_put(b, "\\\\", 2);
        else if (*q < 0x20) sb_fmt(b, "\\u%04x", *q);
        else sb_put(b, (const char *)q, 1);
    }
    sb_put(b, "\"", 1);
}

static sea_status check_write_tensor(const char *path, const sea_st_tensor *t, const char **dtype_name)
{
    if (!t->name || !*t->name) return sea_error(SEA_ERR_INVALID, "%s: a tensor to write has no name", path);
    if (strcmp(t->name, "__metadata__") == 0)
        return sea_error(SEA_ERR_INVALID, "%s: '__metadata__' is not a valid tensor name", path);
    const char *dn = t->dtype_name ? t->dtype_name : sea_st_dtype_name((sea_dtype)t->dtype);
    if (!dn || !sea_st_dtype_size(dn))
        return sea_error(SEA_ERR_DTYPE, "%s: tensor '%s': no safetensors dtype for %s", path, t->name,
                         t->dtype_name ? t->dtype_name : "this dtype");
    if (t->ndim < 0 || t->ndim > SEA_ST_MAX_DIMS)
        return sea_error(SEA_ERR_SHAPE, "%s: tensor '%s': ndim %d out of range", path, t->name, t->ndim);
    uint64_t bytes = sea_st_dtype_size(dn);
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0) return sea_error(SEA_ERR_SHAPE, "%s: tensor '%s': negative dimension", path, t->name);
        bytes *= (uint64_t)t->shape[i];
    }
    if (bytes != t->nbytes)
        return sea_error(SEA_ERR_SHAPE, "%s: tensor '%s': nbytes %zu but shape x %s size is %" PRIu64, path, t->name,
                         t->nbytes, dn, bytes);
    if (t->nbytes && !t->data) return sea_error(SEA_ERR_INVALID, "%s: tensor '%s': data is NULL", path, t->name);
    *dtype_name = dn;
    return SEA_OK;
}

sea_status sea_safetensors_write(const char *path, const sea_st_tensor *tensors, size_t n,
                                 const char *const *meta_keys, const char *const *meta_values, size_t n_meta)
{
    strbuf h = {0};
    sb_str(&h, "{\"__metadata__\":{\"format\":\"pt\"");
    for (size_t i = 0; i < n_meta; i++) {
        if (strcmp(meta_keys[i], "format") == 0) continue;
        sb_str(&h, ",");
        sb_json_str(&h, meta_keys[i]);
        sb_str(&h, ":");
        sb_json_str(&h, meta_values[i]);
    }
    sb_str(&h, "}");
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *dn = NULL;
        sea_status st = check_write_tensor(path, &tensors[i], &dn);
        for (size_t j = 0; !st && j < i; j++)
            if (strcmp(tensors[j].name, tensors[i].name) == 0)
                st = sea_error(SEA_ERR_INVALID, "%s: tensor '%s' given twice", path, tensors[i].name);
        if (st) {
            free(h.p);
            return st;
        }
        sb_str(&h, ",");
        sb_json_str(&h, tensors[i].name);
        sb_fmt(&h, ":{\"dtype\":\"%s\",\"shape\":[", dn);
        for (int d = 0; d < tensors[i].ndim; d++) sb_fmt(&h, "%s%" PRId64, d ? "," : "", tensors[i].shape[d]);
        sb_fmt(&h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, off + tensors[i].nbytes);
        off += tensors[i].nbytes;
    }
    sb_str(&h, "}");
    while (!h.oom && h.n % 8) sb_str(&h, " ");
    if (h.oom) {
        free(h.p);
        return sea_error(SEA_ERR_OOM, "%s: out of memory building the header", path);
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.n >> (8 * i));
    sea_atomic_file af;
    sea_status st = sea_atomic_open(path, &af);
    if (st) {
        free(h.p);
        return st;
    }
    sea_atomic_write(&af, len8, 8);
    sea_atomic_write(&af, h.p, h.n);
    free(h.p);
    for (size_t i = 0; i < n; i++) sea_atomic_write(&af, tensors[i].data, tensors[i].nbytes);
    return sea_atomic_commit(&af);
}

sea_status sea_safetensors_write_sharded(const char *dir, const char *prefix, const sea_st_tensor *tensors,
                                         size_t n, size_t max_shard_bytes, size_t *n_shards)
{
    if (n_shards) *n_shards = 0;
    if (!prefix || !*prefix) prefix = "model";
    if (max_shard_bytes == 0) return sea_error(SEA_ERR_INVALID, "%s: max shard size must be positive", dir);
    /* Greedy in the given order: start a new shard when the next tensor would not fit. */
    size_t *shard_of = malloc((n ? n : 1) * sizeof *shard_of);
    if (!shard_of) return sea_error(SEA_ERR_OOM, "%s: out of memory", dir);
    size_t ns = 0, cur = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || (cur > 0 && cur + tensors[i].nbytes > max_shard_bytes)) {
            ns++;
            cur = 0;
        }
        shard_of[i] = ns - 1;
        cur += tensors[i].nbytes;
        total += tensors[i].nbytes;
    }
    if (ns == 0) ns = 1;
    sea_status st = SEA_OK;
    char name[512];
    if (ns == 1) {
        snprintf(name, sizeof name, "%s.safetensors", prefix);
        char *path = sea_path_join(dir, name);
        st = path ? sea_safetensors_write(path, tensors, n, NULL, NULL, 0) : sea_error(SEA_ERR_OOM, "out of memory");
        free(path);
        free(shard_of);
        if (!st && n_shards) *n_shards = 1;
        return st;
    }
    strbuf idx = {0};
    sb_fmt(&idx, "{\n  \"metadata\": {\n    \"total_size\": %" PRIu64 "\n  },\n  \"weight_map\": {", total);
    size_t begin = 0;
    for (size_t s = 0; s < ns && !st; s++) {
        size_t end = begin;
        while (end < n && shard_of[end] == s) end++;
        snprintf(name, sizeof name, "%s-%05zu-of-%05zu.safetensors", prefix, s + 1, ns);
        char *path = sea_path_join(dir, name);
        if (!path) st = sea_error(SEA_ERR_OOM, "out of memory");
        else st = sea_safetensors_write(path, tensors + begin, end - begin, NULL, NULL, 0);
        free(path);
        for (size_t i = begin; i < end; i++) {
            sb_str(&idx, i ? ",\n    " : "\n    ");
            sb_json_str(&idx, tensors[i].name);
            sb_str(&idx, ": ");
            sb_json_str(&idx, name);
        }
        begin = end;
    }
    sb_str(&idx, "\n  }\n}\n");
    free(shard_of);
    if (!st && idx.oom) st = sea_error(SEA_ERR_OOM, "%s: out of memory building the index", dir);
    if (!st) {
        snprintf(name, sizeof name, "%s.safetensors.index.json", prefix);
        char *path = sea_path_join(dir, name);
        st = path ? sea_file_write_atomic(path, idx.p, idx.n) : sea_error(SEA_ERR_OOM, "out of memory");
        free(path);
    }
    free(idx.p);
    if (!st && n_shards) *n_shards = ns;
    return st;
}
