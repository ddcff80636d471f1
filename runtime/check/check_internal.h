/* Internals of the op suite: case descriptions, host tensors, float64 references. */
#ifndef SEA_CHECK_INTERNAL_H
#define SEA_CHECK_INTERNAL_H

#include "check.h"
#include "ops.h"
#include "rng.h"

/* How a case's input (or in-place output) values are drawn. */
typedef enum ct_gen {
    CT_NORMAL = 0,    /* a * N(0, 1), nudged away from 0 */
    CT_UNIFORM,       /* U(a, b) */
    CT_INT,           /* integers in [a, b) */
    CT_INT_IGNORE,    /* integers in [a, b), about 1 in 4 replaced by -1 (ignored targets) */
    CT_MASK,          /* 0/1 (i32 or f32 by dtype); each row: first round(a * row) entries 0 times the row
                         index (left padding), then a fraction b of random holes; row 0 is all 1 */
    CT_POSITIONS,     /* i32 (B, T): t + a random offset in [0, a) per row */
    CT_SEQ_IDS,       /* distinct small ids */
    CT_ROWS,          /* distinct row indices in [0, a): (7 i + 3) mod a (a not a multiple of 7) */
    CT_TIES,          /* +-(m + 1/2) 2^(e - a), m in [2^(a-1), 2^a): exact ties when rounding to a bits */
} ct_gen;

typedef enum ct_view {
    CT_PLAIN = 0,     /* contiguous tensor */
    CT_SLICE,         /* slice [start, start + len) of dim view_dim of a parent with view_parent entries there */
    CT_TRANSPOSED,    /* a parent stored with the last two dims swapped, permuted back (last stride != 1) */
    CT_BROADCAST,     /* inputs: a parent with 1 entry in dim view_dim, seen with stride 0 there */
} ct_view;

typedef struct ct_spec {
    bool use;
    int ndim;
    int64_t shape[4];
    sea_dtype dtype;      /* for data tensors of cases with a bf16 variant: replaced by that dtype */
    bool fixed_dtype;     /* statistics, masks, indices: keep dtype in dtype variants */
    ct_gen gen;
    double a, b;
    ct_view view;
    int view_dim;
    int64_t view_start, view_parent;
} ct_spec;

/* A host tensor in float64, contiguous in the view's logical order. */
typedef struct ct_host {
    double *v;
    int64_t n;
    int ndim;
    int64_t shape[4];
} ct_host;

struct check_case;
/* Reference forward: reads in[] (absent = v NULL), writes every element of out[] that the
 * case compares. out[] of in-place ops hold the initial values on entry. */
typedef void (*ct_ref_fn)(const struct check_case *c, const ct_host *in, ct_host *out);

typedef struct check_case {
    const char *name;
    sea_op_kind kind;
    sea_op_params p;
    ct_spec in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
    ct_ref_fn ref;
    ct_ref_fn grad_ref;    /* forward whose finite differences define the gradient (NULL = ref);
                              copy's gradient is the identity, not the rounding's derivative */
    unsigned grad_in;      /* inputs whose gradients are checked (bit i) */
    unsigned grad_out;     /* outputs that receive a random gout (bit j) */
    unsigned inout;        /* outputs initialised from their spec (in-place ops) */
    unsigned no_compare;   /* outputs not compared */
    bool bf16_variant;     /* also run with bf16 data tensors (where the backend supports it) */
    bool exact;            /* outputs must equal the reference bit for bit (conversions) */
    double tol_fwd, tol_bwd;   /* 0 = per-dtype defaults */
} check_case;

/* The case table (check_cases.c). */
extern const check_case sea_check_cases[];
extern const int sea_check_case_count;

/* References (check_ref*.c). */
void ct_ref_fill(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_copy(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_identity(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_embedding(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_set_rows(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_matmul(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_layernorm(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_rmsnorm(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_rope(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_attention(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_decode_attention(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_unary(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_swiglu(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_binary(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_softmax(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_logsoftmax_gather(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_cross_entropy(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_masked_sum(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_ensemble_mlp(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_adamw(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_global_norm(const check_case *c, const ct_host *in, ct_host *out);
void ct_ref_clip(const check_case *c, const ct_host *in, ct_host *out);
/* Sampling has its own checker: token equality with the float64 Gumbel-max reference. */
void ct_ref_sample_tokens(const check_case *c, const ct_host *in, ct_host *out);

/* float64 activations shared by references. */
double ct_act(sea_act act, double x);

/* Runner pieces. */
void ct_report_add(sea_check_report *r, const sea_check_result *res);
void ct_bad_inputs(sea_device *dev, sea_check_report *r);

/* Random helpers over sea_rng. */
double ct_normal(sea_rng *rng);
double ct_uniform(sea_rng *rng, double a, double b);

#endif
