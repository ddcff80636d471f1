/* The kernel program: every .cl file of kernels/ was embedded at build time into one source
 * string (ocl_kernels.c, made by cl_embed.c). It is built once per device context at
 * device_open and its kernels are created once; a build failure returns the compiler log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"

extern const char sea_ocl_source[];
extern const unsigned long sea_ocl_source_len;

#define OCL_KERNEL_NAME(name) #name,
static const char *const kernel_names[OCL_K_COUNT] = {OCL_KERNELS(OCL_KERNEL_NAME)};
#undef OCL_KERNEL_NAME

sea_status ocl_program_build(ocl_device_ctx *d)
{
    cl_int err;
    const char *src = sea_ocl_source;
    size_t len = (size_t)sea_ocl_source_len;
    d->program = clCreateProgramWithSource(d->context, 1, &src, &len, &err);
    if (!d->program) return ocl_fail(err, "%s: clCreateProgramWithSource", d->label);
    /* No -cl-fast-relaxed-math: results must match the CPU reference and be reproducible. */
    err = clBuildProgram(d->program, 1, &d->device, "-cl-std=CL1.2", NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t log_n = 0;
        clGetProgramBuildInfo(d->program, d->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_n);
        char *log = calloc(1, log_n + 1);
        if (log) clGetProgramBuildInfo(d->program, d->device, CL_PROGRAM_BUILD_LOG, log_n, log, NULL);
        sea_status st = sea_error(SEA_ERR_DEVICE, "%s: building the OpenCL kernels failed (%s):\n%.1800s", d->label,
                                  ocl_error_name(err), log ? log : "(no build log)");
        free(log);
        clReleaseProgram(d->program);
        d->program = NULL;
        return st;
    }
    for (int i = 0; i < OCL_K_COUNT; i++) {
        d->kernels[i] = clCreateKernel(d->program, kernel_names[i], &err);
        if (!d->kernels[i]) {
            sea_status st = ocl_fail(err, "%s: creating kernel %s", d->label, kernel_names[i]);
            ocl_program_release(d);
            return st;
        }
        size_t wg = 0;
        clGetKernelWorkGroupInfo(d->kernels[i], d->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
        if (wg == 0 || wg > d->max_wg) wg = d->max_wg;
        d->kernel_wg[i] = wg;
    }
    return SEA_OK;
}

void ocl_program_release(ocl_device_ctx *d)
{
    for (int i = 0; i < OCL_K_COUNT; i++)
        if (d->kernels[i]) {
            clReleaseKernel(d->kernels[i]);
            d->kernels[i] = NULL;
        }
    if (d->program) clReleaseProgram(d->program);
    d->program = NULL;
}
