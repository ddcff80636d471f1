/* Small helpers shared by the file-format readers: whole-file reads, mmap, atomic writes and
 * typed cJSON field access whose errors name the file and the field. */
#ifndef SEA_MODELS_JSON_UTIL_H
#define SEA_MODELS_JSON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read a whole file into a NUL-terminated malloc'ed buffer. */
sea_status sea_file_read(const char *path, char **data, size_t *len);
bool sea_file_exists(const char *path);
bool sea_path_is_dir(const char *path);
/* dir + "/" + name into a malloc'ed string (NULL on OOM). */
char *sea_path_join(const char *dir, const char *name);
/* Directory part of a path ("." when none), malloc'ed. */
char *sea_path_dirname(const char *path);

/* Read-only mapping of a whole file (an empty file maps to a non-NULL zero-length region). */
typedef struct sea_mapped_file {
    const void *data;
    size_t size;
    bool is_mmap; /* false: malloc'ed copy (or empty) */
} sea_mapped_file;
sea_status sea_file_map(const char *path, sea_mapped_file *m);
void sea_file_unmap(sea_mapped_file *m);

/* Atomic write: data goes to a temporary file next to `path`, fsync'ed, then renamed over it. */
typedef struct sea_atomic_file {
    FILE *fp;
    char *tmp_path;
    char *path;
    bool failed;
} sea_atomic_file;
sea_status sea_atomic_open(const char *path, sea_atomic_file *af);
/* Record-and-continue writes: the first failure is reported by commit. Text may also be
 * fprintf'ed to af->fp directly: commit checks the stream's error flag. */
void sea_atomic_write(sea_atomic_file *af, const void *data, size_t n);
sea_status sea_atomic_commit(sea_atomic_file *af); /* fsync + rename (+ fsync of the directory) */
void sea_atomic_abort(sea_atomic_file *af);        /* removes the temporary file */
sea_status sea_file_write_atomic(const char *path, const void *data, size_t n);

/* Parse JSON text; the error says where (byte offset and a short excerpt). */
sea_status sea_json_parse(const char *text, size_t len, const char *file, cJSON **out);

/* Typed optional fields: absent (or JSON null) leaves *out untouched and sets *present=false
 * (present may be NULL); a present field of the wrong type is an error naming file and key. */
sea_status sea_json_int(const cJSON *obj, const char *key, const char *file, int64_t *out, bool *present);
sea_status sea_json_double(const cJSON *obj, const char *key, const char *file, double *out, bool *present);
sea_status sea_json_bool(const cJSON *obj, const char *key, const char *file, bool *out, bool *present);
/* Copies into buf (cap bytes incl. NUL); too long is an error. */
sea_status sea_json_str(const cJSON *obj, const char *key, const char *file, char *buf, size_t cap, bool *present);
/* True when a JSON number is an exact integer within [lo, hi]. */
bool sea_json_is_int(const cJSON *item, int64_t lo, int64_t hi, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
