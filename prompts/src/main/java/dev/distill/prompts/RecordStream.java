package dev.distill.prompts;

import java.io.Closeable;
import java.io.IOException;

/** The records of one corpus file in index order, for {@link PromptSource}. */
interface RecordStream extends Closeable {
    /** The next record, or null after the last. */
    PromptRecord next() throws IOException;

    /** Skips records until the next one has index {@code target} (or the end); returns the index of the next record. */
    long skipTo(long target) throws IOException;
}
