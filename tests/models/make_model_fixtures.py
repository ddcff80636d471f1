#!/usr/bin/env python3
"""Make the tiny model fixtures for tests/models/test_model*.c with Hugging Face transformers.

Each fixture is a directory written by save_pretrained (config.json, model.safetensors or a
sharded set, generation_config.json) plus ref.safetensors holding what transformers computes
for it, in float64 (the model is loaded back from the saved files, so bf16 checkpoints are
compared on the same bf16-rounded weights):

  ids, key_valid (B, T) i32       a batch with left and right padding
  positions (B, T) i32            rotary positions used (= real tokens before t)
  logits (B, T, V) f32            at every position (compare only where key_valid)
  hidden_last (B, C) f32          final hidden state (after the final norm) at the last real token
  resp_mask (B, T) f32, d_sum (B), d_mean (B) f32
  grad.<param name> f32           d/dparam of L = sum_b d_sum[b]*S[b] + d_mean[b]*M[b], where
                                  S/M = masked sum/mean of the token log-probs (token t's logp
                                  from the logits at t-1) over resp_mask
  greedy.prompt<i> i32, greedy.out<i> i32   greedy continuation of each prompt, alone (no padding)
  score (B, L) f32                reward models only: the score head at the last real token

Also: neox_par/tokenizer.json (a tiny Metaspace BPE made with HF tokenizers) with cli_text.txt
and cli.text_ids / cli.text_logp in its ref (for the command-line tests);
neox_par/model_neox.gguf (neox_par converted as llama.cpp's converter does, qkv rows regrouped);
llama_gguf/model.gguf (a Llama in F32/F16/Q8_0 with llama.cpp's q/k row permutation) and its
ref.safetensors (ids, key_valid, logits, greedy.*) computed by transformers on the
dequantized weights.

CI does not run this; its outputs are committed. Run: python3 tests/models/make_model_fixtures.py
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "models")

V = 128          # vocab
B, T = 3, 11     # reference batch
N_NEW = 8        # greedy tokens


def randomize(model, std):
    """HF's init gives near-uniform logits at this size; use larger random weights (norm
    weights around 1, biases nonzero) so every parameter matters and log-probs vary."""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


def make_batch(rng, pad_id):
    ids = rng.integers(3, V, size=(B, T)).astype(np.int32)
    kv = np.ones((B, T), dtype=np.int32)
    kv[1, :4] = 0          # left padding
    kv[2, T - 3:] = 0      # right padding
    ids[kv == 0] = pad_id
    pos = np.maximum(np.cumsum(kv, axis=1) - 1, 0).astype(np.int32)
    resp = np.zeros((B, T), dtype=np.float32)
    resp[:, 6:] = 1.0
    resp[kv == 0] = 0.0
    resp[0, 1] = 1.0       # a lone early token too
    return ids, kv, pos, resp


def token_logp(logits, ids):
    """(B,T,V) float64 logits -> (B,T) logp of ids[t] from logits[t-1]; 0 at t=0."""
    lsm = torch.log_softmax(logits, dim=-1)
    out = torch.zeros(ids.shape, dtype=logits.dtype)
    out[:, 1:] = torch.gather(lsm[:, :-1], 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return out


def greedy(model, prompt, n):
    seq = list(prompt)
    for _ in range(n):
        x = torch.tensor([seq])
        with torch.no_grad():
            lg = model(input_ids=x, position_ids=torch.arange(len(seq))[None]).logits
        seq.append(int(torch.argmax(lg[0, -1])))
    return seq[len(prompt):]


def saved_names(model_dir):
    from safetensors import safe_open
    names = set()
    for f in os.listdir(model_dir):
        if f.startswith("model") and f.endswith(".safetensors"):
            with safe_open(os.path.join(model_dir, f), "pt") as h:
                names.update(h.keys())
    return names


def base_model(model):
    return getattr(model, "gpt_neox", None) or getattr(model, "model")


def reference(model_dir, cls, classifier=False):
    """Load what was saved, run it in float64 and write ref.safetensors next to it."""
    model = cls.from_pretrained(model_dir, dtype=torch.float32)
    model = model.to(torch.float64)
    model.eval()
    rng = np.random.default_rng(7)
    pad_id = 1
    ids, kv, pos, resp = make_batch(rng, pad_id)
    tids, tkv, tpos = (torch.tensor(a, dtype=torch.long) for a in (ids, kv, pos))
    ref = {"ids": torch.tensor(ids), "key_valid": torch.tensor(kv), "positions": torch.tensor(pos),
           "resp_mask": torch.tensor(resp)}
    last = torch.tensor([int(np.nonzero(kv[b])[0][-1]) for b in range(B)])

    base = base_model(model)
    hs = base(input_ids=tids, attention_mask=tkv, position_ids=tpos).last_hidden_state
    ref["hidden_last"] = hs[torch.arange(B), last].float().detach().contiguous()

    if classifier:
        with torch.no_grad():
            sc = model(input_ids=tids, attention_mask=tkv, position_ids=tpos).logits
        ref["score"] = sc.float().contiguous()
        # Independent check of HF's pad-token rule against ours (last real token).
        head = model.score.weight
        mine = hs[torch.arange(B), last] @ head.T
        assert torch.allclose(mine, sc, atol=1e-9), (mine, sc)
    else:
        model.zero_grad()
        logits = model(input_ids=tids, attention_mask=tkv, position_ids=tpos).logits
        lp = token_logp(logits, tids)
        m = torch.tensor(resp, dtype=torch.float64)
        m[:, 0] = 0
        S = (lp * m).sum(1)
        M = S / m.sum(1).clamp(min=1e-30)
        d_sum = torch.tensor([0.7, -1.3, 0.4], dtype=torch.float64)
        d_mean = torch.tensor([2.0, 0.5, -1.1], dtype=torch.float64)
        L = (d_sum * S + d_mean * M).sum()
        L.backward()
        ref["logits"] = logits.detach().float().contiguous()
        ref["token_logp"] = lp.detach().float().contiguous()
        ref["d_sum"] = d_sum.float()
        ref["d_mean"] = d_mean.float()
        saved = saved_names(model_dir)
        for name, p in model.named_parameters():
            if p.grad is not None:
                # transformers 5 calls GPT-NeoX's embed_out "lm_head" in memory only.
                if name not in saved and name == "lm_head.weight" and "embed_out.weight" in saved:
                    name = "embed_out.weight"
                assert name in saved, (name, model_dir)
                ref["grad." + name] = p.grad.detach().float().contiguous()
        for i, plen in enumerate((5, 1, 9)):
            prompt = [int(x) for x in rng.integers(3, V, size=plen)]
            ref["greedy.prompt%d" % i] = torch.tensor(prompt, dtype=torch.int32)
            ref["greedy.out%d" % i] = torch.tensor(greedy(model, prompt, N_NEW), dtype=torch.int32)
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(model_dir, "ref.safetensors"))


def fresh(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def legacy_neox_rotary(model_dir):
    """Rewrite config.json with the pre-v5 spelling (rotary_pct, rotary_emb_base) that Pythia
    checkpoints on the Hub use, so both forms stay covered."""
    p = os.path.join(model_dir, "config.json")
    cfg = json.load(open(p))
    rp = cfg.pop("rope_parameters")
    cfg["rotary_pct"] = rp["partial_rotary_factor"]
    cfg["rotary_emb_base"] = rp["rope_theta"]
    json.dump(cfg, open(p, "w"), indent=2)


def add_tokenizer(model_dir, cls):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    corpus = ["the quick brown fox jumps over the lazy dog",
              "a model that aligns with few queries is a sample efficient model",
              "prompts and responses and preferences of the oracle",
              "hello world hello sea"] * 20
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=V, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=list("abcdefghijklmnopqrstuvwxyz"))
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
    assert tok.get_vocab_size() <= V, tok.get_vocab_size()
    tok.save(os.path.join(model_dir, "tokenizer.json"))
    text = "hello sea the lazy fox"
    ids = tok.encode(text).ids
    model = cls.from_pretrained(model_dir, dtype=torch.float32).to(torch.float64).eval()
    with torch.no_grad():
        lg = model(input_ids=torch.tensor([ids])).logits
    lp = token_logp(lg, torch.tensor([ids]))[0]
    extra = {"cli.text_ids": torch.tensor(ids, dtype=torch.int32), "cli.text_logp": lp.float()}
    from safetensors.torch import load_file
    ref = load_file(os.path.join(model_dir, "ref.safetensors"))
    ref.update(extra)
    save_file(ref, os.path.join(model_dir, "ref.safetensors"))
    with open(os.path.join(model_dir, "cli_text.txt"), "w") as f:
        f.write(text)


def make_gguf(LlamaConfig, LlamaForCausalLM):
    import gguf
    d = fresh("llama_gguf")
    C, L, H, HKV, F = 32, 2, 4, 2, 64
    hd = C // H
    cfg = LlamaConfig(vocab_size=V, hidden_size=C, num_hidden_layers=L, num_attention_heads=H,
                      num_key_value_heads=HKV, intermediate_size=F, rope_theta=10000.0,
                      rms_norm_eps=1e-5, tie_word_embeddings=False, max_position_embeddings=64,
                      bos_token_id=0, eos_token_id=2)
    model = LlamaForCausalLM(cfg)
    randomize(model, 0.25)
    sd = {k: v.detach().float().numpy().copy() for k, v in model.state_dict().items()}

    def permute(w, n_head):   # llama.cpp convert_hf_to_gguf.py LlamaModel.permute
        return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
                 .swapaxes(1, 2).reshape(w.shape))

    Q = gguf.GGMLQuantizationType
    w = gguf.GGUFWriter(os.path.join(d, "model.gguf"), "llama")
    w.add_context_length(64)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(HKV)
    w.add_rope_dimension_count(hd)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(["<s>", "<pad>", "</s>"] + ["<0x%02X>" % i for i in range(V - 3)])
    w.add_token_scores([0.0] * V)
    w.add_token_types([3, 3, 3] + [6] * (V - 3))
    w.add_bos_token_id(0)
    w.add_eos_token_id(2)
    deq = {}

    def put(name, hf_name, arr, qtype):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if qtype == Q.F32:
            w.add_tensor(name, arr)
            back = arr
        elif qtype == Q.F16:
            h = arr.astype(np.float16)
            w.add_tensor(name, h)
            back = h.astype(np.float32)
        else:
            qd = gguf.quants.quantize(arr, qtype)
            w.add_tensor(name, qd, raw_dtype=qtype)
            back = gguf.quants.dequantize(qd, qtype).reshape(arr.shape)
        deq[hf_name] = back

    put("token_embd.weight", "model.embed_tokens.weight", sd["model.embed_tokens.weight"], Q.F16)
    for l in range(L):
        p = "model.layers.%d." % l
        put("blk.%d.attn_norm.weight" % l, p + "input_layernorm.weight", sd[p + "input_layernorm.weight"], Q.F32)
        put("blk.%d.attn_q.weight" % l, p + "self_attn.q_proj.weight", permute(sd[p + "self_attn.q_proj.weight"], H), Q.Q8_0)
        put("blk.%d.attn_k.weight" % l, p + "self_attn.k_proj.weight", permute(sd[p + "self_attn.k_proj.weight"], HKV), Q.F32)
        put("blk.%d.attn_v.weight" % l, p + "self_attn.v_proj.weight", sd[p + "self_attn.v_proj.weight"], Q.F32)
        put("blk.%d.attn_output.weight" % l, p + "self_attn.o_proj.weight", sd[p + "self_attn.o_proj.weight"], Q.F16)
        put("blk.%d.ffn_norm.weight" % l, p + "post_attention_layernorm.weight", sd[p + "post_attention_layernorm.weight"], Q.F32)
        put("blk.%d.ffn_gate.weight" % l, p + "mlp.gate_proj.weight", sd[p + "mlp.gate_proj.weight"], Q.Q8_0)
        put("blk.%d.ffn_up.weight" % l, p + "mlp.up_proj.weight", sd[p + "mlp.up_proj.weight"], Q.F32)
        put("blk.%d.ffn_down.weight" % l, p + "mlp.down_proj.weight", sd[p + "mlp.down_proj.weight"], Q.Q8_0)
    put("output_norm.weight", "model.norm.weight", sd["model.norm.weight"], Q.F32)
    put("output.weight", "lm_head.weight", sd["lm_head.weight"], Q.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # Reference: HF on the dequantized weights, q/k un-permuted back (what a loader must do).
    def unpermute(w, n_head):
        return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
                 .swapaxes(1, 2).reshape(w.shape))
    state = {}
    for k, v in deq.items():
        if k.endswith("q_proj.weight"):
            v = unpermute(v, H)
        elif k.endswith("k_proj.weight"):
            v = unpermute(v, HKV)
        state[k] = torch.tensor(v, dtype=torch.float64)
    model = model.to(torch.float64)
    model.load_state_dict(state, strict=True)
    model.eval()
    rng = np.random.default_rng(11)
    ids, kv, pos, _ = make_batch(rng, 1)
    with torch.no_grad():
        lg = model(input_ids=torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(kv, dtype=torch.long),
                   position_ids=torch.tensor(pos, dtype=torch.long)).logits
    ref = {"ids": torch.tensor(ids), "key_valid": torch.tensor(kv), "logits": lg.float().contiguous()}
    prompt = [int(x) for x in rng.integers(3, V, size=6)]
    ref["greedy.prompt0"] = torch.tensor(prompt, dtype=torch.int32)
    ref["greedy.out0"] = torch.tensor(greedy(model, prompt, N_NEW), dtype=torch.int32)
    save_file(ref, os.path.join(d, "ref.safetensors"))


def make_gguf_neox(src_dir):
    import gguf
    from safetensors.numpy import load_file
    cfg = json.load(open(os.path.join(src_dir, "config.json")))
    sd = load_file(os.path.join(src_dir, "model.safetensors"))
    C, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    hd = C // H
    rot = int(cfg["rope_parameters"]["partial_rotary_factor"] * hd)
    w = gguf.GGUFWriter(os.path.join(src_dir, "model_neox.gguf"), "gptneox")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_rope_dimension_count(rot)
    w.add_rope_freq_base(cfg["rope_parameters"]["rope_theta"])
    w.add_head_count(H)
    w.add_parallel_residual(cfg["use_parallel_residual"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    names = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
             "attention.query_key_value": "attn_qkv", "attention.dense": "attn_output",
             "mlp.dense_h_to_4h": "ffn_up", "mlp.dense_4h_to_h": "ffn_down"}
    w.add_tensor("token_embd.weight", sd["gpt_neox.embed_in.weight"])
    for l in range(L):
        for hf, gg in names.items():
            for kind in ("weight", "bias"):
                t = sd["gpt_neox.layers.%d.%s.%s" % (l, hf, kind)]
                if hf == "attention.query_key_value":   # llama.cpp GPTNeoXModel.modify_tensors
                    t = t.reshape(H, 3, hd, *t.shape[1:]).swapaxes(0, 1).reshape(t.shape)
                w.add_tensor("blk.%d.%s.%s" % (l, gg, kind), np.ascontiguousarray(t))
    w.add_tensor("output_norm.weight", sd["gpt_neox.final_layer_norm.weight"])
    w.add_tensor("output_norm.bias", sd["gpt_neox.final_layer_norm.bias"])
    w.add_tensor("output.weight", sd["embed_out.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    from transformers import (GPTNeoXConfig, GPTNeoXForCausalLM, GPTNeoXForSequenceClassification,
                              LlamaConfig, LlamaForCausalLM)

    # 1. GPT-NeoX, parallel residual, partial rotary (0.5 of head_dim 16), biases, untied.
    d = fresh("neox_par")
    cfg = GPTNeoXConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, rotary_pct=0.5, rotary_emb_base=10000,
                        use_parallel_residual=True, max_position_embeddings=64,
                        bos_token_id=0, eos_token_id=2)
    m = GPTNeoXForCausalLM(cfg)
    randomize(m, 0.25)
    m.save_pretrained(d)
    reference(d, GPTNeoXForCausalLM)

    # 2. GPT-NeoX, serial residual, full rotary, no attention bias, tied embeddings,
    #    legacy rotary keys in config.json.
    d = fresh("neox_ser")
    cfg = GPTNeoXConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=48, rotary_pct=1.0, rotary_emb_base=500,
                        use_parallel_residual=False, attention_bias=False,
                        tie_word_embeddings=True, max_position_embeddings=64,
                        bos_token_id=0, eos_token_id=2)
    m = GPTNeoXForCausalLM(cfg)
    randomize(m, 0.25)
    m.save_pretrained(d)
    legacy_neox_rotary(d)
    reference(d, GPTNeoXForCausalLM)

    # 3. Llama, GQA (4 heads / 2 kv heads), explicit head_dim 16 != 32/4, llama3 rope scaling,
    #    tied embeddings, saved in bf16.
    d = fresh("llama_gqa_bf16")
    cfg = LlamaConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=16, intermediate_size=48,
                      rope_theta=10000.0, max_position_embeddings=64,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
                      tie_word_embeddings=True, bos_token_id=0, eos_token_id=[2, 5])
    m = LlamaForCausalLM(cfg)
    randomize(m, 0.25)
    m = m.to(torch.bfloat16)
    m.save_pretrained(d)
    reference(d, LlamaForCausalLM)

    # 4. Llama with attention and mlp biases, untied lm_head, MHA, f32, sharded checkpoint.
    d = fresh("llama_sharded")
    cfg = LlamaConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      num_key_value_heads=2, intermediate_size=40, rope_theta=1000.0,
                      attention_bias=True, mlp_bias=True, tie_word_embeddings=False,
                      max_position_embeddings=64, bos_token_id=0, eos_token_id=2)
    m = LlamaForCausalLM(cfg)
    randomize(m, 0.25)
    m.save_pretrained(d, max_shard_size="20KB")
    reference(d, LlamaForCausalLM)

    # 5. Reward model: GPTNeoXForSequenceClassification, 1 label, pad token 1.
    d = fresh("neox_rm")
    cfg = GPTNeoXConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, rotary_pct=0.25, use_parallel_residual=True,
                        max_position_embeddings=64, num_labels=1, pad_token_id=1,
                        bos_token_id=0, eos_token_id=2)
    m = GPTNeoXForSequenceClassification(cfg)
    randomize(m, 0.25)
    m.save_pretrained(d)
    reference(d, GPTNeoXForSequenceClassification, classifier=True)

    # 6. A tokenizer for the command-line tests (on neox_par) and a text's reference log-probs.
    add_tokenizer(os.path.join(OUT, "neox_par"), GPTNeoXForCausalLM)

    # 7. GGUF: a Llama written the way llama.cpp's converter does (q/k rows permuted to
    #    interleaved pairs), mixing F32, F16 and Q8_0 tensors; reference computed by HF on the
    #    dequantized weights.
    make_gguf(LlamaConfig, LlamaForCausalLM)

    # 8. GGUF GPT-NeoX converted from neox_par as llama.cpp's converter does (fused qkv rows
    #    regrouped [heads, 3, hd] -> [3, heads, hd]); same weights, so neox_par's ref applies.
    make_gguf_neox(os.path.join(OUT, "neox_par"))

    total = 0
    for root, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print("fixtures in %s: %.1f KB" % (OUT, total / 1024))


if __name__ == "__main__":
    sys.exit(main())
