#!/usr/bin/env python3
"""Reads distill shards with pyarrow (an independent Parquet implementation) and checks the shard format.

Usage: tools/scripts/check_shards_pyarrow.py RUN_DIR | SHARD.parquet ...

Checks every committed shard listed in RUN_DIR/manifest.json, of format version 1 or 2 (plain or compact, any
--logits kind); a shard of another version is reported naming the file. Per shard: Arrow types of every column of its
version and encoding, ZSTD on every column chunk, the footer metadata keys of its version (version 2: distill.logits,
distill.encoding, a well-formed distill.fidelity, distill.logprob_step > 0 when compact), the manifest's config_hash,
the same footer as the other shards, the sha256, row and token counts recorded in the manifest. Per row: sample_id,
prompt range and (prompt_index, sample_index) order, finish_reason, array lengths, ids in [0, vocab_size), finite
log-probabilities <= 0 (+1e-4), and per completion position: label_sizes in [1, top_k] (exactly K for top-k:K), ids
distinct, mass <= 1 (+1e-4), the stored order (top kinds descending in plain shards, sample ascending by id, compact
ascending by id with a code 0 at each position), top-p minimal (the entries before the last hold less than P, and
fewer than KMAX entries hold at least P; in compact shards within the quantisation step), and sample counts >= 1
summing to N. The optional span columns (--store-spans) are checked for coverage of completion_text.

Version-2 label entries are decoded with the docs' snippet, imported from decode_shards_pyarrow.py beside this file.
Given .parquet files instead of a run directory, checks those shards alone (no manifest: no sha256, counts or
prompt range). Prints a summary and exits 0, or prints the problems (file, row, sample, field, position) and exits 1.
Needs only pyarrow (and numpy, which pyarrow brings).
"""
import glob
import hashlib
import json
import math
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_shards_pyarrow import labels  # noqa: E402  (the docs' v2 decode snippet)

EPS = 1e-4
VERSIONS = ("1", "2")
LIST_INT, LIST_FLOAT = pa.list_(pa.int32()), pa.list_(pa.float32())
COMMON_TYPES = {
    "sample_id": pa.string(),
    "prompt_index": pa.int64(),
    "sample_index": pa.int32(),
    "prompt_ids": LIST_INT,
    "completion_ids": LIST_INT,
    "completion_logprobs": LIST_FLOAT,
    "finish_reason": pa.string(),
}
PLAIN_LABELS = {"topk_ids": LIST_INT, "topk_logprobs": LIST_FLOAT}
V2_LABELS = {"label_sizes": LIST_INT, "label_counts": LIST_INT}
COMPACT_LABELS = {"label_id_deltas": LIST_INT, "label_logprob_codes": LIST_INT, "label_logprob_max": LIST_FLOAT}
SPAN_TYPES = {"prompt_text": pa.string(), "completion_text": pa.binary(), "completion_byte_ends": LIST_INT}
META_V1 = ["schema_version", "top_k", "vocab_size", "config_hash", "teacher", "teacher_sha256",
           "tokenizer_sha256", "chat_template_sha256", "corpus_sha256"]
META_V2 = ["schema_version", "top_k", "vocab_size", "config_hash", "teacher", "teacher_fingerprint",
           "tokenizer_sha256", "chat_template_sha256", "corpus_sha256", "logits", "encoding", "fidelity"]


class ShardError(Exception):
    """A problem that stops the checking of one shard (its rows cannot be read meaningfully)."""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_logits(spec):
    """(kind, size, mass or None) of a canonical --logits spelling: top-k:K, top-p:P:KMAX, sample:N:T."""
    parts = spec.split(":")
    try:
        if parts[0] == "top-k" and len(parts) == 2:
            return "top-k", int(parts[1]), None
        if parts[0] == "top-p" and len(parts) in (2, 3):
            mass = float(parts[1])
            if 0 < mass <= 1:
                return "top-p", int(parts[2]) if len(parts) == 3 else 64, mass
        if parts[0] == "sample" and len(parts) in (2, 3) and (len(parts) == 2 or float(parts[2]) > 0):
            return "sample", int(parts[1]), None
    except ValueError:
        pass
    raise ShardError(f"distill.logits is not a --logits spelling (top-k:K, top-p:P:KMAX, sample:N:T): '{spec}'")


