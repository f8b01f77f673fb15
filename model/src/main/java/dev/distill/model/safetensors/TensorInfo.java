package dev.distill.model.safetensors;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header: dtype name as written ("F32", "BF16", ...), shape, and
 * its byte range relative to the start of the data section.
 */
public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {

    /** Number of elements (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Shape as "[a, b]", the form used in error messages. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape)
                && begin == t.begin
                && end == t.end;
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString() + " @" + begin + ".." + end;
    }
}
