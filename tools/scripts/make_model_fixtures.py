#!/usr/bin/env python3
"""Makes the tiny Hugging Face checkpoints under fixtures/models/ and their transformers reference outputs.

Each variant is a random-weight decoder (hidden 64, 2 layers, 4 heads, 2 KV heads, intermediate 128,
vocab 512) saved by transformers' save_pretrained, then reloaded from disk in float32 to record:
  reference.json        the left-padded batch (ids, attention mask, position ids), HF greedy ids (16 new
                        tokens; a row that emits one of the model's eos ids stops and is padded with 0)
  reference_logprobs.f32  log-softmax at every real position, float32 little-endian [N, 512],
                        rows in (sequence, position) order over the positions where the mask is 1.
The Java parity tests (model/src/test/.../ParityTest) read these; Python is never needed by the build.
The sliding-window variants (window smaller than the reference sequences) are also checked to depend on
their exact window: their log-probs with a window one smaller, one larger, or none, must differ from the
recorded ones, so an off-by-one in the Java mask fails the parity tests.

  python3 tools/scripts/make_model_fixtures.py                      # (re)make every variant
  python3 tools/scripts/make_model_fixtures.py --variant qwen2_sliding   # (re)make one variant
  python3 tools/scripts/make_model_fixtures.py --check-saved DIR --variant llama
        # load a checkpoint the Java side saved (CausalLM.save) in transformers and compare its
        # log-probs on the variant's reference batch with the recorded reference
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
import transformers
from transformers import (AutoModelForCausalLM, GenerationConfig, LlamaConfig, MistralConfig, Qwen2Config,
                          Qwen3Config)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "models"
SEED = 1234
LENGTHS = [10, 7, 4]  # real tokens per sequence of the reference batch (left-padded to 10)
NEW_TOKENS = 16
PAD = 0

COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, pad_token_id=PAD)

# name -> (config class, config kwargs, weight dtype on disk, config.json style, extra save options)
VARIANTS = {
    # untied, llama3 rope scaling (small original context so every llama3 branch acts on short inputs),
    # transformers-5 config, generation_config.json with a second eos id
    "llama": (LlamaConfig, dict(tie_word_embeddings=False, max_position_embeddings=256,
                                rope_parameters=dict(rope_type="llama3", rope_theta=10000.0, factor=8.0,
                                                     low_freq_factor=1.0, high_freq_factor=4.0,
                                                     original_max_position_embeddings=64)),
              torch.float32, "v5", dict(generation_eos=[2, 7])),
    # tied embeddings, linear rope scaling, transformers-4 config ("type" key, rope_theta, torch_dtype)
    "llama_linear_tied": (LlamaConfig, dict(tie_word_embeddings=True, max_position_embeddings=512,
                                            rope_parameters=dict(rope_type="linear", rope_theta=500.0, factor=4.0)),
                          torch.float32, "v4", {}),
    # mistral with an explicit head_dim and a sliding window larger than any test sequence; BF16 weights
    "mistral_bf16": (MistralConfig, dict(tie_word_embeddings=False, head_dim=16, sliding_window=4096,
                                         max_position_embeddings=8192,
                                         rope_parameters=dict(rope_type="default", rope_theta=1000000.0)),
                     torch.bfloat16, "v4", {}),
    # qwen2: q/k/v biases, tied embeddings; F16 weights
    "qwen2_fp16_tied": (Qwen2Config, dict(tie_word_embeddings=True, max_position_embeddings=1024,
                                          rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
                        torch.float16, "v5", {}),
    # qwen3: per-head q/k RMSNorm, head_dim 24 != 64 / 4, tied (like the small Qwen3 models)
    "qwen3": (Qwen3Config, dict(tie_word_embeddings=True, head_dim=24, max_position_embeddings=1024,
                                rope_parameters=dict(rope_type="default", rope_theta=1000000.0)),
              torch.float32, "v5", {}),
    # a sharded F32 checkpoint (model.safetensors.index.json + 3 shards), tied, plain rope
    "llama_sharded": (LlamaConfig, dict(tie_word_embeddings=True, max_position_embeddings=256,
                                        rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
                      torch.float32, "v5", dict(max_shard_size="180KB")),
    # mistral with a sliding window of 5 on every layer (shorter than the prompts); F16 weights
    "mistral_sliding": (MistralConfig, dict(tie_word_embeddings=False, sliding_window=5, max_position_embeddings=1024,
                                            rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
                        torch.float16, "v5", {}),
    # qwen2 with use_sliding_window, window 4 from layer max_window_layers=1 on: layer 0 full, layer 1 sliding;
    # transformers-4 config (no layer_types: they are derived from max_window_layers); F16 weights
    "qwen2_sliding": (Qwen2Config, dict(tie_word_embeddings=True, use_sliding_window=True, sliding_window=4,
                                        max_window_layers=1, max_position_embeddings=1024,
                                        rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
                      torch.float16, "v4", {}),
    # qwen3 with an explicit layer_types (sliding, full) that max_window_layers=28 alone would not give;
    # window 3; F16 weights
    "qwen3_layer_types": (Qwen3Config, dict(tie_word_embeddings=True, head_dim=24, use_sliding_window=True,
                                            sliding_window=3, max_window_layers=28,
                                            layer_types=["sliding_attention", "full_attention"],
                                            max_position_embeddings=1024,
                                            rope_parameters=dict(rope_type="default", rope_theta=1000000.0)),
                          torch.float16, "v5", {}),
}


def init_weights(model, gen):
    """Peaked, non-trivial weights: greedy tokens and log-probs depend on every tensor."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                v = 1.0 + 0.2 * torch.randn(p.shape, generator=gen)
            elif name.endswith(".bias"):
                v = 0.2 * torch.randn(p.shape, generator=gen)
            elif "embed_tokens" in name:
                v = torch.randn(p.shape, generator=gen)
            elif name == "lm_head.weight":
                v = 0.5 * torch.randn(p.shape, generator=gen)
            else:
                v = 0.2 * torch.randn(p.shape, generator=gen)
            p.copy_(v)


