package dev.distill.pipeline;

/**
 * A bad option value that shows only once the run's inputs are loaded (e.g. a --chat-template-kwargs key that is one
 * of the tokenizer's special tokens); the commands report it as a usage error (exit code 2).
 */
public final class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
