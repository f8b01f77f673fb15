#!/usr/bin/env python3
"""Reads a distill run directory with pyarrow (an independent Parquet implementation) and checks the shard format.

Usage: tools/scripts/check_shards_pyarrow.py RUN_DIR

Checks every committed shard listed in manifest.json: Arrow types of every column, ZSTD on every column chunk,
the distill.* footer metadata, the sha256 recorded in the manifest, row/token counts, and the per-row invariants
(array lengths, ids in [0, vocab), log-probabilities <= 0, top-k rows sorted descending with mass <= 1,
sample_id, prompt range and order, finish_reason). Prints a summary and exits 0, or prints the problems and exits 1.
Needs only pyarrow (and numpy, which pyarrow brings).
"""
import glob
import hashlib
import json
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

EPS = 1e-4
EXPECTED_TYPES = {
    "sample_id": pa.string(),
    "prompt_index": pa.int64(),
    "sample_index": pa.int32(),
    "prompt_ids": pa.int32(),
    "completion_ids": pa.int32(),
    "completion_logprobs": pa.float32(),
    "topk_ids": pa.int32(),
    "topk_logprobs": pa.float32(),
    "finish_reason": pa.string(),
}
LIST_COLUMNS = {"prompt_ids", "completion_ids", "completion_logprobs", "topk_ids", "topk_logprobs"}
META_KEYS = ["schema_version", "top_k", "vocab_size", "config_hash", "teacher", "teacher_sha256",
             "tokenizer_sha256", "chat_template_sha256", "corpus_sha256"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_types(name, schema, problems):
    for column, element in EXPECTED_TYPES.items():
        if column not in schema.names:
            problems.append(f"{name}: column {column} is missing")
            continue
        t = schema.field(column).type
        ok = (pa.types.is_list(t) and t.value_type == element) if column in LIST_COLUMNS else t == element
        if not ok:
            problems.append(f"{name}: column {column} has Arrow type {t}")


def check_shard(path, entry, manifest, problems):
    name = os.path.basename(path)
    pf = pq.ParquetFile(path)
    check_types(name, pf.schema_arrow, problems)
    meta = {k.decode(): v.decode() for k, v in (pf.metadata.metadata or {}).items()}
    for key in META_KEYS:
        if "distill." + key not in meta:
            problems.append(f"{name}: footer metadata distill.{key} is missing")
    if meta.get("distill.schema_version") != "1":
        problems.append(f"{name}: distill.schema_version is {meta.get('distill.schema_version')}")
    if meta.get("distill.config_hash") != manifest["config_hash"]:
        problems.append(f"{name}: distill.config_hash differs from the manifest")
    for g in range(pf.metadata.num_row_groups):
        rg = pf.metadata.row_group(g)
        for c in range(rg.num_columns):
            if rg.column(c).compression != "ZSTD":
                problems.append(f"{name}: row group {g} column {rg.column(c).path_in_schema} is {rg.column(c).compression}")
    if sha256(path) != entry["sha256"]:
        problems.append(f"{name}: sha256 differs from the manifest")
    k = int(meta["distill.top_k"])
    vocab = int(meta["distill.vocab_size"])
    start, end = entry["prompt_start"], entry["prompt_end"]
    rows = tokens = 0
    previous = (-1, -1)
    for batch in pf.iter_batches(batch_size=1024):
        for r in batch.to_pylist():
            where = f"{name} row {rows} ({r['sample_id']})"
            p, s = r["prompt_index"], r["sample_index"]
            n = len(r["completion_ids"])
            tokens += n
            if r["sample_id"] != f"{p}-{s}":
                problems.append(f"{where}: sample_id")
            if not (start <= p < end) or (p, s) <= previous:
                problems.append(f"{where}: prompt_index out of range or out of order")
            previous = (p, s)
            if len(r["completion_logprobs"]) != n or len(r["topk_ids"]) != n * k or len(r["topk_logprobs"]) != n * k:
                problems.append(f"{where}: array lengths")
                continue
            for column in ("prompt_ids", "completion_ids", "topk_ids"):
                a = np.asarray(r[column], dtype=np.int64)
                if a.size and (a.min() < 0 or a.max() >= vocab):
                    problems.append(f"{where}: {column} outside [0, {vocab})")
            lp = np.asarray(r["topk_logprobs"], dtype=np.float32).reshape(n, k)
            clp = np.asarray(r["completion_logprobs"], dtype=np.float32)
            if n and not (np.isfinite(lp).all() and np.isfinite(clp).all()):
                problems.append(f"{where}: a log-probability is not finite")
            elif n and (lp.max() > EPS or clp.max() > EPS):
                problems.append(f"{where}: a log-probability is > 0")
            if n and (np.diff(lp, axis=1) > 0).any():
                problems.append(f"{where}: top-k not sorted descending")
            if n and (np.exp(lp.astype(np.float64)).sum(axis=1) > 1 + EPS).any():
                problems.append(f"{where}: top-k mass > 1")
            if r["finish_reason"] not in ("stop", "length", "scored"):
                problems.append(f"{where}: finish_reason {r['finish_reason']}")
            rows += 1
    if rows != entry["rows"] or tokens != entry["completion_tokens"]:
        problems.append(f"{name}: {rows} rows / {tokens} tokens, manifest says {entry['rows']} / {entry['completion_tokens']}")
    return rows, tokens


def main(run_dir):
    with open(os.path.join(run_dir, "manifest.json")) as f:
        manifest = json.load(f)
    problems = []
    rows = tokens = 0
    complete = [s for s in manifest["shards"] if s["status"] == "complete"]
    for entry in complete:
        try:
            r, t = check_shard(os.path.join(run_dir, entry["file"]), entry, manifest, problems)
            rows += r
            tokens += t
        except Exception as e:  # a corrupt file is a finding, not a crash
            problems.append(f"{entry['file']}: pyarrow cannot read it: {e}")
    schema = None
    if not problems:
        # The whole run as one dataset, the way users read it.
        dataset = ds.dataset(sorted(glob.glob(os.path.join(run_dir, "part-*.parquet"))), format="parquet")
        schema = dataset.schema
        if dataset.count_rows() != rows:
            problems.append(f"dataset over part-*.parquet has {dataset.count_rows()} rows, shards have {rows}")
    for p in problems[:50]:
        print(p)
    if problems:
        print(f"pyarrow {pa.__version__}: {len(problems)} problems in {run_dir}")
        return 1
    print(f"pyarrow {pa.__version__}: OK: {len(complete)} of {len(manifest['shards'])} shards, {rows} rows, {tokens} completion tokens")
    for name, t in zip(schema.names, schema.types):
        print(f"  {name}: {t}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
