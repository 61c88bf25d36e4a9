"""Independent reference for the causal-LM proxy: SmolLM2-135M-Instruct from its GGUF file,
dequantised by the `gguf` Python package (llama.cpp's own), run by a float64 numpy forward
pass that applies RoPE in GGUF's interleaved-pair layout (prism un-permutes to HF rotate-half
instead, so the two sides do not share that step).

For four (prompt, completion) pairs laid out with the ChatML template it writes: the token
ids, logits at the first 8 positions for 256 fixed vocabulary ids plus each position's
argmax, and the completion-only mean cross-entropy (completion tokens and <|im_end|> scored).

Run:  python3 tests/reference/smollm2_reference.py \
          .cache/prism/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf \
          > tests/reference/smollm2_fixture.json
Needs: numpy, gguf==0.17.1, tokenizers (pip).
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import Tokenizer

SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
PAIRS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Premise: A man plays a guitar on stage.\nHypothesis: A man is performing music.\n"
     "Does the premise entail the hypothesis? Answer entailment, neutral or contradiction.",
     "entailment"),
    ("Premise: Revenue grew 12% in 2019.\nHypothesis: Revenue fell in 2019.\n"
     "Does the premise entail the hypothesis? Answer entailment, neutral or contradiction.",
     "contradiction"),
    ("Count to five.", "1, 2, 3, 4, 5"),
]
VOCAB_PROBE = list(range(0, 49152, 192))


def field(reader, key):
    f = reader.fields[key]
    if len(f.types) and f.types[0].name == "ARRAY":
        if f.types[-1].name == "STRING":
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    if f.types[0].name == "STRING":
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]][0].item()


def build_tokenizer(reader):
    tokens = field(reader, "tokenizer.ggml.tokens")
    merges = field(reader, "tokenizer.ggml.merges")
    types = field(reader, "tokenizer.ggml.token_type")
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": True}
    spec = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for i, t in enumerate(tokens) if types[i] == 3],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True}, byte_level]},
        "post_processor": None, "decoder": dict(byte_level, add_prefix_space=True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
    return Tokenizer.from_str(json.dumps(spec))


def weights(reader):
    out = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float64)
        out[t.name] = w.reshape([int(d) for d in reversed(t.shape)])
    return out


def rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope_interleaved(x, theta):
    # x: [heads, len, dh]; pairs (2i, 2i+1) rotate by pos * theta^(-2i/dh).
    h, n, dh = x.shape
    inv = theta ** (-np.arange(0, dh, 2) / dh)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(ang), np.sin(ang)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


def forward(w, cfg, ids):
    n = len(ids)
    heads, kv, dh, eps = cfg["heads"], cfg["kv"], cfg["dh"], cfg["eps"]
    x = w["token_embd.weight"][ids]
    causal = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(cfg["layers"]):
        p = f"blk.{i}."
        hn = rms(x, w[p + "attn_norm.weight"], eps)
        q = (hn @ w[p + "attn_q.weight"].T).reshape(n, heads, dh).transpose(1, 0, 2)
        k = (hn @ w[p + "attn_k.weight"].T).reshape(n, kv, dh).transpose(1, 0, 2)
        v = (hn @ w[p + "attn_v.weight"].T).reshape(n, kv, dh).transpose(1, 0, 2)
        q, k = rope_interleaved(q, cfg["theta"]), rope_interleaved(k, cfg["theta"])
        k = np.repeat(k, heads // kv, axis=0)
        v = np.repeat(v, heads // kv, axis=0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh) + causal
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * dh)
        x = x + ctx @ w[p + "attn_output.weight"].T
        hn = rms(x, w[p + "ffn_norm.weight"], eps)
        g = hn @ w[p + "ffn_gate.weight"].T
        u = hn @ w[p + "ffn_up.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * u) @ w[p + "ffn_down.weight"].T
    x = rms(x, w["output_norm.weight"], eps)
    return x @ w["token_embd.weight"].T


def main():
    reader = GGUFReader(sys.argv[1])
    cfg = {
        "layers": field(reader, "llama.block_count"),
        "heads": field(reader, "llama.attention.head_count"),
        "kv": field(reader, "llama.attention.head_count_kv"),
        "eps": field(reader, "llama.attention.layer_norm_rms_epsilon"),
        "theta": field(reader, "llama.rope.freq_base"),
    }
    cfg["dh"] = field(reader, "llama.embedding_length") // cfg["heads"]
    tok = build_tokenizer(reader)
    w = weights(reader)
    cases = []
    for prompt, completion in PAIRS:
        head = (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n"
                "<|im_start|>assistant\n")
        prompt_ids = tok.encode(head, add_special_tokens=False).ids
        completion_ids = tok.encode(completion + "<|im_end|>", add_special_tokens=False).ids
        ids = prompt_ids + completion_ids
        logits = forward(w, cfg, ids)
        m = logits.max(-1, keepdims=True)
        logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
        start = len(prompt_ids)
        nll = [-logp[t - 1, ids[t]] for t in range(start, len(ids))]
        cases.append({
            "prompt": prompt,
            "completion": completion,
            "ids": ids,
            "completion_start": start,
            "logits_first8": [[round(float(logits[t, v]), 6) for v in VOCAB_PROBE]
                              for t in range(8)],
            "argmax_first8": [int(logits[t].argmax()) for t in range(8)],
            "loss": float(np.mean(nll)),
        })
    json.dump({
        "generator": "tests/reference/smollm2_reference.py (gguf dequantize + numpy float64)",
        "system": SYSTEM,
        "vocab_probe": VOCAB_PROBE,
        "cases": cases,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