def to_v4_style(config_path, rope_key):
    """Rewrites a saved config.json the way transformers 4 wrote it: rope_theta + rope_scaling, torch_dtype, no
    layer_types."""
    cfg = json.loads(config_path.read_text())
    cfg.pop("layer_types", None)
    rope = cfg.pop("rope_parameters")
    cfg["rope_theta"] = rope.pop("rope_theta")
    rope_type = rope.pop("rope_type")
    cfg["rope_scaling"] = None if rope_type == "default" else {rope_key: rope_type, **rope}
    cfg["torch_dtype"] = cfg.pop("dtype")
    cfg["transformers_version"] = "4.46.3"
    config_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def reference_batch(gen):
    width = max(LENGTHS)
    ids = torch.full((len(LENGTHS), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(LENGTHS), width), dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        ids[b, width - n:] = torch.randint(3, 512, (n,), generator=gen)
        mask[b, width - n:] = 1
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)  # what HF generate uses
    return ids, mask, positions


def real_logprobs(model, ids, mask, positions):
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()
    logp = torch.log_softmax(logits, dim=-1)  # [B, T, V]
    return logp[mask.bool()]  # [N, V], (b, t) order


def greedy(model, ids, mask):
    """HF greedy generate (its eos ids stop a row, which is then padded), cross-checked against a plain
    recompute-everything argmax loop with the same stopping rule."""
    gc = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS, pad_token_id=PAD)
    eos = torch.tensor(model.generation_config.eos_token_id if isinstance(model.generation_config.eos_token_id, list)
                       else [model.generation_config.eos_token_id])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=gc)[:, ids.shape[1]:]
        seq, m = ids, mask
        done = torch.zeros(ids.shape[0], dtype=torch.bool)
        for _ in range(NEW_TOKENS):
            pos = (m.cumsum(-1) - 1).masked_fill(m == 0, 1)
            nxt = model(input_ids=seq, attention_mask=m, position_ids=pos).logits[:, -1].argmax(-1)
            nxt = nxt.masked_fill(done, PAD)
            done |= torch.isin(nxt, eos)
            seq = torch.cat([seq, nxt[:, None]], 1)
            m = torch.cat([m, torch.ones_like(nxt[:, None])], 1)
        assert torch.equal(seq[:, ids.shape[1]:], out), "generate() disagrees with the argmax loop"
    return out


