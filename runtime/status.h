/* Status codes and the thread-local error message.
 *
 * Every library function that can fail for a reason outside the programmer's control
 * returns a sea_status and, on failure, leaves a message in sea_last_error() naming what
 * was wrong and where (file, tensor, shape, dtype, device). The library never exits. */
#ifndef SEA_STATUS_H
#define SEA_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_status {
    SEA_OK = 0,
    SEA_ERR_INVALID,      /* bad argument or flag */
    SEA_ERR_SHAPE,        /* shapes do not agree */
    SEA_ERR_DTYPE,        /* dtype not accepted by this op/device */
    SEA_ERR_OOM,          /* host or device allocation failed */
    SEA_ERR_IO,           /* file could not be opened/read/written */
    SEA_ERR_FORMAT,       /* file content malformed */
    SEA_ERR_DEVICE,       /* device/driver failure, unknown device */
    SEA_ERR_UNSUPPORTED,  /* op/dtype not implemented on this backend */
    SEA_ERR_NUMERIC,      /* NaN/Inf where it must not be */
    SEA_ERR_EXTERNAL,     /* an external program (judge) misbehaved */
    SEA_ERR_INTERNAL,
} sea_status;

/* Message of the last failure on this thread ("" when none). */
const char *sea_last_error(void);

/* Set the message (printf-style) and return `code`, so callers can write
 * `return sea_error(SEA_ERR_SHAPE, "matmul: a is %s", ...);`. */
sea_status sea_error(sea_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
sea_status sea_verror(sea_status code, const char *fmt, va_list ap);

/* Prefix the current message with context: "loading model.safetensors: <old message>". */
sea_status sea_error_context(sea_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sea_error_clear(void);
const char *sea_status_name(sea_status s);

/* Propagate a failure unchanged. */
#define SEA_TRY(expr)                      \
    do {                                   \
        sea_status sea_try_st_ = (expr);   \
        if (sea_try_st_) return sea_try_st_; \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
