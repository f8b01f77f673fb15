package dev.distill.tokenizer;

/** A tokenizer directory that cannot be loaded or used; the message names the file and what is wrong. */
public final class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
