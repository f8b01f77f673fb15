package dev.distill.prompts;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

/**
 * Streams the records of a prompt corpus with constant memory: JSONL (one {@code {"prompt"}}, {@code {"messages"}}
 * or {@code {"text"}} object per line), plain text (one prompt per line) or Parquet. JSONL and text may be
 * gzip-compressed (detected from the content). Invalid records are returned with {@link PromptRecord#invalidReason()}
 * set, keeping every index stable; {@link #invalid(PromptRecord)} turns one into an error naming file and line.
 */
public final class PromptSource implements AutoCloseable, Iterator<PromptRecord> {
    private final Path file;
    private final RecordStream records;
    private PromptRecord lookahead;
    private long position;
    private boolean done;

    private PromptSource(Path file, RecordStream records) {
        this.file = file;
        this.records = records;
    }

    /**
     * Opens a corpus; the format comes from {@code options.format()} or else the file name ({@code .jsonl},
     * {@code .json}, {@code .ndjson}, {@code .txt}, each optionally {@code .gz}, or {@code .parquet}).
     *
     * @throws IllegalArgumentException naming the file when it is missing or its format unknown
     */
    public static PromptSource open(Path file, PromptSourceOptions options) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("prompt corpus " + file + " does not exist");
        }
        String format = options.format() != null ? options.format().toLowerCase(Locale.ROOT) : formatOf(file);
        return new PromptSource(
                file,
                switch (format) {
                    case "jsonl" -> new LineRecords(lines(file), new JsonLines(options));
                    case "txt" -> new LineRecords(
                            lines(file),
                            (index, line) -> line.isBlank()
                                    ? PromptRecord.invalid(index, SkipReport.EMPTY_PROMPT, "blank line")
                                    : options.requireResponse()
                                            ? PromptRecord.invalid(
                                                    index,
                                                    SkipReport.MISSING_RESPONSE,
                                                    "a text corpus has no responses")
                                            : new PromptRecord(index, PromptKind.PROMPT, line, null, null, null, null));
                    case "parquet" -> ParquetPromptRecords.open(file, options);
                    default -> throw new IllegalArgumentException("unknown corpus format \"" + options.format()
                            + "\" for " + file + ": expected jsonl, txt or parquet");
                });
    }

    private static String formatOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String base = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
        if (base.endsWith(".jsonl") || base.endsWith(".json") || base.endsWith(".ndjson")) {
            return "jsonl";
        }
        if (base.endsWith(".txt")) {
            return "txt";
        }
        if (name.endsWith(".parquet")) {
            return "parquet";
        }
        throw new IllegalArgumentException(
                "cannot tell the format of prompt corpus " + file
                        + " from its name: expected .jsonl, .json, .ndjson or .txt (optionally .gz) or .parquet, or give the format (jsonl, txt, parquet)");
    }

    private static LineReader lines(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
        in.reset();
        return new LineReader(gzip ? new GZIPInputStream(in, 1 << 16) : in);
    }

    /** The corpus file. */
    public Path file() {
        return file;
    }

    @Override
    public boolean hasNext() {
        if (lookahead == null && !done) {
            try {
                lookahead = records.next();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": " + e.getMessage(), e);
            }
            done = lookahead == null;
        }
        return lookahead != null;
    }

    /** The next record, valid or not. Read errors surface as UncheckedIOException naming the file. */
    @Override
    public PromptRecord next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        PromptRecord r = lookahead;
        lookahead = null;
        position = r.index() + 1;
        return r;
    }

    /**
     * Fast-forwards so that the next record has index {@code index} (resume, or a worker's first shard), without
     * parsing the skipped lines (Parquet: without reading skipped row groups).
     *
     * @return the index of the next record: {@code index}, or the number of records when the corpus is shorter
     */
    public long skipTo(long index) {
        if (index < position) {
            throw new IllegalArgumentException(
                    "cannot skip back to record " + index + ": the next record is " + position);
        }
        if (lookahead != null && lookahead.index() == index) {
            return index;
        }
        lookahead = null;
        try {
            position = records.skipTo(index);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        done = position < index;
        return position;
    }

    /** Where record {@code index} is: {@code <file>:<line>} (1-based line, or 1-based row for Parquet). */
    public String location(long index) {
        return InvalidPromptException.location(file, index);
    }

    /** The error for an invalid record: {@code "<file>:<line>: <reason>: <detail>"}. */
    public InvalidPromptException invalid(PromptRecord record) {
        return new InvalidPromptException(file, record);
    }

    @Override
    public void close() throws IOException {
        records.close();
    }
}
