package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;
import java.util.Arrays;
import java.util.List;

/**
 * oneDNN's linear layer on a weight packed once for inference: {@code mkldnn::_reorder_linear_weight(w)} reorders a
 * [out, in] weight into oneDNN's blocked layout (an opaque mkldnn tensor, as large as the weight), and
 * {@code mkldnn::_linear_pointwise(x, packed, bias)} multiplies by it. On the AMD EPYC CPU of docs/model.md ("Packed
 * linear layers") it runs the bench model's projections about twice as fast as libtorch's linear (MKL sgemm) at 2 to
 * 2048 rows and somewhat faster at one row; results differ from the matmul by ~1e-6 relative. CPU and float32 only,
 * no autograd: {@link CausalLM#packForInference} decides where it applies. Two {@link TorchScriptModule}s (the
 * sources are what torch.jit.script(...).code prints for tools/scripts/packed_linear_source.py's modules, forward
 * renamed: the profiler names a call by its method).
 */
final class OneDnnLinear implements AutoCloseable {
    private static final String PACK_SOURCE =
            """
            class PackLinearWeight(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def pack_linear_weight(self: __torch__.PackLinearWeight,
                w: Tensor) -> Tensor:
                return ops.mkldnn._reorder_linear_weight(w)
            """;

    private static final String APPLY_SOURCE =
            """
            class PackedLinear(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def packed_linear(self: __torch__.PackedLinear,
                x: Tensor,
                packed: Tensor,
                bias: List[Tensor]) -> Tensor:
                if torch.gt(torch.len(bias), 0):
                  b : Optional[Tensor] = bias[0]
                else:
                  b = None
                _0 = ops.mkldnn._linear_pointwise(x, packed, b, "none", annotate(List[Optional[number]], []), "")
                return _0
            """;

    private final TorchScriptModule pack;
    private final TorchScriptModule apply;

    private OneDnnLinear(NDManager manager) {
        TorchScriptModule p = new TorchScriptModule("PackLinearWeight", "pack_linear_weight", PACK_SOURCE, manager);
        try {
            apply = new TorchScriptModule("PackedLinear", "packed_linear", APPLY_SOURCE, manager);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        pack = p;
    }

    /**
     * The ops loaded on {@code manager}'s device (the CPU) and tried on a small weight against a matmul; null, with
     * a one-line warning on stderr, where this libtorch lacks them or they fail (the caller keeps the matmul).
     */
    static OneDnnLinear load(NDManager manager) {
        OneDnnLinear ops = null;
        try (NDManager m = manager.newSubManager()) {
            ops = new OneDnnLinear(manager);
            // w[o][i] = (6o + i) / 8, x[r][i] = 6r + i, b[o] = o: every product and sum exact in float32
            float[] expected = new float[2 * 4]; // [2, 4]
            for (int r = 0; r < 2; r++) {
                for (int o = 0; o < 4; o++) {
                    float sum = o;
                    for (int i = 0; i < 6; i++) {
                        sum += (6 * r + i) * (6 * o + i) / 8f;
                    }
                    expected[r * 4 + o] = sum;
                }
            }
            NDArray w = m.arange(0f, 24f).reshape(4, 6).div(8f); // [out 4, in 6]
            NDArray x = m.arange(0f, 12f).reshape(2, 6); // [2, in 6]
            float[] y = ops.apply(x, ops.pack(w), m.arange(0f, 4f)).toFloatArray(); // [2, 4]
            if (!Arrays.equals(y, expected)) {
                throw new IllegalStateException("a packed [4, 6] linear gave " + Arrays.toString(y) + ", expected "
                        + Arrays.toString(expected));
            }
            return ops;
        } catch (RuntimeException e) {
            if (ops != null) {
                ops.close();
            }
            System.err.println("warning: oneDNN packed linear layers unavailable, using matmul ("
                    + (e.getMessage() == null
                            ? e.toString()
                            : e.getMessage().lines().findFirst().orElse(e.toString()))
                    + ")");
            return null;
        }
    }

    /** w [out, in] float32 -> the packed weight (opaque oneDNN layout), attached to w's manager. */
    NDArray pack(NDArray w) {
        if (w.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("oneDNN packs float32 weights, got " + w.getDataType());
        }
        return pack.forward(w.getManager(), IValue.from((PtNDArray) w)); // in inference mode, recorded or not
    }

    /** x [.., in], a weight from {@link #pack}, bias [out] or null -> x w^T + b [.., out], attached to x's manager */
    NDArray apply(NDArray x, NDArray packed, NDArray bias) {
        return apply.forward(
                x.getManager(),
                IValue.from((PtNDArray) x),
                IValue.from((PtNDArray) packed),
                TorchScriptModule.tensors(bias == null ? List.of() : List.of(bias)));
    }

    @Override
    public void close() {
        pack.close();
        apply.close();
    }
}
