package dev.distill.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Shape/dtype checks and device-safe helpers shared by the losses; errors name the offending tensor. */
public final class LossInputs {
    private LossInputs() {}

    /** Returns the student logits as a [N, V] float32 array, promoting half precision without cutting autograd. */
    public static NDArray studentLogits(NDArray logits) {
        Shape s = logits.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("student_logits: expected shape [N, V], got " + s);
        }
        DataType t = logits.getDataType();
        if (t == DataType.FLOAT32) {
            return logits;
        }
        if (!t.isFloating()) {
            throw new IllegalArgumentException("student_logits: expected a floating-point tensor, got " + t);
        }
        return float32Differentiable(logits);
    }

    /**
     * {@code a} as float32 without cutting the autograd graph (half precision is promoted by adding a
     * float32 [1] zero; DJL's toType would detach).
     */
    public static NDArray float32Differentiable(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? a : a.add(zeros(a, new Shape(1)));
    }

    /** Checks ids are [N, cols] with N matching the logits, and returns them as int64 (what gather needs). */
    static NDArray ids(NDArray ids, String name, long rows, long vocab) {
        Shape s = ids.getShape();
        if (s.dimension() != 2 || s.get(0) != rows) {
            throw new IllegalArgumentException(name + ": expected shape [" + rows + ", k], got " + s);
        }
        if (s.get(1) < 1 || s.get(1) > vocab) {
            throw new IllegalArgumentException(
                    name + ": k must be in [1, " + vocab + "] (the vocabulary), got " + s.get(1));
        }
        return int64(ids, name);
    }

    /** Checks the per-position targets are [N] and returns them as int64. */
    static NDArray targets(NDArray targets, String name, long rows) {
        Shape s = targets.getShape();
        if (s.dimension() != 1 || s.get(0) != rows) {
            throw new IllegalArgumentException(name + ": expected shape [" + rows + "], got " + s);
        }
        return int64(targets, name);
    }

    /** Checks the teacher log-probs have the ids' shape and a floating type; returns them as float32. */
    static NDArray teacherLogprobs(NDArray logprobs, Shape idsShape) {
        if (!logprobs.getShape().equals(idsShape)) {
            throw new IllegalArgumentException(
                    "topk_logprobs: expected shape " + idsShape + " (like topk_ids), got " + logprobs.getShape());
        }
        return float32(logprobs, "topk_logprobs");
    }

    /** Checks the position weights are [N] and returns them as float32. */
    static NDArray weights(NDArray weights, long rows) {
        Shape s = weights.getShape();
        if (s.dimension() != 1 || s.get(0) != rows) {
            throw new IllegalArgumentException("weights: expected shape [" + rows + "], got " + s);
        }
        return float32(weights, "weights");
    }

    /** float32 zeros of the given shape on {@code like}'s device, even when its manager lives elsewhere. */
    static NDArray zeros(NDArray like, Shape shape) {
        NDManager manager = like.getManager();
        if (manager.getDevice().equals(like.getDevice())) {
            return manager.zeros(shape, DataType.FLOAT32); // shape as requested
        }
        try (NDArray host = manager.zeros(shape, DataType.FLOAT32)) { // shape as requested, manager's device
            return host.toDevice(like.getDevice(), true);
        }
    }

    private static NDArray int64(NDArray a, String name) {
        DataType t = a.getDataType();
        if (t == DataType.INT64) {
            return a;
        }
        if (t == DataType.INT32) {
            return a.toType(DataType.INT64, false);
        }
        throw new IllegalArgumentException(name + ": expected int32 or int64 token ids, got " + t);
    }

    private static NDArray float32(NDArray a, String name) {
        DataType t = a.getDataType();
        if (t == DataType.FLOAT32) {
            return a;
        }
        if (t.isFloating() || t == DataType.BOOLEAN || t.isInteger()) {
            return a.toType(DataType.FLOAT32, false); // inputs are data, not parameters: cutting the graph is fine
        }
        throw new IllegalArgumentException(name + ": expected a numeric tensor, got " + t);
    }
}