def check_fidelity(value):
    """Problems of the distill.fidelity footer value: {positions, covered_mass, entropy, kl}."""
    try:
        o = json.loads(value)
    except ValueError as e:
        return f"distill.fidelity is not JSON: {e}"
    if (not isinstance(o, dict) or not isinstance(o.get("positions"), int) or not isinstance(o.get("covered_mass"), dict)
            or not all(k in o and (o[k] is None or isinstance(o[k], dict)) for k in ("entropy", "kl"))):
        return "distill.fidelity is not a fidelity object {positions, covered_mass, entropy, kl}"
    return None


def read_footer(name, pf, manifest):
    """The shard's footer metadata as a dict, after checking its keys; raises ShardError for an unreadable version."""
    meta = {k.decode(): v.decode() for k, v in (pf.metadata.metadata or {}).items()}
    version = meta.get("distill.schema_version")
    if not version:
        raise ShardError(f"{name}: footer metadata distill.schema_version is missing")
    if version not in VERSIONS:
        raise ShardError(f"{name}: distill.schema_version is {version}; this checker reads shard format versions 1 and 2")
    for key in META_V1 if version == "1" else META_V2:
        if not meta.get("distill." + key):
            raise ShardError(f"{name}: footer metadata distill.{key} is missing")
    for key in ("top_k", "vocab_size"):
        if not meta["distill." + key].isdigit() or int(meta["distill." + key]) < 1:
            raise ShardError(f"{name}: footer metadata distill.{key} is not an integer >= 1: '{meta['distill.' + key]}'")
    if version == "2":
        if meta["distill.encoding"] not in ("plain", "compact"):
            raise ShardError(f"{name}: distill.encoding is '{meta['distill.encoding']}', not plain or compact")
        kind, size, _ = parse_logits(meta["distill.logits"])
        if kind == "top-k" and size != int(meta["distill.top_k"]):
            raise ShardError(f"{name}: distill.logits {meta['distill.logits']} disagrees with distill.top_k {meta['distill.top_k']}")
        if meta["distill.encoding"] == "compact":
            try:
                step = float(meta.get("distill.logprob_step", ""))
            except ValueError:
                step = float("nan")
            if not (step > 0 and math.isfinite(step)):
                raise ShardError(f"{name}: footer metadata distill.logprob_step is missing or not a positive number: "
                                 f"'{meta.get('distill.logprob_step')}'")
        problem = check_fidelity(meta["distill.fidelity"])
        if problem:
            raise ShardError(f"{name}: {problem}")
    if manifest is not None and meta["distill.config_hash"] != manifest["config_hash"]:
        raise ShardError(f"{name}: distill.config_hash differs from the manifest's")
    return meta


def expected_types(meta, schema):
    types = dict(COMMON_TYPES)
    if meta.get("distill.encoding") == "compact":
        types.update(V2_LABELS)
        types.update(COMPACT_LABELS)
    else:
        types.update(PLAIN_LABELS)
        if meta["distill.schema_version"] == "2":
            types.update(V2_LABELS)
    if any(c in schema.names for c in SPAN_TYPES):
        types.update(SPAN_TYPES)
    return types


def same_type(actual, expected):
    """Equal types; lists by element type (the element's field name and nullability are the writer's business)."""
    if pa.types.is_list(expected):
        return pa.types.is_list(actual) and actual.value_type == expected.value_type
    return actual == expected


def check_types(name, meta, schema):
    problems = []
    for column, t in expected_types(meta, schema).items():
        if column not in schema.names:
            problems.append(f"{name}: column {column} is missing")
        elif not same_type(schema.field(column).type, t):
            problems.append(f"{name}: column {column} has Arrow type {schema.field(column).type}, expected {t}")
    if meta["distill.schema_version"] == "1" and any(c in schema.names for c in V2_LABELS):
        problems.append(f"{name}: a version-1 shard holds no label_sizes or label_counts")
    return problems


