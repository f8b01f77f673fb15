package dev.distill.model.safetensors;

import dev.distill.model.ModelFormatException;

/** A safetensors file that cannot be read as asked; the message names the file and tensor. */
public class SafetensorsException extends ModelFormatException {
    public SafetensorsException(String message) {
        super(message);
    }

    public SafetensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
