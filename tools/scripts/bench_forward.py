#!/usr/bin/env python3
"""PyTorch/transformers counterpart of dev.distill.tools.bench.ForwardBench: the same ~32M-parameter
llama (hidden 512, 8 layers, 8 heads / 4 KV heads, intermediate 1408, vocab 8192, untied), random
weights, float32 on the CPU, with the same thread count.

  prefill: one forward over [batch, prefill_len] tokens, logits included
  decode:  a [batch, prompt_len] prefill (not timed), then decode_steps greedy steps of one token per
           row with transformers' KV cache, argmax fetched to the host each step

  python3 tools/scripts/bench_forward.py --threads 2
"""
import argparse
import time

import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM


def bench_config():
    return LlamaConfig(vocab_size=8192, hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                       num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=2048, rms_norm_eps=1e-5,
                       rope_parameters=dict(rope_type="default", rope_theta=10000.0), tie_word_embeddings=False,
                       bos_token_id=1, eos_token_id=2)


def prefill_seconds(model, batch, length, vocab):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, vocab, (batch, length), generator=g)
    pos = torch.arange(length).expand(batch, length)
    mask = torch.ones_like(ids)
    start = time.perf_counter()
    model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).logits
    return time.perf_counter() - start


def decode_seconds(model, batch, prompt_len, steps, vocab):
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(3, vocab, (batch, prompt_len), generator=g)
    mask = torch.ones(batch, prompt_len + steps, dtype=torch.long)
    cache = DynamicCache(config=model.config)
    pos = torch.arange(prompt_len).expand(batch, prompt_len)
    out = model(input_ids=ids, attention_mask=mask[:, :prompt_len], position_ids=pos, past_key_values=cache,
                use_cache=True)
    nxt = out.logits[:, -1].argmax(-1).tolist()
    start = time.perf_counter()
    for step in range(steps):
        seen = prompt_len + step + 1
        out = model(input_ids=torch.tensor(nxt)[:, None], attention_mask=mask[:, :seen],
                    position_ids=torch.full((batch, 1), prompt_len + step), past_key_values=cache, use_cache=True)
        nxt = out.logits[:, 0].argmax(-1).tolist()
    return time.perf_counter() - start


def report(what, shape, tokens, seconds):
    best = min(seconds)
    median = sorted(seconds)[len(seconds) // 2]
    print(f"torch {what} {shape}: best {tokens / best:.1f} tok/s ({best:.3f} s), median {tokens / median:.1f} tok/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--attn", default="sdpa", help="transformers attn_implementation (sdpa or eager)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prefill-len", type=int, default=256)
    ap.add_argument("--prompt-len", type=int, default=16)
    ap.add_argument("--decode-steps", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    config = bench_config()
    model = LlamaForCausalLM._from_config(config, attn_implementation=args.attn).eval()
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__} forward bench: llama, {params / 1e6:.1f}M params, cpu float32, "
          f"threads={args.threads}, attn={args.attn}")
    with torch.inference_mode():
        prefill_seconds(model, args.batch, args.prefill_len, config.vocab_size)  # warm-up
        decode_seconds(model, args.batch, args.prompt_len, args.decode_steps, config.vocab_size)
        prefill, decode = [], []
        for _ in range(args.repeats):
            prefill.append(prefill_seconds(model, args.batch, args.prefill_len, config.vocab_size))
            decode.append(decode_seconds(model, args.batch, args.prompt_len, args.decode_steps, config.vocab_size))
    report("prefill", f"{args.batch}x{args.prefill_len}", args.batch * args.prefill_len, prefill)
    report("decode", f"{args.batch}x{args.decode_steps} steps", args.batch * args.decode_steps, decode)


if __name__ == "__main__":
    main()
