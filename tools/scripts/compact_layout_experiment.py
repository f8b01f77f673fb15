#!/usr/bin/env python3
"""Where a shard's bytes go, and what other compact layouts would cost: a measurement, not part of any build.

    python3 tools/scripts/compact_layout_experiment.py RUN_DIR [RUN_DIR ...]
    python3 tools/scripts/compact_layout_experiment.py --columns RUN_DIR [RUN_DIR ...]   (as written only, any encoding)
    python3 tools/scripts/compact_layout_experiment.py --kl PLAIN_RUN COMPACT_RUN   (same rows, both encodings)

Each RUN_DIR is a `distill generate --encoding plain` run (any --logits). For each, prints the bytes per completion
token of every Parquet column as written (column-chunk sizes from the footer), then re-encodes the same label entries
with pyarrow in candidate layouts (quantisation step, Parquet encodings, dictionary, ZSTD level, id remapping) and
prints each layout's label bytes per completion token, beside the information-theoretic lower bound of the ids
(log2 C(V, d) bits for the d distinct ids of a position out of V) and, for each step, the worst position's
KL(plain || quantised) of the trainer's reconstruction (entries renormalised; and over the full vocabulary with the
uncovered mass spread uniformly, as --tail bucket does).
"""
import glob, io, json, math, sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def column_bytes(path):
    md = pq.ParquetFile(path).metadata
    out = {}
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        for i in range(rg.num_columns):
            c = rg.column(i)
            name = c.path_in_schema.split(".")[0]
            out[name] = out.get(name, 0) + c.total_compressed_size
    return out


def ilist(values, dtype=pa.int32()):
    return pa.array(values, pa.list_(pa.field("element", dtype, nullable=False)))


def write(columns, dictionary=(), encodings=None, bss=(), level=3, page="1.0"):
    fields = [pa.field(n, a.type, nullable=False) for n, a in columns.items()]
    table = pa.Table.from_arrays(list(columns.values()), schema=pa.schema(fields))
    buf = io.BytesIO()
    path = lambda n: n + ".list.element"  # pyarrow names a list's values by their full path
    pq.write_table(table, buf, compression="zstd", compression_level=level,
                   use_dictionary=[path(n) for n in dictionary],
                   column_encoding={path(n): e for n, e in (encodings or {}).items()} or None,
                   use_byte_stream_split=[path(n) for n in bss], data_page_version=page,
                   write_statistics=False)
    buf.seek(0)
    return column_bytes(buf)


def lgamma_comb(n, k):
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)


