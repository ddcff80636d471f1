#!/usr/bin/env python3
"""Golden fixture for the rm: oracle (run by hand; CI does not need Python).

A tiny GPTNeoXForSequenceClassification with random weights over the built-in task's
16-character vocabulary, saved by transformers' save_pretrained, plus the scores transformers
computes for a few (prompt, response) texts (prompt + response concatenated, score = logit at
the last token). tests/alignment/test_oracle_rm.c compares sea's rm oracle against them.

    python3 tests/alignment/make_rm_fixture.py   (from the repository root)
"""
import json
import os
import shutil

import torch
from tokenizers import Tokenizer
from transformers import GPTNeoXConfig, GPTNeoXForSequenceClassification

out = "tests/alignment/fixtures/arith_rm"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
cfg = GPTNeoXConfig(vocab_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, max_position_embeddings=32, rotary_pct=0.5,
                    num_labels=1, pad_token_id=0, bos_token_id=0, eos_token_id=0)
model = GPTNeoXForSequenceClassification(cfg).eval()
with torch.no_grad():   # larger than init noise so scores differ visibly
    for p in model.parameters():
        p.add_(0.05 * torch.randn_like(p))
model.save_pretrained(out, safe_serialization=True)
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join("data/arith-sft", f), out)
tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
items = [("12+35=", "47"), ("12+35=", "48"), ("3+4=", "7"), ("49+49=", "98"), ("0+0=", "0"), ("7+8=", "")]
scores = []
with torch.no_grad():
    for p, r in items:
        ids = tok.encode(p + r).ids
        s = model(torch.tensor([ids])).logits[0, 0].item()
        scores.append({"prompt": p, "response": r, "score": s})
with open(os.path.join(out, "scores.json"), "w") as f:
    json.dump(scores, f, indent=1)
print(scores)
