/* Per-op timing for finding where a run's time goes: SEA_PROFILE=1 in the environment.
 *
 * Every op run through sea_op_run / sea_op_run_backward is timed by wall clock, the stream
 * synchronised before and after so asynchronous devices (CUDA, OpenCL, Vulkan) report the
 * op's own time; that synchronisation slows those devices down, so read the shares, not the
 * totals. On the CPU ops run synchronously and the numbers are the real ones. The table
 * (calls, total ms, share, by op and direction) goes to stderr at exit. Off by default:
 * then the cost is one branch per op. SEA_PROFILE=shapes also prints the 40 largest rows by
 * (op, direction, operand shapes and dtypes), with each matmul's TFLOP/s and every op's GB/s
 * of its operands' bytes: which GEMM shape falls short of the device's rate. Ops replayed from a captured graph (graph.h) are not
 * timed: generation does not capture decode steps while SEA_PROFILE is set. */
#ifndef SEA_OP_PROFILE_H
#define SEA_OP_PROFILE_H

#include <stdbool.h>

#include "op.h"

/* True when SEA_PROFILE is set to something other than 0 (read once). */
bool sea_op_profile_enabled(void);
/* Wall-clock seconds, monotonic. */
double sea_op_profile_now(void);
/* Add one timed call of op (forward or backward). */
void sea_op_profile_add(const sea_op *op, bool backward, double seconds);

#endif
