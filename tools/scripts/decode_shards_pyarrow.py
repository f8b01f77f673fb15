#!/usr/bin/env python3
"""Decodes the label entries of version-2 shards (plain or compact) with pyarrow, as docs/shard-format.md shows.

Usage: tools/scripts/decode_shards_pyarrow.py SHARD.parquet OUT.json

Writes every row's positions as {"ids", "logprobs", "counts"} lists to OUT.json. The decode function below is the
snippet of docs/shard-format.md, verbatim (ShardDecodeSnippetTest checks both); the committed
fixtures/shards/*.pyarrow.json files are this script's output for the committed fixture shards, and the Java reader
must decode those shards to the same numbers. Needs only pyarrow (and numpy, which pyarrow brings).
"""
import json
import sys

# --- decode snippet (docs/shard-format.md) ---
import numpy as np, pyarrow.parquet as pq

def labels(path):
    """Per row: a list of positions (ids, logprobs, counts or None); plain and compact v2 shards."""
    f = pq.ParquetFile(path)
    meta = {k.decode(): v.decode() for k, v in f.metadata.metadata.items()}
    compact = meta["distill.encoding"] == "compact"
    for row in f.read().to_pylist():
        cut = np.cumsum(row["label_sizes"])[:-1]
        if compact:
            step = float(meta["distill.logprob_step"])
            ids = [np.cumsum(d) for d in np.split(np.array(row["label_id_deltas"], np.int64), cut)]
            codes = np.split(np.array(row["label_logprob_codes"], np.float64), cut)
            logprobs = [m - c * step for m, c in zip(row["label_logprob_max"], codes)]
        else:
            ids = np.split(np.array(row["topk_ids"]), cut)
            logprobs = np.split(np.array(row["topk_logprobs"], np.float64), cut)
        counts = np.split(np.array(row["label_counts"]), cut) if row["label_counts"] else [None] * len(ids)
        yield list(zip(ids, logprobs, counts))
# --- end of snippet ---


def main():
    shard, out = sys.argv[1], sys.argv[2]
    rows = []
    for positions in labels(shard):
        rows.append([{"ids": [int(i) for i in ids], "logprobs": [float(x) for x in lp],
                      "counts": None if c is None else [int(x) for x in c]} for ids, lp, c in positions])
    with open(out, "w") as f:
        json.dump({"shard": shard.split("/")[-1], "rows": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
