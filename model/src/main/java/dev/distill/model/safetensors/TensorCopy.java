package dev.distill.model.safetensors;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;

/**
 * Copies host memory into a range of a tensor's elements, on any device and with dtype conversion:
 * the buffer is wrapped as a zero-copy CPU tensor and libtorch copies it in with one index_put.
 */
public final class TensorCopy {
    private TensorCopy() {}

    /**
     * Copies {@code count} elements of {@code srcType} from {@code src} into the flattened elements
     * {@code [offset, offset + count)} of {@code dest}, converting to dest's dtype and device.
     *
     * @param dest a contiguous tensor (a freshly created one, or a contiguous view)
     * @param src a direct buffer in native byte order whose data starts at address 0 of the buffer
     *     (position 0); the buffer must stay reachable until this call returns
     */
    public static void copyInto(NDArray dest, long offset, ByteBuffer src, DataType srcType, long count) {
        if (!src.isDirect() || src.position() != 0) {
            throw new IllegalArgumentException("source must be a direct buffer at position 0");
        }
        if (offset < 0 || offset + count > dest.size()) {
            throw new IllegalArgumentException("elements [" + offset + ", " + (offset + count)
                    + ") do not fit a tensor of " + dest.size() + " elements");
        }
        src.limit(Math.toIntExact(count * srcType.getNumOfBytes()));
        try (NDManager scratch = dest.getManager().newSubManager(Device.cpu());
                NDArray flat = dest.reshape(-1)) { // [N] view of dest
            NDArray view = scratch.create(src, new Shape(count), srcType); // [count], aliases src
            JniUtils.indexSet(
                    (PtNDArray) flat, (PtNDArray) view, new long[] {offset}, new long[] {offset + count}, new long[] {1
                    });
        }
    }
}
