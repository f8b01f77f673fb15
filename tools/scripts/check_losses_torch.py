#!/usr/bin/env python3
"""Writes the PyTorch reference numbers that the trainer's loss/optimizer tests assert against.

Outputs (committed; the Java build never runs Python):
  trainer/src/test/resources/torch-reference/losses.json  distillation losses, CE, gradients
  trainer/src/test/resources/torch-reference/optim.json   torch.optim.AdamW, clip_grad_norm_, HF LR schedules

Everything here is an independent float64 statement of the formulas in docs/losses.md, so the
Java fp32 implementation is checked against autograd, not against itself.

Usage: python3 tools/scripts/check_losses_torch.py [--out-dir DIR]
"""
import argparse
import json
import math
import os

import torch
from transformers import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

TEACHER_TAIL_FLOOR = 1e-6  # DistillLoss: the teacher's leftover mass is clamped to [1e-6, 1]
STUDENT_TAIL_FLOOR = 1.1754943508222875e-38  # Float.MIN_NORMAL: the student tail sum before log
LOGPROB_FLOOR = -1e4  # teacher log-probs below this (or NaN) are read as this


def f32(t):
    """Rounds to float32 and back, so the JSON holds exactly the values the Java test feeds in."""
    return t.to(torch.float32).to(torch.float64)


def support_log_weights(z, ids, lp, tail):
    """Teacher and student log-weights over the support at T=1: [N, k] (zero) or [N, k+1] (bucket)."""
    lp = torch.where(lp >= LOGPROB_FLOOR, lp, torch.full_like(lp, LOGPROB_FLOOR)).clamp(max=0.0)
    z_k = z.gather(1, ids)
    n, v = z.shape
    if tail == "zero" or ids.shape[1] == v:
        return lp, z_k
    # Teacher: leftover mass 1 - sum(p_k), clamped to [floor, 1].
    t_tail = (1.0 - lp.exp().sum(1)).clamp(min=TEACHER_TAIL_FLOOR, max=1.0).log()
    # Student: exact full-vocab log-softmax at the ids, tail = log-sum-exp over the ids NOT in the row.
    lse = torch.logsumexp(z, 1)
    in_topk = torch.zeros(n, v, dtype=torch.bool).scatter(1, ids, True)
    tail_sum = torch.where(in_topk, torch.zeros_like(z), (z - lse[:, None]).exp()).sum(1)
    s_tail = tail_sum.clamp(min=STUDENT_TAIL_FLOOR).log()
    return (torch.cat([lp, t_tail[:, None]], 1),
            torch.cat([z_k - lse[:, None], s_tail[:, None]], 1))


def divergence(name, lp, lq, beta):
    """Row-wise D over the support; P = teacher (lp), Q = student (lq). Returns [N]."""
    p, q = lp.exp(), lq.exp()
    if name == "forward-kl":
        return (p * (lp - lq)).sum(1)
    if name == "reverse-kl":
        return (q * (lq - lp)).sum(1)
    if name == "jsd":
        m = torch.logsumexp(torch.stack([lp + math.log(beta), lq + math.log(1 - beta)]), 0)
        return beta * (p * (lp - m)).sum(1) + (1 - beta) * (q * (lq - m)).sum(1)
    if name == "tvd":
        return 0.5 * (p - q).abs().sum(1)
    raise ValueError(name)


def distill_per_position(z, ids, lp, weights, name, tail, temperature, beta):
    t_w, s_w = support_log_weights(z, ids, lp, tail)
    t_logp = torch.log_softmax(t_w / temperature, 1)
    s_logq = torch.log_softmax(s_w / temperature, 1)
    return temperature ** 2 * divergence(name, t_logp, s_logq, beta) * weights


def with_grad(fn, z):
    z = z.clone().requires_grad_(True)
    out = fn(z)
    out.sum().backward()
    return out.detach(), z.grad.detach()


def rows(t):
    return t.tolist()


