package dev.distill.model.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;

/**
 * The ggml tensor types distill writes and reads, with quantisation bit-exact with ggml's reference
 * functions ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref} in ggml-quants.c, as the
 * Python {@code gguf.quants} module reproduces them). A block covers {@link #blockSize} consecutive
 * elements of a row and takes {@link #blockBytes} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 weights: fp16 scale d = max/-8 (max: the value of largest magnitude), 4-bit q, x = d * (q - 8). */
    Q4_0(2, 32, 18),
    /** 32 weights: fp16 scale d = amax/127, int8 q, x = d * q. */
    Q8_0(8, 32, 34);

    /** The type's id in a GGUF tensor info ({@code enum ggml_type}). */
    public final int id;

    public final int blockSize;
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public static GgmlType ofId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        throw new IllegalArgumentException("ggml type " + id + " is not supported (supported: "
                + Arrays.toString(values()).toLowerCase(Locale.ROOT) + ")");
    }

    /** Bytes taken by {@code n} elements ({@code n} a multiple of the block size). */
    public long bytes(long n) {
        return n / blockSize * blockBytes;
    }

    /** Encodes {@code n} elements of {@code src} from {@code from} into {@code out} (little-endian). */
    public void quantize(float[] src, int from, int n, ByteBuffer out) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(n + " elements are not a multiple of the block size " + blockSize);
        }
        out.order(ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(src[from + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out.putShort(Half.fromFloat(src[from + i]));
                }
            }
            case Q8_0 -> {
                for (int b = from; b < from + n; b += 32) {
                    quantizeQ8Block(src, b, out);
                }
            }
            case Q4_0 -> {
                for (int b = from; b < from + n; b += 32) {
                    quantizeQ4Block(src, b, out);
                }
            }
        }
    }

    /** Decodes {@code n} elements from {@code in} (little-endian) into {@code dst} from {@code from}. */
    public void dequantize(ByteBuffer in, float[] dst, int from, int n) {
        in.order(ByteOrder.LITTLE_ENDIAN);
        switch (this) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst[from + i] = in.getFloat();
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[from + i] = Half.toFloat(in.getShort());
                }
            }
            case Q8_0 -> {
                for (int b = from; b < from + n; b += 32) {
                    float d = Half.toFloat(in.getShort());
                    for (int j = 0; j < 32; j++) {
                        dst[b + j] = in.get() * d;
                    }
                }
            }
            case Q4_0 -> {
                for (int b = from; b < from + n; b += 32) {
                    float d = Half.toFloat(in.getShort());
                    for (int j = 0; j < 16; j++) {
                        int q = in.get() & 0xff;
                        dst[b + j] = ((q & 0x0f) - 8) * d;
                        dst[b + j + 16] = ((q >>> 4) - 8) * d;
                    }
                }
            }
        }
    }

    private static void quantizeQ8Block(float[] x, int b, ByteBuffer out) {
        float amax = 0f;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[b + j]));
        }
        float d = amax / 127f;
        float id = d != 0f ? 1f / d : 0f;
        out.putShort(Half.fromFloat(d));
        for (int j = 0; j < 32; j++) {
            out.put((byte) roundHalfAway(x[b + j] * id));
        }
    }

    private static void quantizeQ4Block(float[] x, int b, ByteBuffer out) {
        float amax = 0f;
        float max = 0f;
        for (int j = 0; j < 32; j++) {
            float v = x[b + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8f;
        float id = d != 0f ? 1f / d : 0f;
        out.putShort(Half.fromFloat(d));
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(15, (int) (x[b + j] * id + 8.5f));
            int q1 = Math.min(15, (int) (x[b + j + 16] * id + 8.5f));
            out.put((byte) (q0 | (q1 << 4)));
        }
    }

    /** C's roundf: to nearest, halves away from zero (exact in float arithmetic). */
    private static float roundHalfAway(float v) {
        float a = Math.abs(v);
        float floored = (float) Math.floor(a);
        float r = floored + (float) Math.floor(2f * (a - floored));
        return Math.copySign(r, v);
    }
}
