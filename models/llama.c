/* Llama family: dimensions from the config and the tensor table.
 *
 * Block (serial): h = rmsnorm(x) -> q, k, v projections (GQA: num_key_value_heads, head_dim
 * may differ from hidden/heads) -> rotate-half rotary on all head dims (llama3 scaling when
 * configured) -> causal attention -> o_proj; x += that; then x += down(silu(gate(h2)) * up(h2))
 * with h2 = rmsnorm(x). Optional attention_bias (q, k, v, o) and mlp_bias. */
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"

sea_status sea_llama_describe(sea_model *m)
{
    const sea_hf_config *c = &m->cfg;
    m->C = (int)c->hidden_size;
    m->L = (int)c->num_hidden_layers;
    m->H = (int)c->num_attention_heads;
    m->Hkv = (int)(c->num_key_value_heads > 0 ? c->num_key_value_heads : c->num_attention_heads);
    m->hd = (int)(c->head_dim > 0 ? c->head_dim : (m->H > 0 ? c->hidden_size / m->H : 0));
    m->F = (int)c->intermediate_size;
    m->V = (int)c->vocab_size;
    m->n_labels = (int)(c->num_labels > 0 ? c->num_labels : 1);
    m->eps = (float)c->norm_eps;
    m->rms = true;
    m->swiglu = true;
    m->parallel_residual = false;
    m->tied = c->tie_word_embeddings;
    if (c->hidden_act[0] && strcmp(c->hidden_act, "silu"))
        return sea_error(SEA_ERR_UNSUPPORTED, "config.json: hidden_act '%s' not supported for llama (silu)",
                         c->hidden_act);
    SEA_TRY(sea_model_rope_from_config(m));
    SEA_TRY(sea_model_check_dims(m));
    int C = m->C, F = m->F, q = m->H * m->hd, kv = m->Hkv * m->hd;
    bool ab = c->attention_bias, mb = c->mlp_bias;
    char n[SEA_MODEL_NAME_MAX];
    SEA_TRY(sea_model_param_add(m, "model.embed_tokens.weight", 2, m->V, C, SEA_LAYOUT_PLAIN, false));
    for (int l = 0; l < m->L; l++) {
#define P(suffix, nd, d0, d1)                                                          \
        do {                                                                           \
            snprintf(n, sizeof n, "model.layers.%d.%s", l, suffix);                    \
            SEA_TRY(sea_model_param_add(m, n, nd, d0, d1, SEA_LAYOUT_PLAIN, false));    \
        } while (0)
        P("input_layernorm.weight", 1, C, 1);
        P("self_attn.q_proj.weight", 2, q, C);
        if (ab) P("self_attn.q_proj.bias", 1, q, 1);
        P("self_attn.k_proj.weight", 2, kv, C);
        if (ab) P("self_attn.k_proj.bias", 1, kv, 1);
        P("self_attn.v_proj.weight", 2, kv, C);
        if (ab) P("self_attn.v_proj.bias", 1, kv, 1);
        P("self_attn.o_proj.weight", 2, C, q);
        if (ab) P("self_attn.o_proj.bias", 1, C, 1);
        P("post_attention_layernorm.weight", 1, C, 1);
        P("mlp.gate_proj.weight", 2, F, C);
        if (mb) P("mlp.gate_proj.bias", 1, F, 1);
        P("mlp.up_proj.weight", 2, F, C);
        if (mb) P("mlp.up_proj.bias", 1, F, 1);
        P("mlp.down_proj.weight", 2, C, F);
        if (mb) P("mlp.down_proj.bias", 1, C, 1);
#undef P
    }
    SEA_TRY(sea_model_param_add(m, "model.norm.weight", 1, C, 1, SEA_LAYOUT_PLAIN, false));
    if (m->classifier)
        SEA_TRY(sea_model_param_add(m, "score.weight", 2, m->n_labels, C, SEA_LAYOUT_PLAIN, false));
    else if (!m->tied)
        SEA_TRY(sea_model_param_add(m, "lm_head.weight", 2, m->V, C, SEA_LAYOUT_PLAIN, false));
    return SEA_OK;
}

void sea_llama_bind(sea_model *m)
{
    char n[SEA_MODEL_NAME_MAX];
    for (int l = 0; l < m->L; l++) {
        sea_model_layer *y = &m->layers[l];
#define V(field, suffix)                                                  \
        do {                                                              \
            snprintf(n, sizeof n, "model.layers.%d.%s", l, suffix);       \
            y->field = sea_model_param_view(m, n);                        \
        } while (0)
        V(ln1_w, "input_layernorm.weight");
        V(ln2_w, "post_attention_layernorm.weight");
        V(wq, "self_attn.q_proj.weight");
        V(bq, "self_attn.q_proj.bias");
        V(wk, "self_attn.k_proj.weight");
        V(bk, "self_attn.k_proj.bias");
        V(wv, "self_attn.v_proj.weight");
        V(bv, "self_attn.v_proj.bias");
        V(wo, "self_attn.o_proj.weight");
        V(bo, "self_attn.o_proj.bias");
        V(w_gate, "mlp.gate_proj.weight");
        V(b_gate, "mlp.gate_proj.bias");
        V(w_up, "mlp.up_proj.weight");
        V(b_up, "mlp.up_proj.bias");
        V(w_down, "mlp.down_proj.weight");
        V(b_down, "mlp.down_proj.bias");
#undef V
    }
    m->embed = sea_model_param_view(m, "model.embed_tokens.weight");
    m->final_w = sea_model_param_view(m, "model.norm.weight");
    memset(&m->final_b, 0, sizeof m->final_b);
    m->lm_head = m->tied ? m->embed : sea_model_param_view(m, "lm_head.weight");
    m->score = sea_model_param_view(m, "score.weight");
}