def loss_reference():
    g = torch.Generator().manual_seed(7)
    n, v, k = 6, 12, 4
    z = f32(torch.randn(n, v, generator=g, dtype=torch.float64) * 2.0)  # [N, V] student logits
    teacher_logits = torch.randn(n, v, generator=g, dtype=torch.float64) * 2.5  # [N, V]
    teacher_logits[1, 5] = 30.0  # teacher top-k holds all but ~1e-12 of the mass: tail clamp
    z[2, :] = f32(torch.randn(v, generator=g, dtype=torch.float64))
    teacher_top = teacher_logits.argsort(1, descending=True)
    z[2, teacher_top[2, 0]] = 40.0  # student puts all but ~1e-17 on a top-k id: stable tail
    full_lp = torch.log_softmax(teacher_logits, 1)  # [N, V]
    ids = teacher_top[:, :k].contiguous()  # [N, k] int64, most likely first
    lp = f32(full_lp.gather(1, ids))  # [N, k] stored as fp32
    ids[4] = 0  # row 4 is padding: masked out, duplicate ids, zero log-probs
    lp[4] = 0.0
    weights = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)  # [N]
    labels = torch.tensor([3, 5, 0, 11, 0, 7])  # [N] sampled tokens

    cases = []
    for name, beta in [("forward-kl", 0.5), ("reverse-kl", 0.5), ("jsd", 0.3), ("jsd", 0.5), ("tvd", 0.5)]:
        for tail in ["zero", "bucket"]:
            for temperature in [1.0, 2.0]:
                loss, grad = with_grad(
                    lambda x: distill_per_position(x, ids, lp, weights, name, tail, temperature, beta), z)
                cases.append({"loss": name, "tail": tail, "temperature": temperature, "beta": beta,
                              "per_position": rows(loss), "grad": rows(grad)})

    ce, ce_grad = with_grad(lambda x: -torch.log_softmax(x, 1).gather(1, labels[:, None])[:, 0] * weights, z)

    # Dense case: k = V, the stored row is the whole teacher distribution.
    dense_ids = teacher_logits.argsort(1, descending=True)  # [N, V]
    dense_lp = f32(full_lp.gather(1, dense_ids))
    dense = []
    for temperature in [1.0, 2.0]:
        full_kl = temperature ** 2 * (torch.softmax(teacher_logits / temperature, 1) * (
            torch.log_softmax(teacher_logits / temperature, 1) - torch.log_softmax(z / temperature, 1))).sum(1)
        dense.append({"temperature": temperature, "full_kl": rows(full_kl)})

    return {
        "description": "distill losses vs float64 PyTorch autograd; see tools/scripts/check_losses_torch.py",
        "torch_version": torch.__version__,
        "student_logits": rows(z), "topk_ids": rows(ids), "topk_logprobs": rows(lp),
        "weights": rows(weights), "labels": rows(labels),
        "cases": cases,
        "cross_entropy": {"per_position": rows(ce), "grad": rows(ce_grad)},
        "dense": {"topk_ids": rows(dense_ids), "topk_logprobs": rows(dense_lp), "cases": dense},
    }


def adamw_reference():
    g = torch.Generator().manual_seed(11)
    w0 = f32(torch.randn(3, 4, generator=g, dtype=torch.float64)).float()  # [3, 4]
    b0 = f32(torch.randn(4, generator=g, dtype=torch.float64)).float()  # [4]
    grads = [(torch.randn(3, 4, generator=g).float(), torch.randn(4, generator=g).float()) for _ in range(3)]
    lrs = [1e-2, 8e-3, 5e-3]
    out = {"w0": rows(w0), "b0": rows(b0), "lrs": lrs,
           "grads": [{"w": rows(gw), "b": rows(gb)} for gw, gb in grads], "runs": []}
    for weight_decay in [0.1, 0.0]:
        w = w0.clone().requires_grad_(True)
        b = b0.clone().requires_grad_(True)
        # HF Trainer rule: decay matrices, never 1-D tensors (biases, norm weights).
        opt = torch.optim.AdamW([{"params": [w], "weight_decay": weight_decay},
                                 {"params": [b], "weight_decay": 0.0}],
                                lr=lrs[0], betas=(0.9, 0.999), eps=1e-8, foreach=False)
        steps = []
        for (gw, gb), lr in zip(grads, lrs):
            for group in opt.param_groups:
                group["lr"] = lr
            w.grad, b.grad = gw.clone(), gb.clone()
            opt.step()
            steps.append({"w": rows(w.detach()), "b": rows(b.detach())})
        st = opt.state
        out["runs"].append({"weight_decay": weight_decay, "steps": steps,
                            "exp_avg": {"w": rows(st[w]["exp_avg"]), "b": rows(st[b]["exp_avg"])},
                            "exp_avg_sq": {"w": rows(st[w]["exp_avg_sq"]), "b": rows(st[b]["exp_avg_sq"])}})
    return out


def clip_reference():
    g = torch.Generator().manual_seed(13)
    shapes = [(3, 4), (4,), (2, 2)]
    grads = [torch.randn(*s, generator=g) for s in shapes]
    out = {"grads": [rows(x) for x in grads], "cases": []}
    for max_norm in [1.0, 1000.0]:
        params = [torch.zeros(*s, requires_grad=True) for s in shapes]
        for p, x in zip(params, grads):
            p.grad = x.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        out["cases"].append({"max_norm": max_norm, "norm": float(norm),
                             "clipped": [rows(p.grad) for p in params]})
    return out


def schedule_reference():
    peak = 3e-4
    out = []
    for warmup, total in [(3, 10), (0, 6)]:
        makers = {
            "cosine": lambda o: get_cosine_schedule_with_warmup(o, warmup, total),
            "linear": lambda o: get_linear_schedule_with_warmup(o, warmup, total),
            "constant": lambda o: get_constant_schedule_with_warmup(o, warmup),
            "cosine-min0.1": lambda o: get_cosine_with_min_lr_schedule_with_warmup(o, warmup, total, min_lr_rate=0.1),
        }
        for kind, make in makers.items():
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=peak)
            sched = make(opt)
            lrs = []
            for _ in range(total + 3):  # a few steps past the end, too
                lrs.append(sched.get_last_lr()[0])
                opt.step()
                sched.step()
            out.append({"kind": kind, "warmup": warmup, "total": total, "peak": peak, "lrs": lrs})
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "..", "trainer", "src", "test", "resources", "torch-reference")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=default_out)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "losses.json"), "w") as f:
        json.dump(loss_reference(), f, indent=1)
    with open(os.path.join(args.out_dir, "optim.json"), "w") as f:
        json.dump({"adamw": adamw_reference(), "clip": clip_reference(), "schedules": schedule_reference()}, f,
                  indent=1)
    print("wrote", os.path.normpath(args.out_dir))


if __name__ == "__main__":
    main()
