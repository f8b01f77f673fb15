package dev.distill.trainer.data;

import dev.distill.data.SoftLabelRow;
import dev.distill.prompts.Corpus;
import dev.distill.prompts.InvalidPromptException;
import dev.distill.prompts.PromptEncoder;
import dev.distill.prompts.PromptRecord;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.PromptSourceOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A prompt/response corpus read as training rows, for an online teacher (which makes the targets): each
 * record ({@code {"prompt", "response"}}, {@code {"messages": [...]}} ending with the assistant's answer,
 * or {@code {"text", "response"}}) becomes a row of prompt ids and completion ids, templated and tokenized
 * exactly as {@code distill generate --mode score} does ({@link PromptEncoder}). Rows carry no soft labels.
 * Invalid records stop the run naming {@code file:line}.
 */
public final class CorpusFile {
    private static final PromptSourceOptions OPTIONS = new PromptSourceOptions(null, "prompt", "response", true);
    private static final int[] NO_IDS = new int[0];
    private static final float[] NO_VALUES = new float[0];

    private final Path file;
    private final PromptEncoder encoder;

    /** @param encoder a score-mode encoder with the student's tokenizer and chat template */
    public CorpusFile(Path file, PromptEncoder encoder) {
        this.file = file;
        this.encoder = encoder;
    }

    public Path file() {
        return file;
    }

    /** Records in the file (every line counts, as prompt_index does). */
    public long count() {
        try {
            return Corpus.count(file, OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The rows in file order; close the returned reader. */
    public Rows open() {
        try {
            return new Rows(PromptSource.open(file, OPTIONS));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** A streaming reader of the corpus as rows. */
    public final class Rows implements Iterator<SoftLabelRow>, AutoCloseable {
        private final PromptSource source;

        private Rows(PromptSource source) {
            this.source = source;
        }

        @Override
        public boolean hasNext() {
            return source.hasNext();
        }

        @Override
        public SoftLabelRow next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            PromptRecord r = source.next();
            if (!r.valid()) {
                throw source.invalid(r);
            }
            PromptEncoder.Encoded e = encoder.encode(r);
            if (e.skipReason() != null) {
                throw new InvalidPromptException(file, r.index(), e.skipReason(), e.detail());
            }
            return SoftLabelRow.of(
                    r.index(),
                    0,
                    e.promptIds(),
                    e.responseIds(),
                    new float[e.responseIds().length],
                    NO_IDS,
                    NO_VALUES,
                    SoftLabelRow.SCORED);
        }

        @Override
        public void close() {
            try {
                source.close();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": " + e.getMessage(), e);
            }
        }
    }
}
