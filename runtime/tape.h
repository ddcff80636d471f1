/* Reverse-mode autograd by tape.
 *
 * While a tape is attached to a stream (s->tape = tape, or sea_tape_begin), every op with a
 * backward that touches a tensor requiring gradients is recorded. Gradients are found by
 * identity of the view (buffer, offset, dtype, shape, strides):
 *  - parameters: sea_tape_watch(tape, param, grad) registers the caller's gradient view
 *    (e.g. a slice of the flat gradient buffer); backward accumulates into it (+=), so
 *    zero it yourself when a new accumulation starts.
 *  - intermediate tensors: gradient buffers are allocated on the device on demand during
 *    backward and freed by sea_tape_reset.
 *  - views: a reshape, slice or strided view of a recorded output or watched parameter
 *    (e.g. q/k/v out of a fused qkv) shares that tensor's gradient memory at the same
 *    element offsets, so gradients flow through views without copies.
 * sea_tape_backward(tape, s, out, gout) seeds d(out) = gout and walks the tape in reverse,
 * calling each op's backward. Several outputs may be seeded before one backward pass by
 * calling sea_tape_seed then sea_tape_backward_seeded. */
#ifndef SEA_TAPE_H
#define SEA_TAPE_H

#include "backend.h"
#include "op.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_tape sea_tape;

sea_status sea_tape_create(sea_device *dev, sea_tape **out);
void sea_tape_free(sea_tape *t);
/* Forget recorded ops and free intermediate gradients; watched parameters stay watched. */
void sea_tape_reset(sea_tape *t);
void sea_tape_begin(sea_tape *t, sea_stream *s); /* s->tape = t */
void sea_tape_end(sea_stream *s);                /* s->tape = NULL */

sea_status sea_tape_watch(sea_tape *t, const sea_tensor *param, sea_tensor *grad);
/* Whether `x` requires a gradient (watched, or computed from something that does). */
bool sea_tape_requires_grad(const sea_tape *t, const sea_tensor *x);
/* Called by sea_op_run: records `op` if any float input requires grad. */
sea_status sea_tape_record(sea_tape *t, const sea_op *op);
size_t sea_tape_size(const sea_tape *t);

sea_status sea_tape_seed(sea_tape *t, sea_stream *s, const sea_tensor *out, const sea_tensor *gout);
sea_status sea_tape_backward_seeded(sea_tape *t, sea_stream *s);
sea_status sea_tape_backward(sea_tape *t, sea_stream *s, const sea_tensor *out, const sea_tensor *gout);
/* The gradient of x after backward (watched grad or intermediate), or NULL. */
const sea_tensor *sea_tape_grad(const sea_tape *t, const sea_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
