#!/usr/bin/env python3
"""PyTorch/transformers reference numbers for tools/bench: the same work as distill's Java benchmarks.

Usage: bench_torch.py MODEL_DIR [--threads N] [--what generate,score,train] [--batches 1,8,32]
         [--prompt-len 128] [--new-tokens 128] [--score-len 512] [--top-k 20]
         [--train-batch 16] [--train-len 512] [--train-steps 5] [--device cpu|cuda]

On cuda, inference runs in fp16 and training in bf16 autocast with fused AdamW (the anchors of
the GPU issue); the peak GPU memory of each measurement is printed too.

Prints one line per measurement: `torch <what> batch=<B> ... tok/s=<x>` (tools/bench parses it).
Only tools/bench calls this, and only when torch and transformers are importable.
"""
import argparse
import time

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def generate(model, batch, prompt_len, new_tokens, top_k, vocab):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (batch, prompt_len), generator=g).to(model.device)
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             do_sample=False, output_scores=True, return_dict_in_generate=True, pad_token_id=0)
        # what distill records per position: top-k of the log-softmax at temperature 1
        for s in out.scores:
            torch.topk(F.log_softmax(s.float(), dim=-1), top_k, dim=-1)
        sync()
        secs = time.perf_counter() - start
    produced = out.sequences.shape[1] - prompt_len
    return batch * produced / secs


def score(model, batch, seq_len, top_k, vocab):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (batch, seq_len), generator=g).to(model.device)
    with torch.inference_mode():
        start = time.perf_counter()
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        lp = F.log_softmax(logits.float(), dim=-1)
        torch.topk(lp, top_k, dim=-1)
        lp.gather(-1, ids[:, 1:].unsqueeze(-1))
        sync()
        secs = time.perf_counter() - start
    return batch * seq_len / secs


def train(model, batch, seq_len, top_k, vocab, steps):
    g = torch.Generator().manual_seed(0)
    model.train()
    cuda = model.device.type == "cuda"
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0, fused=cuda)
    ids = torch.randint(3, vocab, (batch, seq_len), generator=g).to(model.device)
    t_ids = torch.randint(0, vocab, (batch, seq_len, top_k), generator=g).to(model.device)
    t_lp = torch.log_softmax(torch.randn(batch, seq_len, top_k, generator=g), dim=-1).to(model.device)

    def step():
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=cuda):
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.float()
        s_lp = torch.log_softmax(logits, dim=-1).gather(-1, t_ids)
        s_lp = s_lp - torch.logsumexp(s_lp, dim=-1, keepdim=True)  # renormalised over the top-k (tail zero)
        loss = (t_lp.exp() * (t_lp - s_lp)).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()  # warm-up
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    secs = time.perf_counter() - start
    return batch * seq_len * steps / secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--what", default="generate,score,train")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--score-len", type=int, default=512)
    ap.add_argument("--top-k", type=int, default=20)
    ap.add_argument("--train-batch", type=int, default=16)
    ap.add_argument("--train-len", type=int, default=512)
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    infer_dtype = torch.float16 if a.device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=infer_dtype).to(a.device)
    model.eval()
    vocab = model.config.vocab_size
    what = a.what.split(",")
    batches = [int(b) for b in a.batches.split(",")]
    if "generate" in what:
        generate(model, 1, 8, 4, a.top_k, vocab)  # warm-up
        for b in batches:
            r = generate(model, b, a.prompt_len, a.new_tokens, a.top_k, vocab)
            print(f"torch generate batch={b} prompt={a.prompt_len} new={a.new_tokens} tok/s={r:.1f}", flush=True)
    if "score" in what:
        score(model, 1, 16, a.top_k, vocab)
        for b in batches:
            r = score(model, b, a.score_len, a.top_k, vocab)
            print(f"torch score batch={b} len={a.score_len} tok/s={r:.1f}", flush=True)
    if "train" in what:
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).to(a.device)  # fp32 master weights
        r = train(model, a.train_batch, a.train_len, a.top_k, vocab, a.train_steps)
        print(f"torch train batch={a.train_batch} len={a.train_len} tok/s={r:.1f}", flush=True)
    if a.device == "cuda":
        print(f"torch peak_gpu_mb={torch.cuda.max_memory_allocated() / 2**20:.0f}", flush=True)


if __name__ == "__main__":
    main()
