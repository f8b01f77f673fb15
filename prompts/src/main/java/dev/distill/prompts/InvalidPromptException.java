package dev.distill.prompts;

import java.nio.file.Path;

/**
 * A corpus record that cannot be used; the message is {@code "<file>:<line>: <reason>: <detail>"}, where line is
 * the 1-based line number (JSONL, text) or 1-based row number (Parquet), i.e. prompt_index + 1.
 */
public final class InvalidPromptException extends RuntimeException {
    private final String reason;

    /** The error for an invalid record of {@code file}. */
    public InvalidPromptException(Path file, PromptRecord record) {
        this(file, record.index(), record.invalidReason(), record.invalidDetail());
        if (record.valid()) {
            throw new IllegalArgumentException("record " + record.index() + " of " + file + " is valid");
        }
    }

    /**
     * The error for record {@code index} of {@code file}, e.g. for reason {@link SkipReport#TOO_LONG} found by the
     * generator.
     *
     * @param reason a reason key of {@link SkipReport}
     */
    public InvalidPromptException(Path file, long index, String reason, String detail) {
        super(location(file, index) + ": " + reason + ": " + detail);
        this.reason = reason;
    }

    /** {@code <file>:<index + 1>}: the line (JSONL, text) or row (Parquet) number of record {@code index}. */
    public static String location(Path file, long index) {
        return file + ":" + (index + 1);
    }

    /** The reason key. */
    public String reason() {
        return reason;
    }
}
