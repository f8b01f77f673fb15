package dev.distill.model;

/** A model directory, config or checkpoint that cannot be used; the message names file and field or tensor. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
