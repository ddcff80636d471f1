#include "status.h"

#include <stdio.h>
#include <string.h>

#define SEA_ERROR_MAX 2048

static _Thread_local char error_message[SEA_ERROR_MAX];

const char *sea_last_error(void) { return error_message; }

void sea_error_clear(void) { error_message[0] = '\0'; }

sea_status sea_verror(sea_status code, const char *fmt, va_list ap)
{
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    return code;
}

sea_status sea_error(sea_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sea_verror(code, fmt, ap);
    va_end(ap);
    return code;
}

sea_status sea_error_context(sea_status code, const char *fmt, ...)
{
    char old[SEA_ERROR_MAX];
    memcpy(old, error_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    /* The context goes in front; the old message is cut at the buffer's end if need be. */
    if (n >= 0 && (size_t)n < sizeof error_message && old[0]) {
        size_t room = sizeof error_message - (size_t)n;
        if (room > 2) {
            memcpy(error_message + n, ": ", 2);
            size_t len = strnlen(old, room - 3);
            memcpy(error_message + n + 2, old, len);
            error_message[(size_t)n + 2 + len] = '\0';
        }
    }
    return code;
}

const char *sea_status_name(sea_status s)
{
    switch (s) {
    case SEA_OK: return "ok";
    case SEA_ERR_INVALID: return "invalid argument";
    case SEA_ERR_SHAPE: return "shape mismatch";
    case SEA_ERR_DTYPE: return "dtype mismatch";
    case SEA_ERR_OOM: return "out of memory";
    case SEA_ERR_IO: return "I/O error";
    case SEA_ERR_FORMAT: return "malformed input";
    case SEA_ERR_DEVICE: return "device error";
    case SEA_ERR_UNSUPPORTED: return "unsupported";
    case SEA_ERR_NUMERIC: return "non-finite value";
    case SEA_ERR_EXTERNAL: return "external program error";
    case SEA_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
