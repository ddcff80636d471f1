#include "json_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

sea_status sea_file_read(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sea_error(SEA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return sea_error(SEA_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(fp);
        return sea_error(SEA_ERR_OOM, "%s: cannot allocate %zu bytes to read it", path, n + 1);
    }
    size_t got = n ? fread(buf, 1, n, fp) : 0;
    int err = ferror(fp);
    fclose(fp);
    if (got != n || err) {
        free(buf);
        return sea_error(SEA_ERR_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return SEA_OK;
}

bool sea_file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool sea_path_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

char *sea_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

char *sea_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

sea_status sea_file_map(const char *path, sea_mapped_file *m)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sea_error(SEA_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return sea_error(SEA_ERR_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)sb.st_size;
    if (n == 0) {
        close(fd);
        m->data = "";
        return SEA_OK;
    }
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return sea_error(SEA_ERR_IO, "%s: mmap of %zu bytes failed: %s", path, n, strerror(errno));
    m->data = p;
    m->size = n;
    m->is_mmap = true;
    return SEA_OK;
}

void sea_file_unmap(sea_mapped_file *m)
{
    if (m->is_mmap && m->data) munmap((void *)m->data, m->size);
    memset(m, 0, sizeof *m);
}

sea_status sea_atomic_open(const char *path, sea_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    size_t n = strlen(path);
    af->path = strdup(path);
    af->tmp_path = malloc(n + 16);
    if (!af->path || !af->tmp_path) {
        free(af->path);
        free(af->tmp_path);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    }
    /* Same directory as the target so rename() is atomic (same filesystem). */
    snprintf(af->tmp_path, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        sea_status st = sea_error(SEA_ERR_IO, "%s: cannot create temporary file %s: %s", path,
                                  af->tmp_path, strerror(errno));
        free(af->path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return st;
    }
    fchmod(fd, 0644);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        close(fd);
        unlink(af->tmp_path);
        free(af->path);
        free(af->tmp_path);
        memset(af, 0, sizeof *af);
        return sea_error(SEA_ERR_IO, "%s: fdopen failed", path);
    }
    return SEA_OK;
}

void sea_atomic_write(sea_atomic_file *af, const void *data, size_t n)
{
    if (af->failed || !af->fp || n == 0) return;
    if (fwrite(data, 1, n, af->fp) != n) af->failed = true;
}

void sea_atomic_abort(sea_atomic_file *af)
{
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

sea_status sea_atomic_commit(sea_atomic_file *af)
{
    if (!af->fp) return sea_error(SEA_ERR_INVALID, "atomic write: file not open");
    /* ferror: writers may also fprintf to af->fp directly */
    bool ok = !af->failed && fflush(af->fp) == 0 && !ferror(af->fp) && fsync(fileno(af->fp)) == 0;
    int e = errno;
    if (fclose(af->fp) != 0) ok = false;
    af->fp = NULL;
    if (!ok) {
        sea_status st = sea_error(SEA_ERR_IO, "%s: write failed: %s", af->path, strerror(e));
        sea_atomic_abort(af);
        return st;
    }
    if (rename(af->tmp_path, af->path) != 0) {
        sea_status st = sea_error(SEA_ERR_IO, "%s: rename from %s failed: %s", af->path,
                                  af->tmp_path, strerror(errno));
        sea_atomic_abort(af);
        return st;
    }
    /* Persist the directory entry too, so a crash after return cannot lose the rename. */
    char *dir = sea_path_dirname(af->path);
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
    return SEA_OK;
}

sea_status sea_file_write_atomic(const char *path, const void *data, size_t n)
{
    sea_atomic_file af;
    SEA_TRY(sea_atomic_open(path, &af));
    sea_atomic_write(&af, data, n);
    return sea_atomic_commit(&af);
}

sea_status sea_json_parse(const char *text, size_t len, const char *file, cJSON **out)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        char excerpt[24] = {0};
        size_t k = 0;
        for (size_t i = off; i < len && k < sizeof excerpt - 1; i++)
            excerpt[k++] = (text[i] >= 32 && text[i] < 127) ? text[i] : '?';
        return sea_error(SEA_ERR_FORMAT, "%s: malformed JSON near byte %zu ('%s')", file, off, excerpt);
    }
    *out = j;
    return SEA_OK;
}

bool sea_json_is_int(const cJSON *item, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsNumber(item)) return false;
    double d = item->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi) return false;
    /* Above 2^53 doubles are not exact integers. */
    if (fabs(d) > 9007199254740992.0) return false;
    if (out) *out = (int64_t)d;
    return true;
}

static const cJSON *field(const cJSON *obj, const char *key, bool *present)
{
    const cJSON *it = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (it && cJSON_IsNull(it)) it = NULL;
    if (present) *present = it != NULL;
    return it;
}

sea_status sea_json_int(const cJSON *obj, const char *key, const char *file, int64_t *out, bool *present)
{
    const cJSON *it = field(obj, key, present);
    if (!it) return SEA_OK;
    if (!sea_json_is_int(it, INT64_MIN, INT64_MAX, out))
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be an integer", file, key);
    return SEA_OK;
}

sea_status sea_json_double(const cJSON *obj, const char *key, const char *file, double *out, bool *present)
{
    const cJSON *it = field(obj, key, present);
    if (!it) return SEA_OK;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be a number", file, key);
    *out = it->valuedouble;
    return SEA_OK;
}

sea_status sea_json_bool(const cJSON *obj, const char *key, const char *file, bool *out, bool *present)
{
    const cJSON *it = field(obj, key, present);
    if (!it) return SEA_OK;
    if (!cJSON_IsBool(it)) return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be true or false", file, key);
    *out = cJSON_IsTrue(it);
    return SEA_OK;
}

sea_status sea_json_str(const cJSON *obj, const char *key, const char *file, char *buf, size_t cap, bool *present)
{
    const cJSON *it = field(obj, key, present);
    if (!it) return SEA_OK;
    if (!cJSON_IsString(it)) return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be a string", file, key);
    size_t n = strlen(it->valuestring);
    if (n + 1 > cap)
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s' is too long (%zu bytes, at most %zu)", file, key, n, cap - 1);
    memcpy(buf, it->valuestring, n + 1);
    return SEA_OK;
}
