#!/usr/bin/env python3
"""Reference bytes for distill's GGUF writer and ggml quantisation, made with the Python `gguf` package.

Writes fixtures/gguf/:
  quant_input.f32       8192 float32 values (little-endian): normal rows at several scales, an all-zero
                        block, ties at +-max, values that round at exactly .5, huge and tiny magnitudes
  quant_<type>.bin      gguf.quants.quantize(input, type) for f16, q8_0, q4_0 (ggml's reference blocks)
  dequant_<type>.f32    gguf.quants.dequantize of those bytes
  writer.gguf           a small GGUF v3 file by gguf.GGUFWriter: metadata of every type distill writes
                        and one tensor of each type, from quant_input.f32 (see GgufWriterTest)

The build never runs this; rerun it only to remake the fixtures:  python3 tools/scripts/make_gguf_fixtures.py
"""
import pathlib

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "gguf"


def inputs() -> np.ndarray:
    rng = np.random.default_rng(19)
    parts = [
        rng.normal(0, 0.02, 2048),
        rng.normal(0, 1.0, 2048),
        rng.normal(0, 30.0, 1024),
        np.zeros(32),                                        # d = 0 block
        np.tile([1.0, -1.0], 16),                            # ties for the max magnitude
        np.arange(-16, 16) * (1.0 / 127) * 3.0,              # q8_0 values at exact halves
        np.linspace(-8, 7, 32) / 8.0,                        # q4_0 values at exact level boundaries
        rng.normal(0, 1e-6, 1024),                           # scales in the f16 subnormal range
        rng.normal(0, 1e4, 1024),                            # large scales
        rng.uniform(-1, 1, 8192 - 2048 - 2048 - 1024 - 4 * 32 - 1024 - 1024),
    ]
    return np.concatenate(parts).astype(np.float32)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    x = inputs()
    assert x.size == 8192
    x.astype("<f4").tofile(OUT / "quant_input.f32")
    for name, t in (("f16", T.F16), ("q8_0", T.Q8_0), ("q4_0", T.Q4_0)):
        q = quants.quantize(x.reshape(64, 128), t)
        q.tofile(OUT / f"quant_{name}.bin")
        quants.dequantize(q, t).astype("<f4").tofile(OUT / f"dequant_{name}.f32")

    w = gguf.GGUFWriter(OUT / "writer.gguf", arch="llama")   # writes general.architecture first
    w.add_string("general.name", "writer fixture")
    w.add_uint32("llama.block_count", 2)
    w.add_float32("llama.rope.freq_base", 500000.0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_array("tokenizer.ggml.tokens", ["a", "\u0120b", "<|im_end|>", "\u00e9"])
    w.add_key_value("tokenizer.ggml.token_type", [1, 1, 3, 4], gguf.GGUFValueType.ARRAY,
                    sub_type=gguf.GGUFValueType.INT32)
    w.add_tensor("norm.weight", x[:64].copy(), raw_dtype=T.F32)
    w.add_tensor("f16.weight", quants.quantize(x[:4096].reshape(32, 128), T.F16), raw_dtype=T.F16)
    w.add_tensor("q8.weight", quants.quantize(x[:4096].reshape(32, 128), T.Q8_0), raw_dtype=T.Q8_0)
    w.add_tensor("q4.weight", quants.quantize(x[4096:].reshape(64, 64), T.Q4_0), raw_dtype=T.Q4_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
