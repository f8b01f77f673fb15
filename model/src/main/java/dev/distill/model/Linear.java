package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;

/**
 * A linear layer x @ w^T + b over a weight in [out, in] layout. Inference multiplies by a
 * transposed view of the weight made once (one libtorch call, where torch's linear issues a
 * transpose and a matmul every time: the same matmul, bit for bit); while gradients are recorded it
 * is torch's linear on the weight itself, so autograd reaches the parameter.
 */
final class Linear {
    private final NDArray weight;
    private final NDArray weightT;
    private final NDArray bias;

    /** w [out, in], b [out] or null. */
    Linear(NDArray w, NDArray b) {
        weight = w;
        bias = b;
        weightT = w.transpose(1, 0); // [in, out] view, lives as long as the weight's manager
        NDScope.unregister(weightT);
    }

    /** The weight as the [in, out] view inference multiplies by. */
    NDArray inferenceWeight() {
        return weightT;
    }

    /** b [out] or null */
    NDArray bias() {
        return bias;
    }

    /** x [.., in] -> [.., out] */
    NDArray apply(NDArray x) {
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
