#!/usr/bin/env python3
"""Loads a student trained by `distill train` in Hugging Face transformers and compares its logits
with the ones Java computed for the same input.

Usage:
    python3 tools/scripts/check_student_transformers.py OUTDIR [--tolerance 1e-4]

OUTDIR holds `final/` (the model directory `distill train` writes), optionally `out/` (the files `distill train`
places in its --out directory itself, which must load as the same model) and `java_logits.json`
({"input_ids": [...], "logits": [flattened [T, V] float32], "vocab_size": V}); the trainer's test
SavedStudentTest writes all three to trainer/target/student-check/. Exits 0 when the largest absolute logit
difference is within the tolerance, 1 otherwise. Needs torch and transformers (5.x).
"""
import argparse
import json
import pathlib
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=pathlib.Path)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    ref = json.loads((args.outdir / "java_logits.json").read_text())
    dirs = [d for d in (args.outdir / "final", args.outdir / "out") if (d / "config.json").exists()]
    return 0 if all([check(d, ref, args.tolerance) for d in dirs]) and dirs else 1


def check(model_dir: pathlib.Path, ref: dict, tolerance: float) -> bool:
    vocab = ref["vocab_size"]
    ids = torch.tensor([ref["input_ids"]], dtype=torch.long)
    java = torch.tensor(ref["logits"], dtype=torch.float32).reshape(1, ids.shape[1], vocab)

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    AutoTokenizer.from_pretrained(model_dir)  # the tokenizer files load too
    with torch.no_grad():
        hf = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.float()

    diff = (hf - java).abs().max().item()
    same_argmax = bool((hf.argmax(-1) == java.argmax(-1)).all())
    print(f"{model_dir}: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters")
    print(f"max |logit difference| transformers vs Java over {ids.shape[1]} positions x {vocab}: {diff:.3g}")
    print(f"argmax identical at every position: {same_argmax}")
    ok = diff <= tolerance and same_argmax
    print("OK" if ok else f"FAIL (tolerance {tolerance})")
    return ok


if __name__ == "__main__":
    sys.exit(main())