def load_fp32(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()


def check_window_matters(path, window, ids, mask, positions, logp):
    """A sliding-window fixture must pin its window down: one smaller, one larger or none changes the log-probs."""
    for other in (window - 1, window + 1, 1 << 20):
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager",
                                                     sliding_window=other).eval()
        diff = (real_logprobs(model, ids, mask, positions) - logp).abs().max().item()
        print(f"  sliding_window {other} instead of {window}: max |logprob diff| {diff:.3g}")
        assert diff > 1e-2, f"{path}: the reference does not depend on sliding_window {window} vs {other}"


def make_variant(name, cls, kwargs, dtype, style, extra):
    gen = torch.Generator().manual_seed(SEED + sum(map(ord, name)))
    config = cls(**COMMON, **kwargs)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    init_weights(model, gen)
    if "generation_eos" in extra:
        model.generation_config.eos_token_id = extra["generation_eos"]
    model = model.to(dtype)
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, max_shard_size=extra.get("max_shard_size", "50GB"))
    if style == "v4":
        to_v4_style(out / "config.json", "type" if name == "llama_linear_tied" else "rope_type")

    ref = load_fp32(out)  # what transformers makes of the files on disk
    ids, mask, positions = reference_batch(gen)
    logp = real_logprobs(ref, ids, mask, positions)
    logp.numpy().astype("<f4").tofile(out / "reference_logprobs.f32")
    new_ids = greedy(ref, ids, mask)
    if ref.config.sliding_window is not None and ref.config.sliding_window < max(LENGTHS):
        check_window_matters(out, ref.config.sliding_window, ids, mask, positions, logp)
    meta = {
        "variant": name,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "position_ids": positions.tolist(),
        "logprobs_file": "reference_logprobs.f32",
        "logprobs_shape": list(logp.shape),
        "greedy_new_tokens": NEW_TOKENS,
        "eos_token_ids": sorted(set(ref.generation_config.eos_token_id if isinstance(
            ref.generation_config.eos_token_id, list) else [ref.generation_config.eos_token_id])),
        "pad_token_id": PAD,
        "greedy": new_ids.tolist(),
    }
    (out / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    top2 = logp.topk(2, dim=-1).values
    margin = (top2[:, 0] - top2[:, 1]).min().item()
    print(f"{name}: {sum(f.stat().st_size for f in out.iterdir())} bytes, "
          f"files {sorted(f.name for f in out.iterdir())}, min top-2 logprob margin {margin:.4f}")


def check_saved(saved_dir, variant):
    fixture = OUT / variant
    meta = json.loads((fixture / "reference.json").read_text())
    ids = torch.tensor(meta["input_ids"])
    mask = torch.tensor(meta["attention_mask"])
    positions = torch.tensor(meta["position_ids"])
    expected = torch.from_file(str(fixture / meta["logprobs_file"]), size=meta["logprobs_shape"][0] *
                               meta["logprobs_shape"][1], dtype=torch.float32).view(*meta["logprobs_shape"])
    model = load_fp32(saved_dir)
    got = real_logprobs(model, ids, mask, positions)
    diff = (got - expected).abs().max().item()
    same_greedy = greedy(model, ids, mask).tolist() == meta["greedy"]
    print(f"{saved_dir}: transformers {transformers.__version__} loaded it as {type(model).__name__}; "
          f"max |logprob - reference| = {diff:.3g}; greedy identical: {same_greedy}")
    return diff < 1e-4 and same_greedy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-saved", metavar="DIR", help="a checkpoint written by CausalLM.save")
    ap.add_argument("--variant", choices=VARIANTS,
                    help="fixture whose reference batch to compare against (with --check-saved), or the only one "
                         "to (re)make")
    args = ap.parse_args()
    torch.manual_seed(SEED)
    if args.check_saved:
        sys.exit(0 if check_saved(args.check_saved, args.variant) else 1)
    for name, (cls, kwargs, dtype, style, extra) in VARIANTS.items():
        if args.variant in (None, name):
            make_variant(name, cls, kwargs, dtype, style, extra)


if __name__ == "__main__":
    main()