def check_v1_labels(r, n, k, vocab):
    """The first problem of a version-1 row's fixed-width top-k labels, or None."""
    for column in ("topk_ids", "topk_logprobs"):
        if len(r[column]) != n * k:
            return f"{column} has {len(r[column])} values, expected {n} positions × top_k {k} = {n * k}"
    ids = np.asarray(r["topk_ids"], np.int64).reshape(n, k)
    lp = np.asarray(r["topk_logprobs"], np.float32).reshape(n, k)
    return check_positions(list(zip(ids, lp.astype(np.float64), [None] * n)), ("top-k", k, None), vocab, "descending")


def check_v2_structure(r, n, meta, kind, size):
    """The first structural problem of a version-2 row (sizes, array lengths, counts), or None."""
    top_k = int(meta["distill.top_k"])
    sizes = r["label_sizes"]
    if len(sizes) != n:
        return f"label_sizes has {len(sizes)} values, completion_ids has {n}"
    for t, s in enumerate(sizes):
        if not 1 <= s <= top_k:
            return f"label_sizes[{t}] = {s} is not in [1, top_k {top_k}]"
        if kind == "top-k" and s != top_k:
            return f"label_sizes[{t}] = {s}, but {meta['distill.logits']} stores {top_k} entries per position"
    total = sum(sizes)
    compact = meta["distill.encoding"] == "compact"
    for column in ("label_id_deltas", "label_logprob_codes") if compact else ("topk_ids", "topk_logprobs"):
        if len(r[column]) != total:
            return f"{column} has {len(r[column])} values, expected sum(label_sizes) = {total}"
    if compact and len(r["label_logprob_max"]) != n:
        return f"label_logprob_max has {len(r['label_logprob_max'])} values, completion_ids has {n}"
    counts = r["label_counts"]
    if len(counts) != (total if kind == "sample" else 0):
        return f"label_counts has {len(counts)} values, expected {total if kind == 'sample' else 0} for {meta['distill.logits']}"
    if compact:
        at = 0
        for t, s in enumerate(sizes):
            codes = r["label_logprob_codes"][at:at + s]
            if min(codes) != 0:
                return f"label_logprob_codes: position {t} has no code 0 (its most likely entry), min {min(codes)}"
            deltas = r["label_id_deltas"][at + 1:at + s]
            if deltas and min(deltas) < 1:
                return f"label_id_deltas: position {t} has a delta {min(deltas)} < 1 (ids not strictly ascending)"
            at += s
    return None


def check_positions(positions, spec, vocab, order, step=None):
    """The first problem among a row's positions [(ids, logprobs, counts or None)], or None.

    order: "descending" (plain top kinds), "ascending" (plain sample; compact shards decode in id order).
    step: the compact quantisation step (mass and top-p minimality are then checked within the step's error bound).
    """
    kind, size, mass_p = spec
    # plain: the stored columns; compact: the decoded entries (label_id_deltas, label_logprob_codes and _max)
    ids_name, lp_name = ("decoded id", "decoded log-prob") if step else ("topk_ids", "topk_logprobs")
    at = 0
    for t, (ids, lp, counts) in enumerate(positions):
        ids = np.asarray(ids, np.int64)
        lp = np.asarray(lp, np.float64)
        bad = np.flatnonzero((ids < 0) | (ids >= vocab))
        if bad.size:
            j = int(bad[0])
            return f"{ids_name}[{at + j}] (position {t}, rank {j}) = {ids[j]} is not in [0, vocab_size {vocab})"
        bad = np.flatnonzero(~(np.isfinite(lp) & (lp <= EPS)))
        if bad.size:
            j = int(bad[0])
            return f"{lp_name}[{at + j}] (position {t}, rank {j}) = {lp[j]} is not a finite log-probability (<= 0)"
        if order == "descending" and (np.diff(lp) > 0).any():
            j = int(np.argmax(np.diff(lp) > 0))
            return f"{lp_name}: position {t} is not sorted descending ({lp[j]} then {lp[j + 1]})"
        if order == "ascending" and (np.diff(ids) <= 0).any():
            j = int(np.argmax(np.diff(ids) <= 0))
            return f"{ids_name}: position {t} is not strictly ascending ({ids[j]} then {ids[j + 1]})"
        if len(np.unique(ids)) != len(ids):
            return f"{ids_name}: position {t} holds an id twice"
        p = np.exp(lp)
        # compact: each decoded p is within a factor exp(step / 2) of the written one (whose mass is <= 1)
        slack = math.exp(step / 2) if step else 1.0
        if p.sum() > slack * (1 + EPS):
            bound = f" (x exp(step / 2) = {slack:.4f} for step {step})" if step else ""
            return f"{lp_name}: position {t} has probability mass {p.sum()} > 1{bound}"
        if kind == "top-p":
            # compact: only sure violations count (the bound above)
            before = np.sort(p)[::-1][:-1].sum()
            if len(p) > 1 and before / slack >= mass_p:
                return f"top-p: position {t} is not minimal: its first {len(p) - 1} entries already hold {before} >= {mass_p}"
            if len(p) < size and len(p) < vocab and p.sum() * slack < mass_p - EPS:
                return f"top-p: position {t} holds {len(p)} < KMAX {size} entries with mass {p.sum()} < {mass_p}"
        if kind == "sample":
            counts = np.asarray(counts, np.int64)
            if counts.min() < 1:
                return f"label_counts: position {t} has a count {counts.min()} < 1"
            if counts.sum() != size:
                return f"label_counts: position {t} sums to {counts.sum()} draws, expected {size}"
        at += len(ids)
    return None


