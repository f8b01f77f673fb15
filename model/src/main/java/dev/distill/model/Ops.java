package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.function.Supplier;

/**
 * The libtorch calls DJL's NDArray API does not expose as one op (linear with the weight in
 * [out, in] layout, embedding lookup, softmax with an output dtype, row selection, differentiable casts);
 * and the autograd controls other modules need (a parameter's accumulated gradient, zeroing it, grad
 * mode per thread), so DJL's engine internals stay in this module. Each result is attached to the
 * first argument's manager.
 */
public final class Ops {
    private Ops() {}

    /** x @ w^T + b. x [.., in], w [out, in], b [out] or null -> [.., out] */
    static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return JniUtils.linear((PtNDArray) x, (PtNDArray) w, (PtNDArray) b);
    }

    /** Rows of {@code table} [V, H] for int64 {@code ids} [..] -> [.., H] */
    static NDArray embedding(NDArray ids, NDArray table) {
        return JniUtils.embedding((PtNDArray) ids, (PtNDArray) table, false);
    }

    /** float32 softmax over {@code axis} (the input is upcast first, as torch.softmax(dtype=float32)). */
    static NDArray softmaxFloat(NDArray x, int axis) {
        return JniUtils.softmax((PtNDArray) x, axis, DataType.FLOAT32);
    }

    /** Rows of x along dim 0: x [N, ..], int64 rows [M..] -> [M.., ..] */
    static NDArray selectRows(NDArray x, NDArray rows) {
        return JniUtils.indexAdv((PtNDArray) x, new NDIndex("{}", rows), (PtNDManager) x.getManager());
    }

    /**
     * {@code x} as {@code type}. DJL's toType detaches from the autograd graph, so while gradients
     * are recorded (a GradientCollector is open: fp16 training) the cast goes through
     * torch.cumprod(dtype=) over a size-1 axis, an exact identity that converts its input and is
     * differentiable. Otherwise (inference) it is a plain toType.
     */
    static NDArray cast(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        if (!JniUtils.isGradMode()) {
            return x.toType(type, false);
        }
        return JniUtils.cumProd((PtNDArray) x.expandDims(-1), -1, type).squeeze(-1);
    }

    /**
     * {@code value} as a 0-d float32 array on {@code like}'s manager, in memory libtorch allocates and
     * owns. Use it instead of a Java number as the operand of mul, div, maximum or minimum in code that
     * autograd records: DJL makes a number operand a tensor over a Java direct buffer and closes it
     * right after the op, but autograd keeps that tensor for the backward pass, and once the garbage
     * collector frees the buffer the backward pass reads whatever lies there (non-finite gradients in
     * a few runs out of ten). Same value and dtype as the number operand, so results are unchanged.
     */
    public static NDArray scalar(NDArray like, float value) {
        return like.getManager().full(new Shape(), value, DataType.FLOAT32);
    }

    /**
     * The gradient accumulated on {@code param}, or null when it takes none or no backward pass has
     * reached it yet (DJL's own getGradient() would invent an unrelated zeros array). The result is a
     * new handle on the same storage (in-place ops change the gradient), attached to the parameter's
     * manager.
     */
    public static NDArray gradient(NDArray param) {
        return param.hasGradient() ? JniUtils.getGradient(pt(param)) : null;
    }

    /** Sets {@code param}'s accumulated gradient to exactly 0 in place, without autograd (clears inf and NaN too). */
    public static void zeroGradient(NDArray param) {
        if (param.hasGradient()) {
            JniUtils.zeroGrad(pt(param));
        }
    }

    /** Turns gradient recording on or off for the calling thread (libtorch's grad mode is per thread). */
    public static void setGradMode(boolean enabled) {
        JniUtils.setGradMode(enabled);
    }

    /** Whether the calling thread records gradients. */
    public static boolean isGradMode() {
        return JniUtils.isGradMode();
    }

    /**
     * Runs {@code work} with gradient recording off on the calling thread, as it was after: for inference that must
     * not record whichever thread calls it (libtorch's grad mode is per thread and on by default, so a thread the JVM
     * started elsewhere, a Spark task's, would record every forward: slow, and refused by a model packed for
     * inference).
     */
    public static <T> T withoutGradients(Supplier<T> work) {
        boolean recording = isGradMode();
        setGradMode(false);
        try {
            return work.get();
        } finally {
            setGradMode(recording);
        }
    }

    private static PtNDArray pt(NDArray a) {
        if (!(a instanceof PtNDArray)) {
            throw new IllegalArgumentException("parameter " + a.getName() + ": needs a PyTorch-engine array, got "
                    + a.getClass().getName());
        }
        return (PtNDArray) a;
    }
}
