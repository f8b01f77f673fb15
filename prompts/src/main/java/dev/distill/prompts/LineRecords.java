package dev.distill.prompts;

import java.io.IOException;

/** Records of a line-based corpus (JSONL or text, possibly gzip-compressed): record {@code i} is line {@code i + 1}. */
final class LineRecords implements RecordStream {
    /** Parses one decoded line into a record. */
    interface LineParser {
        PromptRecord parse(long index, String line);
    }

    private final LineReader lines;
    private final LineParser parser;
    private long next;

    LineRecords(LineReader lines, LineParser parser) {
        this.lines = lines;
        this.parser = parser;
    }

    @Override
    public PromptRecord next() throws IOException {
        if (!lines.next()) {
            return null;
        }
        long index = next++;
        try {
            return parser.parse(index, Utf8.decode(lines.bytes(), 0, lines.length()));
        } catch (Utf8.InvalidUtf8 e) {
            return PromptRecord.invalid(index, SkipReport.INVALID_UTF8, e.getMessage());
        }
    }

    @Override
    public long skipTo(long target) throws IOException {
        while (next < target && lines.skip()) {
            next++;
        }
        return next;
    }

    @Override
    public void close() throws IOException {
        lines.close();
    }
}
