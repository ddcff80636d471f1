/* The CPU backend: always linked into libsea; the reference implementation of every op. */
#ifndef SEA_CPU_BACKEND_H
#define SEA_CPU_BACKEND_H

#include "runtime/backend.h"

const struct sea_backend_ops *sea_cpu_backend(void);

#endif
