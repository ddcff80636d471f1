#!/usr/bin/env python3
"""Make the committed fixtures for tests/models/test_tokenizer.c and test_formats.c.

Trains small BPE tokenizers with Hugging Face `tokenizers` on a generated corpus, covering the
shapes real models use (GPT-2/NeoX byte-level, Llama-3 regex + ignore_merges, TinyLlama-style
SentencePiece BPE with byte fallback, Metaspace, a "##"-prefix BPE with BERT-ish pieces), saves
their tokenizer.json files and records HF's encode ids and decode text on tricky strings.
Also writes safetensors files (with the `safetensors` package) and GGUF files (with the `gguf`
package, including Q8_0/Q4_0/Q4_1 tensors) plus their reference values.

Run from the repository root:  python3 tests/models/make_tokenizer_fixtures.py
Needs: tokenizers, safetensors, numpy, gguf (pip install gguf). CI does not run this.
"""
import json
import os
import random
import struct

# The trainer breaks ties differently across threads; one thread makes the fixtures reproducible.
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

import numpy as np
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
TOKDIR = os.path.join(HERE, "fixtures", "tokenizers")
FMTDIR = os.path.join(HERE, "fixtures", "formats")
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def corpus(n=3000, seed=1):
    rng = random.Random(seed)
    words = ("the of and to in is was for on that with as by at from his her it an be this which or are "
             "model token train learn reward policy sample align human prefer answer question data value "
             "hello world don't it's we've they're I'll she'd café naïve résumé über straße "
             "Paris London Tokyo 2024 3.14 1000 42 x=y+1 def return print() {} [] <> "
             "running jumped quickly happiness unbelievable tokenization preference").split()
    lines = []
    for _ in range(n):
        k = rng.randint(3, 14)
        s = " ".join(rng.choice(words) for _ in range(k))
        if rng.random() < 0.2:
            s = s.capitalize() + "."
        if rng.random() < 0.1:
            s += "\n" + str(rng.randint(0, 99999))
        if rng.random() < 0.05:
            s = "  " + s + "\t!"
        lines.append(s)
    return lines


TEXTS = [
    "",
    " ",
    "a",
    "Hello world",
    "Hello  world",
    "   leading spaces",
    "trailing spaces   ",
    "tabs\tand\nnewlines\n\nend",
    "\r\n windows line\r\n",
    "numbers 1234567 and 3.14159 and 42",
    "contractions: don't, I'll, we've, she's, THEY'RE, it'S",
    "accents: café naïve résumé Ångström straße",
    "combining e\u0301 and precomposed \u00e9",
    "CJK: 你好世界 日本語 한국어",
    "emoji: \U0001F600\U0001F44D\U0001F3FD \U0001F1EB\U0001F1F7 ok",
    "special <|endoftext|> in text<|endoftext|>",
    "<s>looks special</s> <unk>",
    "nbsp\u00a0and\u2003em space",
    "supercalifragilisticexpialidocious" * 8,
    "x=1;y=[2,3];print(x+y)",
    "\U0001F600",
    "ﬁ ligature ＡＢＣ fullwidth",
    "The model learned to prefer the better answer.",
    "<mask>masked <mask> tokens",
    "a hello world b",
    "   \n\n   \t  ",
]


def train(tok, trainer, lines):
    tok.train_from_iterator(lines, trainer=trainer)
    return tok


