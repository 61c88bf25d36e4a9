"""Tiny random Qwen2 and Llama-3 checkpoints in Hugging Face layout, and their logits from a
float64 numpy forward pass, so the safetensors path of prism's causal LM (q/k/v biases, an
untied output head, Llama-3 RoPE scaling, grouped-query attention) is checked against an
independent implementation. The Llama-3 scaling follows HF's `_compute_llama3_parameters`.

Run:  python3 tests/reference/tiny_lm_reference.py tests/reference/tiny-lm
Writes <out>/{qwen2,llama3}/{config.json, model.safetensors, tokenizer.json,
tokenizer_config.json} and <out>/fixture.json. Needs: numpy.
"""
import json
import math
import os
import struct
import sys

import numpy as np

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "is", "not", "red", "blue",
         "premise", "hypothesis", "entailment", "neutral", "contradiction", "yes", "no", "."]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "user", "assistant", "system", "\n",
            "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
IDS = [1, 3, 6, 7, 8, 9, 10, 2, 6, 1, 4, 6, 21, 22, 2]


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def tokenizer_json():
    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS)}
    vocab["[UNK]"] = len(vocab)
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(SPECIALS) if t.startswith("<|")],
        "normalizer": None, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None,
        "decoder": None, "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }


def inv_freq(cfg):
    dh = cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / (cfg["rope_theta"] ** (np.arange(0, dh, 2) / dh))
    rs = cfg.get("rope_scaling")
    if rs:
        low_wl = rs["original_max_position_embeddings"] / rs["low_freq_factor"]
        high_wl = rs["original_max_position_embeddings"] / rs["high_freq_factor"]
        wl = 2 * math.pi / inv
        scaled = np.where(wl > low_wl, inv / rs["factor"], inv)
        smooth = (rs["original_max_position_embeddings"] / wl - rs["low_freq_factor"]) / (
            rs["high_freq_factor"] - rs["low_freq_factor"])
        smoothed = (1 - smooth) * scaled / rs["factor"] + smooth * scaled
        medium = ~(wl < high_wl) & ~(wl > low_wl)
        inv = np.where(medium, smoothed, scaled)
    return inv


def forward(cfg, w, ids):
    n, h = len(ids), cfg["hidden_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    dh = h // heads
    ang = np.arange(n)[:, None] * inv_freq(cfg)[None]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    rot = lambda x: np.concatenate([-x[..., dh // 2:], x[..., : dh // 2]], -1)  # noqa: E731
    rms = lambda x, g: x / np.sqrt((x * x).mean(-1, keepdims=True) + cfg["rms_norm_eps"]) * g  # noqa: E731
    x = w["model.embed_tokens.weight"][ids]
    causal = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        hn = rms(x, w[p + "input_layernorm.weight"])
        proj = lambda name: hn @ w[p + name + ".weight"].T + w.get(p + name + ".bias", 0)  # noqa: E731
        q = proj("self_attn.q_proj").reshape(n, heads, dh).transpose(1, 0, 2)
        k = proj("self_attn.k_proj").reshape(n, kv, dh).transpose(1, 0, 2)
        v = proj("self_attn.v_proj").reshape(n, kv, dh).transpose(1, 0, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = np.repeat(k, heads // kv, 0), np.repeat(v, heads // kv, 0)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh) + causal
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        x = x + (s @ v).transpose(1, 0, 2).reshape(n, h) @ w[p + "self_attn.o_proj.weight"].T
        hn = rms(x, w[p + "post_attention_layernorm.weight"])
        g, u = hn @ w[p + "mlp.gate_proj.weight"].T, hn @ w[p + "mlp.up_proj.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "mlp.down_proj.weight"].T
    x = rms(x, w["model.norm.weight"])
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


def make(kind, rng):
    vocab = len(SPECIALS) + len(WORDS) + 1
    cfg = {"model_type": kind, "vocab_size": vocab, "hidden_size": 32, "intermediate_size": 48,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "rms_norm_eps": 1e-6, "rope_theta": 10000.0 if kind == "qwen2" else 500000.0,
           "tie_word_embeddings": kind != "qwen2"}
    if kind == "llama":
        cfg["rope_scaling"] = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 8}
    h, f, kvd = 32, 48, 16  # 4 heads of 8, 2 kv heads
    w = {"model.embed_tokens.weight": rng.normal(0, 0.5, (vocab, h)),
         "model.norm.weight": rng.normal(1, 0.1, h)}
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, 0.2, (vocab, h))
    for i in range(2):
        p = f"model.layers.{i}."
        for name, shape in [("self_attn.q_proj", (h, h)), ("self_attn.k_proj", (kvd, h)),
                            ("self_attn.v_proj", (kvd, h)), ("self_attn.o_proj", (h, h)),
                            ("mlp.gate_proj", (f, h)), ("mlp.up_proj", (f, h)), ("mlp.down_proj", (h, f))]:
            w[p + name + ".weight"] = rng.normal(0, 0.3, shape)
            if kind == "qwen2" and name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                w[p + name + ".bias"] = rng.normal(0, 0.3, shape[0])
        w[p + "input_layernorm.weight"] = rng.normal(1, 0.1, h)
        w[p + "post_attention_layernorm.weight"] = rng.normal(1, 0.1, h)
    w = {k: v.astype(np.float32) for k, v in w.items()}
    return cfg, w


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(0)
    fixture = {"generator": "tests/reference/tiny_lm_reference.py", "ids": IDS, "models": {}}
    for kind, folder in [("qwen2", "qwen2"), ("llama", "llama3")]:
        cfg, w = make(kind, rng)
        d = os.path.join(out, folder)
        os.makedirs(d, exist_ok=True)
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        json.dump(tokenizer_json(), open(os.path.join(d, "tokenizer.json"), "w"))
        template = ("{% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>\\n{% endfor %}"
                    if kind == "qwen2" else "<|start_header_id|>{{ role }}<|end_header_id|>")
        json.dump({"chat_template": template}, open(os.path.join(d, "tokenizer_config.json"), "w"))
        logits = forward(cfg, {k: v.astype(np.float64) for k, v in w.items()}, IDS)
        fixture["models"][folder] = [[round(float(x), 7) for x in row] for row in logits]
    json.dump(fixture, open(os.path.join(out, "fixture.json"), "w"))


if __name__ == "__main__":
    main()