def main(run):
    files = sorted(glob.glob(run + "/part-*.parquet"))
    meta = {k.decode(): v.decode() for k, v in pq.ParquetFile(files[0]).metadata.metadata.items()}
    vocab = int(meta["distill.vocab_size"])
    spec = meta["distill.logits"]
    tokens = 0
    total = {}
    for f in files:
        for k, v in column_bytes(f).items():
            total[k] = total.get(k, 0) + v
    table = pq.read_table(files, columns=["completion_ids", "label_sizes", "topk_ids", "topk_logprobs",
                                          "label_counts"]) if len(files) == 1 else pa.concat_tables(
        [pq.read_table(f, columns=["completion_ids", "label_sizes", "topk_ids", "topk_logprobs", "label_counts"])
         for f in files])
    rows = table.to_pylist()
    tokens = sum(len(r["completion_ids"]) for r in rows)
    print(f"\n## {run}: {spec}, vocabulary {vocab}, {len(rows)} rows, {tokens} completion tokens")
    print("as written (plain), bytes per completion token by column:")
    for k, v in sorted(total.items(), key=lambda kv: -kv[1]):
        print(f"  {k:24s} {v / tokens:8.2f}")
    print(f"  {'(file total)':24s} {sum(__import__('os').path.getsize(f) for f in files) / tokens:8.2f}")

    # per position: ids ascending, logprobs, counts
    positions = []
    for r in rows:
        cut = np.cumsum(r["label_sizes"])[:-1]
        ids = np.split(np.array(r["topk_ids"], np.int64), cut)
        lps = np.split(np.array(r["topk_logprobs"], np.float32), cut)
        counts = np.split(np.array(r["label_counts"], np.int64), cut) if r["label_counts"] else [None] * len(ids)
        row = []
        for i, l, c in zip(ids, lps, counts):
            o = np.argsort(i, kind="stable")
            row.append((i[o], l[o], None if c is None else c[o]))
        positions.append(row)
    flat = [p for row in positions for p in row]
    bound = sum(lgamma_comb(vocab, len(p[0])) for p in flat) / 8 / tokens
    print(f"ids lower bound (log2 C(V, d) per position): {bound:.2f} B/token; mean distinct ids "
          f"{np.mean([len(p[0]) for p in flat]):.1f}")
    if flat[0][2] is not None:  # counts: a composition of N draws into d parts, log2 C(N - 1, d - 1) bits
        n = int(flat[0][2].sum())
        cb = sum(lgamma_comb(n - 1, len(p[0]) - 1) for p in flat) / 8 / tokens
        print(f"counts lower bound (log2 C(N - 1, d - 1) per position): {cb:.2f} B/token")

    # reconstruction error of a quantisation step: worst position
    def worst_kl(step):
        worst_renorm = worst_tail = 0.0
        for ids, lp, _ in flat:
            m = lp.max()
            q = (m - np.round((m.astype(np.float64) - lp) / step) * step).astype(np.float32)
            p64, q64 = np.exp(lp.astype(np.float64)), np.exp(q.astype(np.float64))
            a, b = p64 / p64.sum(), q64 / q64.sum()
            worst_renorm = max(worst_renorm, float(np.sum(a * np.log(a / b))))
            # --tail bucket: the entries as stored plus one bucket of clamp(1 - sum, 1e-6, 1), as TailMode builds it
            a = np.append(p64, min(max(1 - p64.sum(), 1e-6), 1.0))
            b = np.append(q64, min(max(1 - q64.sum(), 1e-6), 1.0))
            a, b = a / a.sum(), b / b.sum()
            worst_tail = max(worst_tail, float(np.sum(a * np.log(a / b))))
        return worst_renorm, worst_tail

    def columns(step, remap=None, max_code=None, counts_minus_one=False):
        deltas, codes, maxima, sizes, counts = [], [], [], [], []
        for row in positions:
            d, c, mx, s, n = [], [], [], [], []
            for ids, lp, cnt in row:
                if remap is not None:
                    ids = np.sort(remap[ids])
                m = lp.max()
                d.extend(np.diff(ids, prepend=0).tolist())
                c.extend(np.round((m.astype(np.float64) - lp) / step).astype(np.int64).tolist())
                mx.append(float(m) if max_code is None else int(round(-float(m) / max_code)))
                s.append(len(ids))
                if cnt is not None:
                    n.extend((cnt - 1 if counts_minus_one else cnt).tolist())
            deltas.append(d), codes.append(c), maxima.append(mx), sizes.append(s), counts.append(n)
        return {"label_sizes": ilist(sizes), "label_id_deltas": ilist(deltas), "label_logprob_codes": ilist(codes),
                "label_logprob_max": ilist(maxima, pa.float32() if max_code is None else pa.int32()),
                "label_counts": ilist(counts)}

    ints = ["label_sizes", "label_id_deltas", "label_logprob_codes", "label_counts"]

    def show(name, sizes, extra=0):
        labels = sum(sizes.values()) + extra
        parts = " ".join(f"{k.replace('label_', '')}={v / tokens:.2f}" for k, v in sizes.items())
        print(f"  {name:44s} {labels / tokens:7.2f}   {parts}")

    print("label columns re-encoded (pyarrow, ZSTD), bytes per completion token:")
    base = columns(1 / 64)
    show("as now: step 1/64, PLAIN ints, BSS max, lvl 3", write(base, bss=["label_logprob_max"]))
    for step in (1 / 32, 1 / 16, 1 / 12, 1 / 8):
        show(f"step 1/{round(1 / step)}", write(columns(step), bss=["label_logprob_max"]))
    c16 = columns(1 / 16)
    show("step 1/16, dictionary on ints", write(c16, dictionary=ints, bss=["label_logprob_max"]))
    show("step 1/16, dictionary codes+counts", write(c16, dictionary=["label_logprob_codes", "label_counts"],
                                                     bss=["label_logprob_max"]))
    show("step 1/16, DELTA_BINARY_PACKED ints",
         write(c16, encodings={k: "DELTA_BINARY_PACKED" for k in ints}, bss=["label_logprob_max"]))
    show("step 1/16, page v2", write(c16, bss=["label_logprob_max"], page="2.0"))
    for level in (1, 9, 19):
        show(f"step 1/16, ZSTD level {level}", write(c16, bss=["label_logprob_max"], level=level))
    dc = ["label_logprob_codes", "label_counts", "label_sizes"]
    for level in (3, 9, 19):
        show(f"step 1/16, dict codes+counts+sizes, lvl {level}",
             write(c16, dictionary=dc, bss=["label_logprob_max"], level=level))
    show("step 1/16, DBP codes, lvl 9", write(c16, encodings={"label_logprob_codes": "DELTA_BINARY_PACKED"},
                                              bss=["label_logprob_max"], level=9))
    show("step 1/16, dict codes.., max int code DBP, lvl 9",
         write(columns(1 / 16, max_code=1 / 1024), dictionary=dc,
               encodings={"label_logprob_max": "DELTA_BINARY_PACKED"}, level=9))
    show("step 1/16, max as int code (1/1024 nat)",
         write(columns(1 / 16, max_code=1 / 1024), bss=[]))
    show("step 1/16, max as int code, DBP",
         write(columns(1 / 16, max_code=1 / 1024), encodings={"label_logprob_max": "DELTA_BINARY_PACKED"}))
    show("step 1/16, max float no BSS", write(c16))
    if any(p[2] is not None for p in flat):
        show("step 1/16, counts - 1", write(columns(1 / 16, counts_minus_one=True), bss=["label_logprob_max"]))
    # ids remapped by frequency within the shard (rank 0 = most frequent); the map costs the ids it lists
    freq = np.bincount(np.concatenate([p[0] for p in flat]), minlength=vocab)
    order = np.argsort(-freq, kind="stable")
    remap = np.empty(vocab, np.int64)
    remap[order] = np.arange(vocab)
    used = int((freq > 0).sum())
    table_bytes = write({"m": ilist([order[:used].tolist()])})["m"]
    show(f"step 1/16, ids by frequency (+{table_bytes / tokens:.2f} map)",
         write(columns(1 / 16, remap=remap), bss=["label_logprob_max"]), extra=table_bytes)
    print("worst position KL(plain || quantised), nats (entries renormalised; full vocabulary with tail bucket):")
    for step in (1 / 64, 1 / 32, 1 / 16, 1 / 12, 1 / 8):
        r, t = worst_kl(step)
        print(f"  step 1/{round(1 / step):<3d} {r:.2e}  {t:.2e}")


