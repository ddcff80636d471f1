/* Mixed precision: bf16 compute over f32 master weights.
 *
 * In bf16 mode the flat f32 parameter buffer stays the master copy: AdamW, the gradient
 * buffer, checkpoints, weight broadcasts and sea_model_tensor_read_hf all see f32. The
 * forward reads a bf16 copy (cbuf, same element offsets as the master) and keeps its
 * activations in bf16; normalisation statistics, attention lse, logits (bf16 x bf16 -> f32
 * matmul), log-probs and scores stay f32.
 *
 * When the copy is refreshed: at the start of every pass (sea_model_weights_sync from
 * sea_model_trunk), if the master buffer's write generation (sea_buffer.writes, bumped by
 * every op writing into it and every host write) moved since the copy was made. So an
 * optimizer step, a checkpoint load, sea_model_copy_params or a tensor_write_hf needs no
 * call; memory written behind the runtime's back (MPI/NCCL into the buffer) is announced
 * with sea_buffer_touch, which the weight broadcast does.
 *
 * Weight gradients: the backward kernels accumulate the gradients of bf16 weights straight
 * into the f32 gradient buffer (op.h: a weight's gradient may be f32 when the weight is
 * bf16), at the weight's element offset: the backward of "cast master f32 -> bf16 copy" is
 * the identity into f32. No bf16 mirror (2 bytes a parameter) and no rounding of weight
 * gradients to bf16 (their GEMMs and column sums accumulate in f32 anyway).
 *
 * Frozen models (sea_model_freeze_bf16): a model that is never trained (the DPO reference)
 * needs only the bf16 copy, so freezing makes the copy final and releases the master and the
 * gradients: a third of the weight memory of a bf16 model without gradients.
 * The forward already reads only the copy, so it gives the same bits after freezing. What
 * needs the master (training, the flat buffers, saving, switching back to f32) fails with a
 * SEA_ERR_INVALID naming the model; copy_params and tensor_write_hf write the copy directly,
 * rounding as the refresh does, and tensor_read_hf reads it widened to f32. */
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"

static int64_t rows64(const sea_model *m) { return m->n_flat / 64; }   /* n_flat is a multiple of 64 */

/* The flat buffer b as (n_flat / 64, 64) of dtype dt: the copy kernels split work by rows. */
static sea_tensor flat_rows(const sea_model *m, sea_buffer *b, sea_dtype dt)
{
    int64_t shape[2] = {rows64(m), 64};
    return sea_tensor_make(b, 0, dt, 2, shape);
}

void sea_model_bind_compute(sea_model *m)
{
    for (int i = 0; i < m->n_tensors; i++) {
        sea_model_param *p = &m->params[i];
        p->c = m->cbuf ? sea_tensor_make(m->cbuf, (size_t)p->offset * 2, SEA_BF16, p->ndim, p->shape) : p->p;
    }
    if (m->arch == SEA_ARCH_GPTNEOX) sea_gptneox_bind(m);
    else sea_llama_bind(m);
}

void sea_model_precision_free(sea_model *m)
{
    sea_buffer_release(m->cbuf);
    m->cbuf = NULL;
    memset(&m->flat_c, 0, sizeof m->flat_c);
    m->cbuf_fresh = false;
}

sea_status sea_model_precision_init(sea_model *m, sea_dtype dtype)
{
    if (dtype == m->dtype) return SEA_OK;
    if (dtype != SEA_F32 && dtype != SEA_BF16)
        return sea_error(SEA_ERR_UNSUPPORTED, "model: compute dtype %s not supported (f32 or bf16)", sea_dtype_name(dtype));
    const struct sea_backend_ops *be = m->dev->backend;
    if (dtype == SEA_BF16 && !(be->supports && be->supports(SEA_OP_MATMUL, SEA_BF16, SEA_F32) &&
                               be->supports(SEA_OP_ATTENTION, SEA_BF16, SEA_BF16)))
        return sea_error(SEA_ERR_UNSUPPORTED, "model: %s does not run the network ops in bf16 (cpu and cuda do)",
                         sea_device_label(m->dev));
    /* Arena tensors and a pending recording have the old dtype: drop them. */
    if (m->have_train) {
        m->have_train = false;
        sea_model_rec_clear(m);
    }
    sea_model_precision_free(m);
    if (dtype == SEA_BF16) {
        size_t bytes = (size_t)m->n_flat * 2;
        sea_status st = sea_buffer_alloc(m->dev, bytes, &m->cbuf);
        if (st) return sea_error_context(st, "model: bf16 weight copy (%zu bytes)", bytes);
        m->flat_c = flat_rows(m, m->cbuf, SEA_BF16);
    }
    m->dtype = dtype;
    sea_model_bind_compute(m);
    return SEA_OK;
}

