/* Loading GGUF files (llama.cpp): tensor names mapped to HF names, quantized blocks
 * dequantized to f32 by the gguf reader, Llama q/k rows un-permuted back to rotate-half order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gguf.h"
#include "models/model_internal.h"

/* HF name -> llama.cpp name, and the head count to un-permute with (0 = none). */
static bool gguf_name(const sea_model *m, const char *hf, char *out, size_t n, int64_t *unpermute_heads)
{
    static const char *const llama_map[][2] = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},  {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.weight", "attn_k.weight"},  {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.weight", "attn_v.weight"},  {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.o_proj.weight", "attn_output.weight"}, {"self_attn.o_proj.bias", "attn_output.bias"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"}, {"mlp.gate_proj.bias", "ffn_gate.bias"},
        {"mlp.up_proj.weight", "ffn_up.weight"},     {"mlp.up_proj.bias", "ffn_up.bias"},
        {"mlp.down_proj.weight", "ffn_down.weight"}, {"mlp.down_proj.bias", "ffn_down.bias"},
    };
    static const char *const neox_map[][2] = {
        {"input_layernorm.weight", "attn_norm.weight"}, {"input_layernorm.bias", "attn_norm.bias"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"}, {"post_attention_layernorm.bias", "ffn_norm.bias"},
        {"attention.query_key_value.weight", "attn_qkv.weight"}, {"attention.query_key_value.bias", "attn_qkv.bias"},
        {"attention.dense.weight", "attn_output.weight"}, {"attention.dense.bias", "attn_output.bias"},
        {"mlp.dense_h_to_4h.weight", "ffn_up.weight"}, {"mlp.dense_h_to_4h.bias", "ffn_up.bias"},
        {"mlp.dense_4h_to_h.weight", "ffn_down.weight"}, {"mlp.dense_4h_to_h.bias", "ffn_down.bias"},
    };
    *unpermute_heads = 0;
    bool llama = m->arch == SEA_ARCH_LLAMA;
    const char *top[][2] = {
        {llama ? "model.embed_tokens.weight" : "gpt_neox.embed_in.weight", "token_embd.weight"},
        {llama ? "model.norm.weight" : "gpt_neox.final_layer_norm.weight", "output_norm.weight"},
        {llama ? "model.norm.bias" : "gpt_neox.final_layer_norm.bias", "output_norm.bias"},
        {llama ? "lm_head.weight" : "embed_out.weight", "output.weight"},
        {"score.weight", "cls.output.weight"},
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (!strcmp(hf, top[i][0])) {
            snprintf(out, n, "%s", top[i][1]);
            return true;
        }
    const char *prefix = llama ? "model.layers." : "gpt_neox.layers.";
    size_t pl = strlen(prefix);
    if (strncmp(hf, prefix, pl)) return false;
    char *end;
    long l = strtol(hf + pl, &end, 10);
    if (*end != '.') return false;
    const char *rest = end + 1;
    size_t nm = llama ? sizeof llama_map / sizeof llama_map[0] : sizeof neox_map / sizeof neox_map[0];
    for (size_t i = 0; i < nm; i++) {
        const char *const *e = llama ? llama_map[i] : neox_map[i];
        if (!strcmp(rest, e[0])) {
            snprintf(out, n, "blk.%ld.%s", l, e[1]);
            if (llama && !strncmp(e[1], "attn_q.", 7)) *unpermute_heads = m->H;
            if (llama && !strncmp(e[1], "attn_k.", 7)) *unpermute_heads = m->Hkv;
            return true;
        }
    }
    return false;
}

sea_status sea_model_load_gguf(sea_device *dev, const char *path, const sea_model_load_opts *o, sea_model **out)
{
    sea_gguf *g;
    SEA_TRY(sea_gguf_open(path, &g));
    sea_hf_config cfg;
    sea_status st = sea_gguf_to_hf_config(g, &cfg);
    sea_model *m = NULL;
    if (!st) st = sea_model_alloc(dev, &cfg, o ? o->dtype : SEA_F32, &m);
    if (st) {
        sea_gguf_close(g);
        return sea_error_context(st, "%s", path);
    }
    sea_stream *s = sea_device_stream(dev);
    int64_t mx = sea_model_max_param_numel(m);
    float *hf = malloc((size_t)mx * sizeof(float)), *tmp = malloc((size_t)mx * sizeof(float));
    if (!hf || !tmp) st = sea_error(SEA_ERR_OOM, "%s: out of host memory", path);
    uint64_t total = (uint64_t)m->n_flat * sizeof(float), done = 0;
    for (int i = 0; i < m->n_tensors && !st; i++) {
        sea_model_param *p = &m->params[i];
        char gname[160];
        int64_t heads = 0;
        if (!gguf_name(m, p->name, gname, sizeof gname, &heads)) {
            st = sea_error(SEA_ERR_UNSUPPORTED, "%s: no GGUF name known for tensor '%s'", path, p->name);
            break;
        }
        const sea_gguf_tensor *t = sea_gguf_find_tensor(g, gname);
        if (!t) {
            st = sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' (%s) missing", path, gname, p->name);
            break;
        }
        int64_t want1 = p->ndim > 1 ? p->shape[1] : 1;
        int64_t got0 = t->shape[0], got1 = t->n_dims > 1 ? t->shape[1] : 1;
        if (t->n_dims != p->ndim || got0 != p->shape[0] || got1 != want1) {
            char a[96], b[96];
            st = sea_error(SEA_ERR_SHAPE, "%s: tensor '%s' has shape %s but the metadata implies %s (%s)", path,
                           gname, sea_model_shape_str(t->n_dims, t->shape, a, sizeof a), sea_model_shape_str(p->ndim, p->shape, b, sizeof b),
                           p->name);
            break;
        }
        st = sea_gguf_tensor_to_f32(t, hf);
        if (st) {
            sea_error_context(st, "%s: tensor '%s'", path, gname);
            break;
        }
        if (heads) st = sea_gguf_unpermute_qk(hf, p->shape[0], (size_t)want1 * sizeof(float), heads);
        /* llama.cpp's converter stores GPT-NeoX's fused qkv as [3, H, hd] rows (its graph
         * takes q, k, v as consecutive thirds), which is already the internal layout. */
        if (!st && p->layout == SEA_LAYOUT_NEOX_QKV)
            st = sea_buffer_write(s, m->pbuf, (size_t)p->offset * sizeof(float), hf,
                                  (size_t)(p->shape[0] * want1) * sizeof(float));
        else if (!st)
            st = sea_model_put_param_hf(m, s, i, hf, tmp);
        done += (uint64_t)(p->shape[0] * want1) * sizeof(float);
        if (!st && o && o->progress) o->progress(o->progress_ctx, gname, done, total);
    }
    free(hf);
    free(tmp);
    sea_gguf_close(g);
    if (!st) st = sea_model_zero_grad(m, s);
    if (!st) st = sea_stream_sync(s);
    if (st) {
        sea_model_free(m);
        return st;
    }
    *out = m;
    return SEA_OK;
}

