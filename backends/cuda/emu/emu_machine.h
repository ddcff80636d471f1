/* The emulated GPU: runs a kernel grid on the CPU, one block after another, each block's
 * threads as cooperative user-level threads (ucontext) that switch only at barriers and
 * warp collectives. One kernel runs at a time (a process-wide lock), which is also what
 * makes `__shared__` variables (plain statics here) private to the running block.
 *
 * Scheduling: each warp runs as far as it can (through its warp-level collectives) before
 * the next warp starts, warps in ascending order, or descending with reverse_order; data
 * passed between warps without a barrier is therefore stale in at least one of the two
 * orders, which is how tests find missing __syncthreads.
 *
 * Faults (a deadlock at divergent barriers, a barrier some threads exited before, shared
 * memory written past the launched size, a misaligned or out-of-range async copy) are
 * recorded with the block and thread; the launch then fails like a faulting kernel. */
#ifndef SEA_CUDA_EMU_MACHINE_H
#define SEA_CUDA_EMU_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>

namespace sea_emu {

struct dim {
    unsigned x, y, z;
};

/* Run body() once per thread of every block of the grid. Returns false, with the first
 * fault described in *fault, if the kernel broke a rule the hardware would punish. */
bool run_grid(const dim &grid, const dim &block, size_t dynamic_smem, const std::function<void()> &body,
              std::string *fault);

/* Scheduling options (see the file comment); a test flips them between runs. */
extern bool reverse_order;
extern bool defer_async_copies; /* cp.async lands at the wait (true) or at issue (false) */

/* Where global memory may be read by async copies: a test registers its inputs, the
 * runtime its allocations. NULL: not checked. */
extern bool (*global_range_ok)(const void *p, size_t n);

/* ldmatrix phases whose 8 rows share a 16-byte bank group (a performance fault, counted). */
extern long bank_conflicts;

/* ---- the running thread (valid inside body) ---- */
dim thread_idx();
dim block_idx();
dim block_dim();
dim grid_dim();
int thread_rank();          /* linear index in the block */
int lane();                 /* thread_rank() % 32 */
void fail(const char *what);
void block_barrier();       /* __syncthreads */
void warp_barrier();        /* all live lanes of the warp meet */

/* Per-warp exchange slots for collectives: a lane writes its own slot, meets the warp at a
 * barrier, reads others', and meets again before the slots are reused. */
struct warp_slots {
    uint64_t v[32];
    const void *addr[32];
    uint32_t a[32][4], b[32][2];
    float c[32][4];
};
warp_slots &my_warp();
uint64_t *block_slots();    /* one per thread of the block, for block-wide collectives */

/* The launch's dynamic shared memory (poisoned with 0xff: NaN in every float view). */
unsigned char *dynamic_smem();
bool in_dynamic_smem(const void *p, size_t n);

/* cp.async: a 16-byte copy applied now or at the thread's next wait (defer_async_copies). */
void async_copy16(void *dst, const void *src, bool zero_fill);
void async_wait_all();

} /* namespace sea_emu */

#endif