sea_status sea_model_set_compute_dtype(sea_model *m, sea_dtype dtype)
{
    /* The f32 master is gone: f32 compute would need it back, and bf16 is what it has. */
    if (m->frozen && dtype != SEA_BF16) {
        char label[160];
        return sea_error(SEA_ERR_INVALID, "set_compute_dtype %s: model %s is frozen to its bf16 weights "
                         "(sea_model_freeze_bf16 released the f32 master); only bf16 compute is possible",
                         sea_dtype_name(dtype), sea_model_label(m, label, sizeof label));
    }
    return sea_model_precision_init(m, dtype);
}
sea_dtype sea_model_compute_dtype(const sea_model *m) { return m->dtype; }

sea_status sea_model_weights_sync(sea_model *m, sea_stream *s)
{
    /* Frozen: the copy is the weights (there is no master to refresh from). */
    if (!m->cbuf || m->frozen || (m->cbuf_fresh && m->pbuf->writes == m->cbuf_writes)) return SEA_OK;
    uint64_t gen = m->pbuf->writes;
    sea_tensor master = flat_rows(m, m->pbuf, SEA_F32);
    sea_status st = sea_copy(s, &master, &m->flat_c);   /* rounds to nearest even */
    if (st) return sea_error_context(st, "model: refreshing the bf16 weight copy");
    m->cbuf_writes = gen;
    m->cbuf_fresh = true;
    return SEA_OK;
}

/* ---- frozen models ---- */

const char *sea_model_label(const sea_model *m, char *buf, size_t n)
{
    const char *arch = m->cfg.architecture[0] ? m->cfg.architecture : m->cfg.model_type;
    snprintf(buf, n, "%s (%lld parameters, %s)", arch, (long long)m->n_flat, sea_device_label(m->dev));
    return buf;
}

sea_status sea_model_frozen_error(const sea_model *m, const char *what)
{
    char label[160];
    return sea_error(SEA_ERR_INVALID, "%s: model %s is frozen (inference-only bf16 weights after "
                     "sea_model_freeze_bf16): it has no f32 master weights or gradients",
                     what, sea_model_label(m, label, sizeof label));
}

sea_tensor sea_model_weights_rows(const sea_model *m)
{
    return m->frozen ? m->flat_c : flat_rows(m, m->pbuf, SEA_F32);
}

/* Forget everything that points into the master or gradient buffers, then release them. */
static void release_master(sea_model *m)
{
    m->have_train = false;   /* a pending train forward can no longer be differentiated */
    sea_model_rec_clear(m);
    sea_model_train_state_free(m);
    sea_model_gpool_free_all(&m->gpool);   /* activation gradients: backward only */
    for (int i = 0; i < m->n_tensors; i++) {
        memset(&m->params[i].p, 0, sizeof m->params[i].p);
        memset(&m->params[i].g, 0, sizeof m->params[i].g);
    }
    sea_buffer_release(m->pbuf);
    sea_buffer_release(m->gbuf);
    m->pbuf = m->gbuf = NULL;
    memset(&m->flat_p, 0, sizeof m->flat_p);
    memset(&m->flat_g, 0, sizeof m->flat_g);
}

sea_status sea_model_freeze_bf16(sea_model *m, sea_stream *s)
{
    if (m->frozen) return SEA_OK;
    char label[160];
    if (m->dtype != SEA_BF16 || !m->cbuf)
        return sea_error(SEA_ERR_INVALID, "freeze_bf16: model %s computes in %s; freezing keeps only the "
                         "bf16 weight copy, so it needs bf16 compute mode (sea_model_set_compute_dtype)",
                         sea_model_label(m, label, sizeof label), sea_dtype_name(m->dtype));
    sea_status st = sea_model_weights_sync(m, s);
    /* The refresh reads the master: it must have finished before the master is freed. */
    if (!st) st = sea_stream_sync(s);
    if (st) return sea_error_context(st, "freeze_bf16: model %s", sea_model_label(m, label, sizeof label));
    release_master(m);
    m->frozen = true;
    return SEA_OK;
}

bool sea_model_is_frozen(const sea_model *m) { return m->frozen; }
