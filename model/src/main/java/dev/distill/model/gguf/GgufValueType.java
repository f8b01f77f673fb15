package dev.distill.model.gguf;

/** The value types of GGUF metadata ({@code enum gguf_type}). */
enum GgufValueType {
    UINT8,
    INT8,
    UINT16,
    INT16,
    UINT32,
    INT32,
    FLOAT32,
    BOOL,
    STRING,
    ARRAY,
    UINT64,
    INT64,
    FLOAT64;

    static GgufValueType ofId(int id, String where) {
        if (id < 0 || id >= values().length) {
            throw new GgufException(where + ": unknown metadata value type " + id);
        }
        return values()[id];
    }
}
