/* GPT-NeoX (Pythia): dimensions from the config and the tensor table.
 *
 * Block: h = ln1(x) -> fused qkv (rows per head [q; k; v], stored here as [3, H, hd]) ->
 * NeoX rotary on the first rotary_dim dims of q and k -> causal attention -> dense;
 * mlp: dense_h_to_4h -> gelu -> dense_4h_to_h. Parallel residual x + attn(ln1 x) + mlp(ln2 x)
 * or serial. Layernorms carry biases; linear biases follow attention_bias (qkv and dense)
 * and are always present in the MLP. */
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"

static sea_status neox_act(sea_model *m)
{
    const char *a = m->cfg.hidden_act;
    if (!a[0] || !strcmp(a, "gelu")) m->gelu_tanh = false;
    else if (!strcmp(a, "gelu_new") || !strcmp(a, "gelu_fast") || !strcmp(a, "gelu_pytorch_tanh"))
        m->gelu_tanh = true;
    else
        return sea_error(SEA_ERR_UNSUPPORTED, "config.json: hidden_act '%s' not supported for gpt_neox "
                         "(gelu, gelu_new, gelu_fast, gelu_pytorch_tanh)", a);
    return SEA_OK;
}

sea_status sea_gptneox_describe(sea_model *m)
{
    const sea_hf_config *c = &m->cfg;
    m->C = (int)c->hidden_size;
    m->L = (int)c->num_hidden_layers;
    m->H = (int)c->num_attention_heads;
    m->Hkv = m->H;
    m->hd = m->H > 0 ? m->C / m->H : 0;
    m->F = (int)c->intermediate_size;
    m->V = (int)c->vocab_size;
    m->n_labels = (int)(c->num_labels > 0 ? c->num_labels : 1);
    m->eps = (float)c->norm_eps;
    m->rms = false;
    m->swiglu = false;
    m->parallel_residual = c->use_parallel_residual;
    m->tied = c->tie_word_embeddings;
    SEA_TRY(neox_act(m));
    SEA_TRY(sea_model_rope_from_config(m));
    SEA_TRY(sea_model_check_dims(m));
    if (m->hd * m->H != m->C)
        return sea_error(SEA_ERR_FORMAT, "config.json: hidden_size %d not divisible by num_attention_heads %d",
                         m->C, m->H);
    int C = m->C, F = m->F;
    bool ab = c->attention_bias;
    char n[SEA_MODEL_NAME_MAX];
    SEA_TRY(sea_model_param_add(m, "gpt_neox.embed_in.weight", 2, m->V, C, SEA_LAYOUT_PLAIN, false));
    for (int l = 0; l < m->L; l++) {
#define P(suffix, nd, d0, d1, lay)                                                    \
        do {                                                                          \
            snprintf(n, sizeof n, "gpt_neox.layers.%d.%s", l, suffix);                \
            SEA_TRY(sea_model_param_add(m, n, nd, d0, d1, lay, false));                \
        } while (0)
        P("input_layernorm.weight", 1, C, 1, SEA_LAYOUT_PLAIN);
        P("input_layernorm.bias", 1, C, 1, SEA_LAYOUT_PLAIN);
        P("post_attention_layernorm.weight", 1, C, 1, SEA_LAYOUT_PLAIN);
        P("post_attention_layernorm.bias", 1, C, 1, SEA_LAYOUT_PLAIN);
        P("attention.query_key_value.weight", 2, 3 * C, C, SEA_LAYOUT_NEOX_QKV);
        if (ab) P("attention.query_key_value.bias", 1, 3 * C, 1, SEA_LAYOUT_NEOX_QKV);
        P("attention.dense.weight", 2, C, C, SEA_LAYOUT_PLAIN);
        if (ab) P("attention.dense.bias", 1, C, 1, SEA_LAYOUT_PLAIN);
        P("mlp.dense_h_to_4h.weight", 2, F, C, SEA_LAYOUT_PLAIN);
        P("mlp.dense_h_to_4h.bias", 1, F, 1, SEA_LAYOUT_PLAIN);
        P("mlp.dense_4h_to_h.weight", 2, C, F, SEA_LAYOUT_PLAIN);
        P("mlp.dense_4h_to_h.bias", 1, C, 1, SEA_LAYOUT_PLAIN);
#undef P
    }
    SEA_TRY(sea_model_param_add(m, "gpt_neox.final_layer_norm.weight", 1, C, 1, SEA_LAYOUT_PLAIN, false));
    SEA_TRY(sea_model_param_add(m, "gpt_neox.final_layer_norm.bias", 1, C, 1, SEA_LAYOUT_PLAIN, false));
    if (m->classifier)
        SEA_TRY(sea_model_param_add(m, "score.weight", 2, m->n_labels, C, SEA_LAYOUT_PLAIN, false));
    else if (!m->tied)
        SEA_TRY(sea_model_param_add(m, "embed_out.weight", 2, m->V, C, SEA_LAYOUT_PLAIN, false));
    return SEA_OK;
}

void sea_gptneox_bind(sea_model *m)
{
    int C = m->C;
    char n[SEA_MODEL_NAME_MAX];
    for (int l = 0; l < m->L; l++) {
        sea_model_layer *y = &m->layers[l];
#define V(field, suffix)                                                  \
        do {                                                              \
            snprintf(n, sizeof n, "gpt_neox.layers.%d.%s", l, suffix);    \
            y->field = sea_model_param_view(m, n);                        \
        } while (0)
        V(ln1_w, "input_layernorm.weight");
        V(ln1_b, "input_layernorm.bias");
        V(ln2_w, "post_attention_layernorm.weight");
        V(ln2_b, "post_attention_layernorm.bias");
        V(wo, "attention.dense.weight");
        V(bo, "attention.dense.bias");
        V(w_up, "mlp.dense_h_to_4h.weight");
        V(b_up, "mlp.dense_h_to_4h.bias");
        V(w_down, "mlp.dense_4h_to_h.weight");
        V(b_down, "mlp.dense_4h_to_h.bias");
#undef V
        snprintf(n, sizeof n, "gpt_neox.layers.%d.attention.query_key_value.weight", l);
        y->wq = sea_model_param_rows(m, n, 0, C);
        y->wk = sea_model_param_rows(m, n, C, C);
        y->wv = sea_model_param_rows(m, n, 2 * C, C);
        snprintf(n, sizeof n, "gpt_neox.layers.%d.attention.query_key_value.bias", l);
        y->bq = sea_model_param_rows(m, n, 0, C);
        y->bk = sea_model_param_rows(m, n, C, C);
        y->bv = sea_model_param_rows(m, n, 2 * C, C);
    }
    m->embed = sea_model_param_view(m, "gpt_neox.embed_in.weight");
    m->final_w = sea_model_param_view(m, "gpt_neox.final_layer_norm.weight");
    m->final_b = sea_model_param_view(m, "gpt_neox.final_layer_norm.bias");
    m->lm_head = m->tied ? m->embed : sea_model_param_view(m, "embed_out.weight");
    m->score = sea_model_param_view(m, "score.weight");
}