def check_spans(r, n):
    ends, text = r.get("completion_byte_ends"), r.get("completion_text")
    if ends is None or text is None:
        return "a span column is null"
    if len(ends) != n:
        return f"completion_byte_ends has {len(ends)} values, completion_ids has {n}"
    if any(b < a for a, b in zip([0] + ends, ends)) or (ends and ends[-1] != len(text)) or (not ends and text):
        return f"completion_byte_ends do not cover completion_text ({len(text)} bytes) exactly"
    return None


def check_shard(path, entry, manifest, problems, footers):
    """Checks one shard; appends problems; returns (rows, completion tokens)."""
    name = os.path.basename(path)
    pf = pq.ParquetFile(path)
    meta = read_footer(name, pf, manifest)
    footers[name] = {k: v for k, v in meta.items() if k.startswith("distill.") and k != "distill.fidelity"}
    type_problems = check_types(name, meta, pf.schema_arrow)
    problems.extend(type_problems)
    for g in range(pf.metadata.num_row_groups):
        rg = pf.metadata.row_group(g)
        for c in range(rg.num_columns):
            if rg.column(c).compression != "ZSTD":
                problems.append(f"{name}: row group {g} column {rg.column(c).path_in_schema} is {rg.column(c).compression}")
    if entry is not None and sha256(path) != entry["sha256"]:
        problems.append(f"{name}: sha256 is {sha256(path)}, manifest.json says {entry['sha256']}")
    if type_problems:
        return 0, 0
    version, k, vocab = meta["distill.schema_version"], int(meta["distill.top_k"]), int(meta["distill.vocab_size"])
    v2 = version == "2"
    spec = parse_logits(meta["distill.logits"]) if v2 else ("top-k", k, None)
    compact = meta.get("distill.encoding") == "compact"
    step = float(meta["distill.logprob_step"]) if compact else None
    order = "ascending" if compact or spec[0] == "sample" else "descending"
    start, end = (entry["prompt_start"], entry["prompt_end"]) if entry is not None else (None, None)
    decoded = labels(path) if v2 else None
    rows = tokens = 0
    previous = (-1, -1)
    spans = "completion_byte_ends" in pf.schema_arrow.names
    for r in pf.read().to_pylist():
        positions = next(decoded) if v2 else None
        where = f"{name} row {rows} (sample {r['sample_id']})"
        p, s = r["prompt_index"], r["sample_index"]
        n = len(r["completion_ids"])
        rows += 1
        tokens += n
        found = []
        if r["sample_id"] != f"{p}-{s}":
            found.append(f'sample_id is not "<prompt_index>-<sample_index>" = "{p}-{s}"')
        if s < 0:
            found.append(f"sample_index {s} is negative")
        if start is not None and not start <= p < end:
            found.append(f"prompt_index {p} is outside the shard's prompts [{start}, {end})")
        if (p, s) <= previous:
            found.append(f"rows are not ordered by (prompt_index, sample_index): follows {previous[0]}-{previous[1]}")
        previous = (p, s)
        if r["finish_reason"] not in ("stop", "length", "scored"):
            found.append(f'finish_reason "{r["finish_reason"]}" is not one of stop, length, scored')
        for column in ("prompt_ids", "completion_ids"):
            a = np.asarray(r[column], np.int64)
            if a.size and (a.min() < 0 or a.max() >= vocab):
                found.append(f"{column} has an id outside [0, vocab_size {vocab})")
        clp = np.asarray(r["completion_logprobs"], np.float64)
        if len(clp) != n:
            found.append(f"completion_logprobs has {len(clp)} values, completion_ids has {n}")
        elif n and not (np.isfinite(clp).all() and clp.max() <= EPS):
            found.append("completion_logprobs holds a value that is not a finite log-probability (<= 0)")
        if v2:
            label = check_v2_structure(r, n, meta, spec[0], spec[1])
            if label is None and n:
                label = check_positions(positions, spec, vocab, order, step)
        else:
            label = check_v1_labels(r, n, k, vocab) if n or r["topk_ids"] or r["topk_logprobs"] else None
        if label:
            found.append(label)
        if spans and check_spans(r, n):
            found.append(check_spans(r, n))
        problems.extend(f"{where}: {f}" for f in found)
    if entry is not None and (rows != entry["rows"] or tokens != entry["completion_tokens"]):
        problems.append(f"{name}: {rows} rows / {tokens} completion tokens, the manifest says "
                        f"{entry['rows']} / {entry['completion_tokens']}")
    return rows, tokens


