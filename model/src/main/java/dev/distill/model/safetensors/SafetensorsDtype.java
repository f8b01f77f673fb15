package dev.distill.model.safetensors;

import ai.djl.ndarray.types.DataType;
import java.util.Optional;

/** The safetensors dtype names this project reads and writes, and their DJL counterparts. */
public enum SafetensorsDtype {
    F32(DataType.FLOAT32, 4),
    F16(DataType.FLOAT16, 2),
    /** Read only: widened to float32 on the host (DJL's PyTorch engine has no bfloat16). */
    BF16(null, 2),
    F64(DataType.FLOAT64, 8),
    I64(DataType.INT64, 8),
    I32(DataType.INT32, 4),
    I8(DataType.INT8, 1),
    U8(DataType.UINT8, 1),
    BOOL(DataType.BOOLEAN, 1);

    private final DataType djl;
    private final int bytes;

    SafetensorsDtype(DataType djl, int bytes) {
        this.djl = djl;
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for the floating-point dtypes that {@link SafetensorsFile#read} converts. */
    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The header name of this dtype, or empty if the name is not one we know. */
    public static Optional<SafetensorsDtype> fromName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** The dtype a DJL array of this type is written as. */
    public static SafetensorsDtype of(DataType type) {
        for (SafetensorsDtype d : values()) {
            if (d.djl == type) {
                return d;
            }
        }
        throw new IllegalArgumentException("no safetensors dtype for DJL " + type);
    }

    /** The DJL type of this dtype as stored (null for BF16, which DJL cannot hold). */
    DataType djl() {
        return djl;
    }
}