def columns_only(run):
    files = sorted(glob.glob(run + "/part-*.parquet"))
    tokens = sum(pq.ParquetFile(f).read(columns=["completion_ids"]).column(0).combine_chunks().flatten().__len__()
                 for f in files)
    total = {}
    for f in files:
        for k, v in column_bytes(f).items():
            total[k] = total.get(k, 0) + v
    size = sum(__import__("os").path.getsize(f) for f in files)
    labels = sum(v for k, v in total.items() if k.startswith(("label_", "topk_")))
    print(f"{run}: {tokens} completion tokens, file {size / tokens:.2f} B/token, label columns {labels / tokens:.2f}, "
          f"other columns {(sum(total.values()) - labels) / tokens:.2f}, footer {(size - sum(total.values())) / tokens:.2f}")
    print("   " + "  ".join(f"{k}={v / tokens:.2f}" for k, v in sorted(total.items(), key=lambda kv: -kv[1])))


def kl_between(plain_run, compact_run):
    """Worst and mean position KL(plain || compact) of the trainer's reconstructions, decoding both runs' files with
    the decode snippet of docs/shard-format.md (tools/scripts/decode_shards_pyarrow.py)."""
    sys.path.insert(0, __import__("os").path.dirname(__file__))
    from decode_shards_pyarrow import labels
    renorm, bucket = [], []
    for fp, fc in zip(sorted(glob.glob(plain_run + "/part-*.parquet")), sorted(glob.glob(compact_run + "/part-*.parquet"))):
        for rp, rc in zip(labels(fp), labels(fc)):
            for (ip, lp, _), (ic, lc, _) in zip(rp, rc):
                o = np.argsort(ip)
                assert np.array_equal(ip[o], ic)
                p, q = np.exp(np.asarray(lp, np.float64)[o]), np.exp(np.asarray(lc, np.float64))
                a, b = p / p.sum(), q / q.sum()
                renorm.append(float(np.sum(a * np.log(a / b))))
                a = np.append(p, min(max(1 - p.sum(), 1e-6), 1.0))
                b = np.append(q, min(max(1 - q.sum(), 1e-6), 1.0))
                a, b = a / a.sum(), b / b.sum()
                bucket.append(float(np.sum(a * np.log(a / b))))
    print(f"{compact_run}: {len(renorm)} positions; KL(plain || compact) renormalised: max {max(renorm):.2e} mean "
          f"{np.mean(renorm):.2e}; with the tail bucket: max {max(bucket):.2e} mean {np.mean(bucket):.2e}")


if __name__ == "__main__":
    if sys.argv[1] == "--kl":
        kl_between(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--columns":
        for run in sys.argv[2:]:
            columns_only(run)
    else:
        for run in sys.argv[1:]:
            main(run)
