package dev.distill.model.gguf;

/** A GGUF file that cannot be written or read as asked; the message names the file, key or tensor. */
public final class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