def main(args):
    if len(args) == 1 and os.path.isdir(args[0]):
        run_dir = args[0]
        with open(os.path.join(run_dir, "manifest.json")) as f:
            manifest = json.load(f)
        jobs = [(os.path.join(run_dir, e["file"]), e) for e in manifest["shards"] if e["status"] == "complete"]
        planned = len(manifest["shards"])
    else:
        run_dir, manifest, jobs, planned = None, None, [(a, None) for a in args], len(args)
    problems = []
    footers = {}
    rows = tokens = 0
    for path, entry in jobs:
        try:
            r, t = check_shard(path, entry, manifest, problems, footers)
            rows += r
            tokens += t
        except ShardError as e:
            problems.append(str(e))
        except Exception as e:  # a corrupt file is a finding, not a crash
            problems.append(f"{os.path.basename(path)}: pyarrow cannot read it: {e}")
    if run_dir is not None and footers:
        first_name, first = next(iter(footers.items()))
        for name, footer in footers.items():
            if footer != first:
                keys = sorted(k for k in footer.keys() | first.keys() if footer.get(k) != first.get(k))
                problems.append(f"{name}: footer metadata differs from {first_name}'s: {', '.join(keys)}")
    schema = None
    if not problems and run_dir is not None:
        # The whole run as one dataset, the way users read it.
        dataset = ds.dataset(sorted(glob.glob(os.path.join(run_dir, "part-*.parquet"))), format="parquet")
        schema = dataset.schema
        if dataset.count_rows() != rows:
            problems.append(f"dataset over part-*.parquet has {dataset.count_rows()} rows, shards have {rows}")
    for p in problems[:50]:
        print(p)
    where = run_dir or " ".join(args)
    if problems:
        print(f"pyarrow {pa.__version__}: {len(problems)} problems in {where}")
        return 1
    kinds = sorted({f"v{f['distill.schema_version']} {f.get('distill.logits', 'top-k:' + f['distill.top_k'])} "
                    f"{f.get('distill.encoding', 'plain')}" for f in footers.values()})
    print(f"pyarrow {pa.__version__}: OK: {len(jobs)} of {planned} shards ({', '.join(kinds)}), {rows} rows, "
          f"{tokens} completion tokens")
    if schema is not None:
        for name, t in zip(schema.names, schema.types):
            print(f"  {name}: {t}")
    return 0


if __name__ == "__main__":
    if not sys.argv[1:]:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
