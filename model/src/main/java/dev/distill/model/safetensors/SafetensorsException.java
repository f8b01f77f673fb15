package dev.distill.model.safetensors;

/** A safetensors file or checkpoint that cannot be read as asked; the message names file and tensor. */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
