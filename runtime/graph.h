/* Captured op sequences: record the ops of a fixed-shape step once, replay them many times.
 *
 * A decode step runs the same ops on the same buffers every step; only the values in a few
 * small device tensors change (the tokens just sampled, their positions, the KV-cache rows
 * they go to). Replaying a captured step skips the per-op host work: validation, dispatch and,
 * on CUDA, one kernel launch per op (a CUDA graph is launched with one call and its kernels
 * run back to back). On a backend without native graphs the runtime keeps the validated op
 * list and calls the backend's kernels directly, which is also how the capture logic of the
 * models is tested on machines without a GPU.
 *
 * Between sea_graph_capture_begin(s) and sea_graph_capture_end(s, &g), ops issued on s are
 * validated as usual and captured, NOT run. sea_graph_launch(s, g) runs them, in order, on the
 * buffers' contents at that time. While s captures, host transfers on it, stream syncs and
 * tape recording are errors: they would need results the capture does not produce.
 * Everything an op's parameters say (shapes, views, n_keys, the sampler's step) is frozen at
 * capture; what changes between replays must live in device tensors the ops read.
 * A graph keeps every buffer it uses alive until sea_graph_free. */
#ifndef SEA_GRAPH_H
#define SEA_GRAPH_H

#include <stdbool.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_graph sea_graph;

/* Start capturing on s (one capture per stream at a time). */
sea_status sea_graph_capture_begin(sea_stream *s);
/* Stop capturing; *out is the graph (NULL on error, and the capture is discarded). */
sea_status sea_graph_capture_end(sea_stream *s, sea_graph **out);
/* Discard a capture in progress (error paths); no-op when s is not capturing. */
void sea_graph_capture_abort(sea_stream *s);
bool sea_graph_capturing(const sea_stream *s);
/* Run the captured ops on s (the stream it was captured on, or another of the same device). */
sea_status sea_graph_launch(sea_stream *s, sea_graph *g);
void sea_graph_free(sea_graph *g);   /* NULL is fine; before closing the graph's device */
int sea_graph_op_count(const sea_graph *g);
bool sea_graph_is_native(const sea_graph *g);   /* replayed by the backend (a CUDA graph) */

/* Used by the op dispatcher (ops.c) for an op issued on a capturing stream: keeps its
 * buffers alive and, without native graphs, a copy of the op to replay. */
sea_status sea_graph_record_op(sea_stream *s, const sea_op *op);

#ifdef __cplusplus
}
#endif
#endif
