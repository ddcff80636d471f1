/* The emulated GPU's scheduler (emu_machine.h). */
#include "emu_machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <mutex>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer every switch is announced, so ASan tracks which stack is live. */
#include <sanitizer/common_interface_defs.h>
#define SEA_EMU_ASAN 1
#endif

/* The linker's bounds of the section holding every __shared__ variable (emu_device.h);
 * weak: a program without any has no such section. */
extern "C" {
extern unsigned char __start_sea_emu_shared[] __attribute__((weak));
extern unsigned char __stop_sea_emu_shared[] __attribute__((weak));
}

namespace sea_emu {

bool reverse_order = false;
bool defer_async_copies = true;
bool (*global_range_ok)(const void *p, size_t n) = nullptr;
long bank_conflicts = 0;

namespace {

enum { RUN, WAIT_WARP, WAIT_BLOCK, DONE };
enum { MAX_THREADS = 1024, MAX_WARPS = MAX_THREADS / 32 };
/* Kernels keep fragments and small arrays on the stack; the pages are touched lazily. */
const size_t STACK_BYTES = 256 * 1024;
/* Largest dynamic shared memory of a launch (the emulated device's opt-in limit is 227 KiB). */
const size_t SMEM_BYTES = 256 * 1024;
const size_t CANARY = 64;

struct pending_copy {
    void *dst;
    const void *src;
    bool zero;
};

/* A user-level thread's saved context. On x86-64 a switch saves the six callee-saved
 * registers and the stack pointer (sea_emu_switch below); elsewhere it is swapcontext,
 * which also makes a system call per switch for the signal mask (several times slower). */
struct context {
#if defined(__x86_64__)
    void *sp;
#else
    ucontext_t uc;
#endif
    const void *stack_bottom; /* for ASan's fiber annotations (the scheduler's is learned) */
    size_t stack_size;
    void *asan_fake_stack;
};

struct thread_state {
    context ctx;
    int state;
    std::vector<pending_copy> pending;
};

std::mutex machine_lock;
thread_state threads[MAX_THREADS];
char *stacks[MAX_THREADS];
warp_slots warps[MAX_WARPS];
int warp_arrived[MAX_WARPS];
uint64_t block_exchange[MAX_THREADS];
alignas(128) unsigned char smem[SMEM_BYTES + CANARY];
size_t smem_size;
context scheduler;
int cur, n_threads;
dim cur_block, grid, block;
const std::function<void()> *kernel_body;
std::string first_fault;
long n_faults;

void apply(const pending_copy &c)
{
    if (c.zero) memset(c.dst, 0, 16);
    else memcpy(c.dst, c.src, 16);
}


#if defined(__x86_64__)
/* sea_emu_switch(&from->sp, to->sp): push the callee-saved registers, save the stack
 * pointer, load the other one, pop its registers, return into it. A new thread's stack is
 * laid out (context_start) so that the return enters sea_emu_trampoline with the entry
 * function in r12. */
extern "C" void sea_emu_switch(void **save_sp, void *load_sp);
extern "C" void sea_emu_trampoline();
asm(".text\n"
    ".globl sea_emu_switch\n"
    ".hidden sea_emu_switch\n"
    ".type sea_emu_switch, @function\n"
    "sea_emu_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size sea_emu_switch, .-sea_emu_switch\n"
    ".globl sea_emu_trampoline\n"
    ".hidden sea_emu_trampoline\n"
    ".type sea_emu_trampoline, @function\n"
    "sea_emu_trampoline:\n"
    "    callq *%r12\n"
    "    ud2\n"
    ".size sea_emu_trampoline, .-sea_emu_trampoline\n");

void context_start(context *c, char *stack, size_t size, void (*fn)())
{
    /* Top of stack, 16-byte aligned; below it the frame sea_emu_switch pops: r15 r14 r13
     * r12 rbx rbp, then the return address. After the ret, rsp is 16-byte aligned at the
     * trampoline's call, as the ABI requires. */
    uintptr_t top = ((uintptr_t)(stack + size) & ~(uintptr_t)15) - 16;
    void **frame = (void **)top - 7;
    frame[0] = nullptr;         /* r15 */
    frame[1] = nullptr;         /* r14 */
    frame[2] = nullptr;         /* r13 */
    frame[3] = (void *)fn;      /* r12 */
    frame[4] = nullptr;         /* rbx */
    frame[5] = nullptr;         /* rbp */
    frame[6] = (void *)sea_emu_trampoline;
    c->sp = frame;
    c->stack_bottom = stack;
    c->stack_size = size;
}

void raw_switch(context *from, context *to) { sea_emu_switch(&from->sp, to->sp); }
#else
void context_start(context *c, char *stack, size_t size, void (*fn)())
{
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = nullptr; /* threads never return: they switch back when done */
    makecontext(&c->uc, fn, 0);
    c->stack_bottom = stack;
    c->stack_size = size;
}

void raw_switch(context *from, context *to) { swapcontext(&from->uc, &to->uc); }
#endif

/* Switch from one context to the other; `from_exits`: from is never resumed. */
void context_switch(context *from, context *to, bool from_exits = false)
{
#ifdef SEA_EMU_ASAN
    __sanitizer_start_switch_fiber(from_exits ? nullptr : &from->asan_fake_stack, to->stack_bottom, to->stack_size);
#else
    (void)from_exits;
#endif
    raw_switch(from, to);
#ifdef SEA_EMU_ASAN
    /* Resumed: only the scheduler and the block's threads switch to one another. */
    const void *prev_bottom;
    size_t prev_size;
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, &prev_bottom, &prev_size);
    if (from != &scheduler) {
        scheduler.stack_bottom = prev_bottom;
        scheduler.stack_size = prev_size;
    }
#endif
}

void yield_to_scheduler() { context_switch(&threads[cur].ctx, &scheduler); }

void thread_entry()
{
#ifdef SEA_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &scheduler.stack_bottom, &scheduler.stack_size);
#endif
    (*kernel_body)();
    if (!threads[cur].pending.empty()) fail("cp.async still pending at kernel exit");
    threads[cur].state = DONE;
    context_switch(&threads[cur].ctx, &scheduler, true); /* never resumed */
}

int lanes_of_warp(int w) { return n_threads - 32 * w < 32 ? n_threads - 32 * w : 32; }

bool ensure_stacks(int nt)
{
    for (int i = 0; i < nt; i++) {
        if (stacks[i]) continue;
        void *p = mmap(nullptr, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return false;
        stacks[i] = (char *)p;
    }
    return true;
}

/* One block: every thread runs until all are done, or until no thread can move. */
void run_block()
{
    const int nt = n_threads, nw = (nt + 31) / 32;
    for (int i = 0; i < nt; i++) {
        thread_state &t = threads[i];
        t.state = RUN;
        t.pending.clear();
        context_start(&t.ctx, stacks[i], STACK_BYTES, thread_entry);
    }
    for (int w = 0; w < nw; w++) warp_arrived[w] = 0;
    for (;;) {
        bool progress = false;
        for (int k = 0; k < nw; k++) {
            const int w = reverse_order ? nw - 1 - k : k, nl = lanes_of_warp(w);
            for (;;) {
                bool ran = false;
                for (int j = 0; j < nl; j++) {
                    const int i = 32 * w + (reverse_order ? nl - 1 - j : j);
                    if (threads[i].state != RUN) continue;
                    cur = i;
                    context_switch(&scheduler, &threads[i].ctx);
                    ran = true;
                }
                if (warp_arrived[w] == nl) {
                    for (int l = 0; l < nl; l++) threads[32 * w + l].state = RUN;
                    warp_arrived[w] = 0;
                    ran = true;
                }
                if (!ran) break;
                progress = true;
            }
        }
        int waiting = 0, done = 0;
        for (int i = 0; i < nt; i++) {
            waiting += threads[i].state == WAIT_BLOCK;
            done += threads[i].state == DONE;
        }
        if (done == nt) return;
        if (waiting + done == nt) {
            if (done) {
                cur = -1;
                fail("__syncthreads reached after some threads of the block exited");
            }
            for (int i = 0; i < nt; i++)
                if (threads[i].state == WAIT_BLOCK) threads[i].state = RUN;
            continue;
        }
        if (!progress) {
            cur = -1;
            fail("deadlock: threads wait at different barriers (a divergent __syncthreads or warp collective)");
            /* The stuck threads' contexts are abandoned; the next block makes new ones. */
            return;
        }
    }
}

} /* namespace */

bool run_grid(const dim &g, const dim &b, size_t dynamic_smem_bytes, const std::function<void()> &body,
              std::string *fault)
{
    std::lock_guard<std::mutex> hold(machine_lock);
    const unsigned long long nt = (unsigned long long)b.x * b.y * b.z;
    first_fault.clear();
    n_faults = 0;
    if (nt == 0 || nt > MAX_THREADS || dynamic_smem_bytes > SMEM_BYTES || !ensure_stacks((int)nt)) {
        if (fault) *fault = "launch outside the emulator's limits (1..1024 threads, 256 KiB shared memory)";
        return false;
    }
    grid = g;
    block = b;
    n_threads = (int)nt;
    smem_size = dynamic_smem_bytes;
    kernel_body = &body;
    /* Static shared memory starts as NaN (0xff bytes) at every launch, like the dynamic part
     * at every block: reading before writing shows. (Not per block: the section holds every
     * kernel's variables, and large grids would pay for it many times over.) */
    unsigned char *shared_begin = __start_sea_emu_shared, *shared_end = __stop_sea_emu_shared;
    if (shared_begin && shared_end > shared_begin) memset(shared_begin, 0xff, (size_t)(shared_end - shared_begin));
    for (unsigned z = 0; z < g.z && !n_faults; z++)
        for (unsigned y = 0; y < g.y && !n_faults; y++)
            for (unsigned x = 0; x < g.x && !n_faults; x++) {
                cur_block = {x, y, z};
                memset(smem, 0xff, smem_size);
                memset(smem + smem_size, 0x5a, CANARY);
                run_block();
                for (size_t i = 0; i < CANARY; i++)
                    if (smem[smem_size + i] != 0x5a) {
                        cur = -1;
                        fail("shared memory written past the launched dynamic size");
                        break;
                    }
            }
    kernel_body = nullptr;
    if (fault) *fault = first_fault;
    return n_faults == 0;
}

dim thread_idx()
{
    const unsigned r = (unsigned)cur;
    return {r % block.x, r / block.x % block.y, r / (block.x * block.y)};
}
dim block_idx() { return cur_block; }
dim block_dim() { return block; }
dim grid_dim() { return grid; }
int thread_rank() { return cur; }
int lane() { return cur & 31; }

void fail(const char *what)
{
    if (n_faults++ == 0) {
        char where[160];
        if (cur >= 0)
            snprintf(where, sizeof where, "block (%u, %u, %u) thread %d: ", cur_block.x, cur_block.y, cur_block.z, cur);
        else
            snprintf(where, sizeof where, "block (%u, %u, %u): ", cur_block.x, cur_block.y, cur_block.z);
        first_fault = std::string(where) + what;
    }
}

void block_barrier()
{
    threads[cur].state = WAIT_BLOCK;
    yield_to_scheduler();
}

void warp_barrier()
{
    threads[cur].state = WAIT_WARP;
    warp_arrived[cur / 32]++;
    yield_to_scheduler();
}

warp_slots &my_warp() { return warps[cur / 32]; }
uint64_t *block_slots() { return block_exchange; }

unsigned char *dynamic_smem() { return smem; }

bool in_dynamic_smem(const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    return c >= smem && c + n <= smem + smem_size;
}

void async_copy16(void *dst, const void *src, bool zero_fill)
{
    if (((uintptr_t)dst & 15) || (!zero_fill && ((uintptr_t)src & 15))) fail("cp.async address not 16-byte aligned");
    if (!in_dynamic_smem(dst, 16)) fail("cp.async writes outside the launched shared memory");
    if (!zero_fill && global_range_ok && !global_range_ok(src, 16)) fail("cp.async reads outside device memory");
    if (n_faults) return;
    pending_copy c = {dst, src, zero_fill};
    if (defer_async_copies) threads[cur].pending.push_back(c);
    else apply(c);
}

void async_wait_all()
{
    for (const pending_copy &c : threads[cur].pending) apply(c);
    threads[cur].pending.clear();
}

} /* namespace sea_emu */