def make_bytelevel(lines, legacy_merges):
    """GPT-2 / GPT-NeoX style: ByteLevel pre-tokenizer (regex), ByteLevel decoder."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tr = trainers.BpeTrainer(vocab_size=500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             special_tokens=["<|endoftext|>", "<|padding|>"], show_progress=False)
    train(tok, tr, lines)
    j = json.loads(tok.to_str())
    if legacy_merges:
        j["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    return j


def make_neox_like(lines):
    """GPT-NeoX-20B / Pythia shape: NFC, ByteLevel (trim_offsets), legacy merges, and runs of
    spaces as non-special normalized added tokens (they split text at whitespace runs)."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tr = trainers.BpeTrainer(vocab_size=480, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             special_tokens=["<|endoftext|>", "<|padding|>"], show_progress=False)
    train(tok, tr, lines)
    tok.add_tokens([AddedToken(" " * k, normalized=True, special=False) for k in range(2, 9)])
    j = json.loads(tok.to_str())
    j["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    return j


def make_bytelevel_added(lines):
    """Byte-level with add_prefix_space, NFKC, and added tokens with lstrip/rstrip/single_word/normalized."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=450, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             special_tokens=["<|endoftext|>"], show_progress=False)
    train(tok, tr, lines)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False),
                            AddedToken("<|im_start|>", special=True, normalized=False)])
    tok.add_tokens([AddedToken("hello world", normalized=True, special=False),
                    AddedToken("ok", single_word=True, normalized=False, special=False, rstrip=True)])
    return json.loads(tok.to_str())


def make_llama3(lines):
    """Llama-3 style: Split(regex) + ByteLevel(use_regex=False), ignore_merges, <|begin_of_text|> template."""
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             special_tokens=["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"], show_progress=False)
    train(tok, tr, lines)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    return json.loads(tok.to_str())


def make_sentencepiece(lines):
    """TinyLlama / Llama-2 style: Prepend+Replace normalizer, no pre-tokenizer, byte_fallback, <s> template."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    tr = trainers.BpeTrainer(vocab_size=420, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False,
                             limit_alphabet=60)
    train(tok, tr, [l for l in lines])
    j = json.loads(tok.to_str())
    # Rebuild the vocab as TinyLlama's: <unk>, <s>, </s>, <0x00>..<0xFF>, then the learned pieces.
    old = j["model"]["vocab"]
    order = sorted(old.items(), key=lambda kv: kv[1])
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for t, _ in order:
        if t not in vocab:
            vocab[t] = len(vocab)
    j["model"]["vocab"] = vocab
    j["added_tokens"] = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for t in ("<unk>", "<s>", "</s>")]
    j["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    j["pre_tokenizer"] = None
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    j["post_processor"] = {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    return j


def make_metaspace(lines):
    """Newer Llama-style (legacy=False): Metaspace pre-tokenizer (prepend first, no split) + Metaspace decoder."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="\u2581", prepend_scheme="first", split=True),
                                     decoders.ByteFallback(), decoders.Fuse()])
    tr = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)],
                             show_progress=False, limit_alphabet=70)
    train(tok, tr, lines)
    j = json.loads(tok.to_str())
    # byte tokens belong to the model vocab, not to added_tokens (as in real files)
    j["added_tokens"] = [a for a in j["added_tokens"] if not a["content"].startswith("<0x")]
    j["pre_tokenizer"]["split"] = False
    return j


def make_prefix(lines):
    """'##' continuing-subword BPE with NFD+Lowercase+Strip, Whitespace + Digits pre-tokenizers,
    BertProcessing, no decoder (tokens joined by spaces)."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    tr = trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]", "[CLS]", "[SEP]"], continuing_subword_prefix="##",
                             show_progress=False)
    train(tok, tr, lines)
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    return json.loads(tok.to_str())


def cases_for(name, path):
    tok = Tokenizer.from_file(path)
    out = []
    for text in TEXTS:
        e0 = tok.encode(text, add_special_tokens=False)
        e1 = tok.encode(text, add_special_tokens=True)
        out.append({
            "tokenizer": name,
            "text": text,
            "ids": e0.ids,
            "ids_special": e1.ids,
            "decoded": tok.decode(e0.ids, skip_special_tokens=False),
            "decoded_skip": tok.decode(e1.ids, skip_special_tokens=True),
        })
    return out, tok


