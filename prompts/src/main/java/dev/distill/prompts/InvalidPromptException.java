package dev.distill.prompts;

/** A corpus record that cannot be used; the message is {@code "<file>:<line>: <reason>: <detail>"}. */
public final class InvalidPromptException extends RuntimeException {
    private final String reason;

    /**
     * @param location {@code <file>:<line>} (1-based line) for JSONL and text, {@code <file>:row <index>} for Parquet
     * @param reason a reason key of {@link SkipReport}
     */
    public InvalidPromptException(String location, String reason, String detail) {
        super(location + ": " + reason + ": " + detail);
        this.reason = reason;
    }

    /** The reason key. */
    public String reason() {
        return reason;
    }
}
