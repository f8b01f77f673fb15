package dev.distill.trainer.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code OUT/metrics.jsonl}: one JSON object per line, one per optimizer step and one per evaluation
 * ({@code "eval": true}), each with its {@code step}. Lines are flushed as they are written.
 */
public final class MetricsLog implements AutoCloseable {
    public static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter writer;

    private MetricsLog(Path file, BufferedWriter writer) {
        this.file = file;
        this.writer = writer;
    }

    /**
     * Opens {@code out/metrics.jsonl} for appending, first dropping the lines of steps after
     * {@code keepThroughStep} (written by a run that died before its next checkpoint; -1 drops all).
     */
    public static MetricsLog open(Path out, long keepThroughStep) {
        Path file = out.resolve(FILE);
        try {
            Files.createDirectories(out);
            List<String> kept = new ArrayList<>();
            for (JsonNode line : read(file, true)) {
                if (line.path("step").asLong() <= keepThroughStep) {
                    kept.add(JSON.writeValueAsString(line));
                }
            }
            Files.write(file, kept, StandardCharsets.UTF_8);
            return new MetricsLog(
                    file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Appends one line. */
    public void write(ObjectNode line) {
        try {
            writer.write(JSON.writeValueAsString(line));
            writer.write('\n');
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The lines of a metrics file (none when it does not exist); errors name the file and line. */
    public static List<JsonNode> read(Path file) {
        return read(file, false);
    }

    /** @param dropTornLastLine ignore a last line cut short by a killed process instead of failing */
    private static List<JsonNode> read(Path file, boolean dropTornLastLine) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                try {
                    out.add(JSON.readTree(lines.get(i)));
                } catch (IOException e) {
                    if (dropTornLastLine && i == lines.size() - 1) {
                        break;
                    }
                    throw new IllegalArgumentException(file + ":" + (i + 1) + ": not a JSON line: " + e.getMessage());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot close: " + e.getMessage(), e);
        }
    }
}