def write_tokenizers():
    os.makedirs(TOKDIR, exist_ok=True)
    lines = corpus()
    lines += ["你好世界 日本語 한국어 \U0001F600"] * 3
    made = {
        "bytelevel_pairs": make_bytelevel(lines, legacy_merges=False),
        "bytelevel_legacy": make_bytelevel(lines, legacy_merges=True),
        "bytelevel_added": make_bytelevel_added(lines),
        "neox_like": make_neox_like(lines),
        "llama3": make_llama3(lines),
        "sentencepiece": make_sentencepiece(lines),
        "metaspace": make_metaspace(lines),
        "prefix": make_prefix(lines),
    }
    # Older Llama tokenizer.json spelling: Metaspace with add_prefix_space (no prepend_scheme),
    # which splits on ▁ (split defaults to true).
    legacy = json.loads(json.dumps(made["metaspace"]))
    legacy["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True}
    legacy["decoder"]["decoders"][0] = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True}
    made["metaspace_legacy"] = legacy
    cases = []
    toks = {}
    for name, j in made.items():
        path = os.path.join(TOKDIR, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False, separators=(",", ":"))
        c, tok = cases_for(name, path)
        cases += c
        toks[name] = tok
    # A directory form: tokenizer.json + tokenizer_config.json (eos/bos/pad as strings)
    d = os.path.join(TOKDIR, "sp_dir")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(made["sentencepiece"], f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": False}, "pad_token": "<unk>",
                   "add_bos_token": True}, f, indent=1)
    specials = {name: {"bos": None, "eos": None} for name in made}
    with open(os.path.join(TOKDIR, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": cases, "vocab_size": {n: t.get_vocab_size(with_added_tokens=True) for n, t in toks.items()}},
                  f, ensure_ascii=False, indent=0)
    return made, toks


# ---------------------------------------------------------------- safetensors / config / gguf

def write_safetensors():
    from safetensors.numpy import save_file
    import torch
    from safetensors.torch import save_file as save_torch
    os.makedirs(FMTDIR, exist_ok=True)
    rng = np.random.default_rng(7)
    ref = {}
    t32 = rng.standard_normal((3, 5)).astype(np.float32)
    i32 = rng.integers(-1000, 1000, size=(7,)).astype(np.int32)
    f16 = rng.standard_normal((2, 3, 4)).astype(np.float16)
    bf = torch.randn(4, 6, generator=torch.Generator().manual_seed(3)).to(torch.bfloat16)
    i64 = np.arange(5, dtype=np.int64)
    scalar = np.array(2.5, dtype=np.float32)
    empty = np.zeros((0, 4), dtype=np.float32)
    tensors = {"a.weight": torch.from_numpy(t32), "ids": torch.from_numpy(i32), "half": torch.from_numpy(f16),
               "b.bf16": bf, "positions": torch.from_numpy(i64), "scalar": torch.from_numpy(scalar),
               "empty": torch.from_numpy(empty)}
    save_torch(tensors, os.path.join(FMTDIR, "basic.safetensors"), metadata={"format": "pt", "note": "fixture"})
    for k, v in tensors.items():
        ref[k] = {"dtype": {torch.float32: "F32", torch.int32: "I32", torch.float16: "F16", torch.bfloat16: "BF16",
                            torch.int64: "I64"}[v.dtype],
                  "shape": list(v.shape), "values": v.to(torch.float64).flatten().tolist()}
    with open(os.path.join(FMTDIR, "basic.json"), "w") as f:
        json.dump(ref, f, indent=0)
    # sharded set written by transformers' own helper layout
    from huggingface_hub import split_torch_state_dict_into_shards
    sd = {f"layers.{i}.w": torch.full((64,), float(i)) for i in range(6)}
    split = split_torch_state_dict_into_shards(sd, max_shard_size=600)
    sdir = os.path.join(FMTDIR, "sharded")
    os.makedirs(sdir, exist_ok=True)
    for fn, names in split.filename_to_tensors.items():
        save_torch({n: sd[n] for n in names}, os.path.join(sdir, fn), metadata={"format": "pt"})
    with open(os.path.join(sdir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": split.metadata["total_size"]}, "weight_map": split.tensor_to_filename}, f, indent=2)


def write_gguf():
    import gguf
    from gguf import GGMLQuantizationType as Q
    from gguf import quants
    os.makedirs(FMTDIR, exist_ok=True)
    rng = np.random.default_rng(11)
    path = os.path.join(FMTDIR, "tiny.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_block_count(2)
    w.add_context_length(256)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_dimension_count(16)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.25)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "héllo wörld")
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float64("test.f64", 3.141592653589793)
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_array("test.arr_str", ["a", "bc", ""])
    ref = {}

    def add(name, arr, qtype):
        if qtype in (Q.F32,):
            w.add_tensor(name, arr.astype(np.float32))
            deq = arr.astype(np.float32)
        elif qtype == Q.F16:
            w.add_tensor(name, arr.astype(np.float16))
            deq = arr.astype(np.float16).astype(np.float32)
        else:
            q = quants.quantize(arr.astype(np.float32), qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
            deq = quants.dequantize(q, qtype)
        ref[name] = {"type": qtype.name, "shape": list(arr.shape), "values": deq.astype(np.float64).flatten().tolist()}

    add("token_embd.weight", rng.standard_normal((10, 64)), Q.F32)
    add("blk.0.attn_norm.weight", rng.standard_normal((64,)), Q.F16)
    add("blk.0.attn_q.weight", rng.standard_normal((8, 64)), Q.Q8_0)
    add("blk.0.attn_k.weight", rng.standard_normal((4, 64)), Q.Q4_0)
    add("blk.0.ffn_up.weight", rng.standard_normal((6, 64)) * 3 + 1, Q.Q4_1)
    bf = rng.standard_normal((4, 32)).astype(np.float32)
    qb = quants.quantize(bf, Q.BF16)
    w.add_tensor("blk.0.bf16", qb, raw_shape=qb.shape, raw_dtype=Q.BF16)
    ref["blk.0.bf16"] = {"type": "BF16", "shape": [4, 32],
                         "values": quants.dequantize(qb, Q.BF16).astype(np.float64).flatten().tolist()}
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(os.path.join(FMTDIR, "tiny_gguf.json"), "w") as f:
        json.dump(ref, f, indent=0)
    # GPT-NeoX metadata as llama.cpp's converter writes it (serial residual, partial rotary, untied)
    w = gguf.GGUFWriter(os.path.join(FMTDIR, "neox.gguf"), "gptneox")
    w.add_block_count(3)
    w.add_context_length(512)
    w.add_embedding_length(48)
    w.add_feed_forward_length(192)
    w.add_head_count(3)
    w.add_rope_dimension_count(4)
    w.add_parallel_residual(False)
    w.add_layer_norm_eps(1e-5)
    w.add_tensor("token_embd.weight", np.zeros((20, 48), dtype=np.float16))
    w.add_tensor("output.weight", np.zeros((20, 48), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gguf_tokenizers(made):
    """GGUF files holding only tokenizer metadata, as llama.cpp's converter writes them."""
    import gguf
    # gpt2-type (byte-level BPE with merges) from the Llama-3-style tokenizer
    for name, pre in (("bytelevel_pairs", "default"), ("llama3", "llama-bpe")):
        j = made[name]
        vocab = j["model"]["vocab"]
        added = {a["id"]: a for a in j["added_tokens"]}
        n = max(max(vocab.values()), max(added) if added else 0) + 1
        toks = [""] * n
        types = [1] * n
        for t, i in vocab.items():
            toks[i] = t
        for i, a in added.items():
            toks[i] = a["content"]
            types[i] = 3 if a["special"] else 4
        merges = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
        w = gguf.GGUFWriter(os.path.join(TOKDIR, name + ".gguf"), "llama")
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(toks)
        w.add_token_types(types)
        w.add_token_merges(merges)
        if name == "llama3":
            w.add_bos_token_id(vocab.get("<|begin_of_text|>", 0))
            w.add_eos_token_id(vocab.get("<|end_of_text|>", 1))
            w.add_add_bos_token(True)
        else:
            w.add_eos_token_id(vocab["<|endoftext|>"])
            w.add_add_bos_token(False)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    # llama-type (SentencePiece) with scores: score of a piece = -(rank of the merge that makes it)
    j = made["sentencepiece"]
    vocab = j["model"]["vocab"]
    n = len(vocab)
    toks = [""] * n
    for t, i in vocab.items():
        toks[i] = t
    merges = j["model"]["merges"]
    rank_of = {}
    for r, m in enumerate(merges):
        a, b = m if isinstance(m, list) else m.split(" ")
        rank_of.setdefault(a + b, r)
    scores, types = [], []
    for i, t in enumerate(toks):
        if t in ("<unk>",):
            types.append(2)
            scores.append(0.0)
        elif t in ("<s>", "</s>"):
            types.append(3)
            scores.append(0.0)
        elif t.startswith("<0x") and len(t) == 6:
            types.append(6)
            scores.append(0.0)
        else:
            types.append(1)
            scores.append(-float(rank_of.get(t, 1e6 + i)))
    w = gguf.GGUFWriter(os.path.join(TOKDIR, "sentencepiece.gguf"), "llama")
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_configs():
    """config.json files as transformers writes them, plus older spellings, and the values
    transformers reads from them (the reference for test_formats.c)."""
    from transformers import AutoConfig, GPTNeoXConfig, LlamaConfig
    base = os.path.join(FMTDIR, "configs")
    ref = {}

    def record(name, cfg):
        rp = getattr(cfg, "rope_parameters", None) or {}
        eos = cfg.eos_token_id
        ref[name] = {
            "model_type": cfg.model_type, "architecture": (cfg.architectures or [""])[0],
            "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_hidden_layers,
            "num_attention_heads": cfg.num_attention_heads,
            "num_key_value_heads": getattr(cfg, "num_key_value_heads", cfg.num_attention_heads),
            "head_dim": getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
            "intermediate_size": cfg.intermediate_size, "vocab_size": cfg.vocab_size,
            "max_position_embeddings": cfg.max_position_embeddings,
            "norm_eps": getattr(cfg, "rms_norm_eps", None) or getattr(cfg, "layer_norm_eps", None),
            "hidden_act": cfg.hidden_act, "tie_word_embeddings": bool(cfg.tie_word_embeddings),
            "use_parallel_residual": bool(getattr(cfg, "use_parallel_residual", False)),
            "attention_bias": bool(getattr(cfg, "attention_bias", False)),
            "partial_rotary_factor": rp.get("partial_rotary_factor", 1.0),
            "rope_theta": rp.get("rope_theta"), "rope_type": rp.get("rope_type", "default"),
            "rope_factor": rp.get("factor", 1.0), "rope_low_freq_factor": rp.get("low_freq_factor", 1.0),
            "rope_high_freq_factor": rp.get("high_freq_factor", 4.0),
            "rope_original_max_position_embeddings": rp.get("original_max_position_embeddings", 0),
            "num_labels": cfg.num_labels, "bos_token_id": cfg.bos_token_id,
            "eos_token_ids": eos if isinstance(eos, list) else ([] if eos is None else [eos]),
            "pad_token_id": cfg.pad_token_id,
        }

    def save(name, cfg):
        d = os.path.join(base, name)
        cfg.save_pretrained(d)
        record(name, AutoConfig.from_pretrained(d))

    save("neox_new", GPTNeoXConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                                   vocab_size=512, rotary_pct=0.5, rotary_emb_base=1000, use_parallel_residual=False,
                                   max_position_embeddings=128, architectures=["GPTNeoXForCausalLM"]))
    save("llama3", LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                               intermediate_size=160, vocab_size=300, max_position_embeddings=16384, rope_theta=500000.0,
                               rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                             "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                               tie_word_embeddings=True, eos_token_id=[5, 7], bos_token_id=3, head_dim=32,
                               architectures=["LlamaForCausalLM"]))
    rm = GPTNeoXConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, vocab_size=100,
                       num_labels=1, architectures=["GPTNeoXForSequenceClassification"], pad_token_id=1)
    save("neox_rm", rm)
    # Pythia as published (older transformers): rotary_pct / rotary_emb_base spelling, written by hand
    d = os.path.join(base, "pythia_old")
    os.makedirs(d, exist_ok=True)
    old = {"architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu",
           "hidden_size": 512, "initializer_range": 0.02, "intermediate_size": 2048, "layer_norm_eps": 1e-05,
           "max_position_embeddings": 2048, "model_type": "gpt_neox", "num_attention_heads": 8, "num_hidden_layers": 6,
           "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": False, "torch_dtype": "float16",
           "transformers_version": "4.24.0", "use_cache": True, "use_parallel_residual": True, "vocab_size": 50304}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(old, f, indent=2)
    with open(os.path.join(d, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 0, "eos_token_id": [0, 2], "pad_token_id": 1}, f, indent=2)
    record("pythia_old", AutoConfig.from_pretrained(d))
    ref["pythia_old"]["eos_token_ids"] = [0, 2]   # generation_config.json overrides (as generate() uses it)
    ref["pythia_old"]["pad_token_id"] = 1
    with open(os.path.join(base, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    write_configs()
    made, _ = write_tokenizers()
    write_safetensors()
    write_gguf()
    write_gguf_tokenizers(made)
    print("fixtures written to", TOKDIR, "and", FMTDIR)
