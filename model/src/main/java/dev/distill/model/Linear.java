package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A linear layer x @ w^T + b over a weight in [out, in] layout. Inference multiplies by a
 * transposed view of the weight made once (one libtorch call, where torch's linear issues a
 * transpose and a matmul every time: the same matmul, bit for bit), or once {@link #pack}ed, by oneDNN's linear on
 * the packed weight; while gradients are recorded it is torch's linear on the weight itself, so autograd reaches the
 * parameter.
 */
final class Linear {
    private NDArray weight; // null once packed with the weight released
    private NDArray weightT; // null once packed
    private NDArray packed; // oneDNN's copy of the weight, or null
    private OneDnnLinear oneDnn;
    private final NDArray bias;

    /** w [out, in], b [out] or null. */
    Linear(NDArray w, NDArray b) {
        weight = w;
        bias = b;
        weightT = w.transpose(1, 0); // [in, out] view, lives as long as the weight's manager
        NDScope.unregister(weightT);
    }

    /**
     * Packs the weight for {@code ops} (an inference-only layer from now on). {@code release}: the weight is closed
     * once its packed copy exists (its memory freed unless something else holds it, as the tied embedding table
     * does; then the caller passes false).
     */
    void pack(OneDnnLinear ops, boolean release) {
        NDArray p = ops.pack(weight);
        NDScope.unregister(p);
        packed = p;
        oneDnn = ops;
        weightT.close();
        weightT = null;
        if (release) {
            weight.close();
            weight = null;
        }
    }

    /** The weight as inference multiplies by it: the [in, out] view, or once packed, the packed weight. */
    NDArray inferenceWeight() {
        return packed != null ? packed : weightT;
    }

    /** b [out] or null */
    NDArray bias() {
        return bias;
    }

    /** x [.., in] -> [.., out] */
    NDArray apply(NDArray x) {
        if (packed != null) {
            if (JniUtils.isGradMode()) {
                throw new IllegalStateException(CausalLM.PACKED_GRAD_MODE);
            }
            return oneDnn.apply(x, packed, bias);
        }
        if (JniUtils.isGradMode()) {
            return Ops.linear(x, weight, bias);
        }
        NDArray y = x.matMul(weightT);
        return bias == null ? y : y.addi(bias);
    }

    /**
     * The outputs at given output rows only: x [N, in], int64 rows [N, k] -> [N, k], equal to
     * apply(x).gather(rows, 1) without the [N, out] product: the weight's rows at the ids, [N, k, in], times
     * each x (a batched matrix-vector product; autograd's backward is a scatter-add into the weight's rows).
     */
    NDArray applyAt(NDArray x, NDArray rows) {
        NDArray w = Ops.embedding(rows, weight); // [N, k, in]
        NDArray y = w.matMul(x.expandDims(2)).squeeze(2); // [N, k]
        return bias == null ? y : y.add(Ops.embedding(rows, bias.expandDims(1)).squeeze(2));
    }
}
