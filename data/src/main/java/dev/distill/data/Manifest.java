package dev.distill.data;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** A run directory's manifest.json: the run configuration, its hash, and the state of every planned shard. */
@JsonPropertyOrder({"schema_version", "config", "config_hash", "prompts_total", "shards"})
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("config") ObjectNode config,
        @JsonProperty("config_hash") String configHash,
        @JsonProperty("prompts_total") long promptsTotal,
        @JsonProperty("shards") List<Shard> shards) {

    /** The manifest's own format version (shards carry theirs in their footers; version-2 shards add "fidelity"). */
    public static final int SCHEMA_VERSION = 1;

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectWriter PRETTY = MAPPER.writer(new DefaultPrettyPrinter()
            .withArrayIndenter(new DefaultIndenter("  ", "\n"))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)));

    /** One planned shard: its prompt range and, once committed, what it holds (and, in version 2, its {@link Fidelity}). */
    @JsonPropertyOrder({
        "index",
        "file",
        "prompt_start",
        "prompt_end",
        "rows",
        "completion_tokens",
        "sha256",
        "status",
        "fidelity"
    })
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Shard(
            @JsonProperty("index") int index,
            @JsonProperty("file") String file,
            @JsonProperty("prompt_start") long promptStart,
            @JsonProperty("prompt_end") long promptEnd,
            @JsonProperty("rows") Long rows,
            @JsonProperty("completion_tokens") Long completionTokens,
            @JsonProperty("sha256") String sha256,
            @JsonProperty("status") String status,
            @JsonProperty("fidelity") ObjectNode fidelity) {
        public static final String COMPLETE = "complete";

        /** An entry without a fidelity summary (pending shards, version-1 shards). */
        public Shard(
                int index,
                String file,
                long promptStart,
                long promptEnd,
                Long rows,
                Long completionTokens,
                String sha256,
                String status) {
            this(index, file, promptStart, promptEnd, rows, completionTokens, sha256, status, null);
        }

        public static final String PENDING = "pending";

        /** Whether the shard is committed. */
        @JsonIgnore
        public boolean committed() {
            return COMPLETE.equals(status);
        }
    }

    /** {@code node} in the manifest's style: two-space indented JSON ({@code "key": value}). */
    public static String pretty(com.fasterxml.jackson.databind.JsonNode node) {
        try {
            return PRETTY.writeValueAsString(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The manifest as written: two-space indented JSON, one trailing newline. */
    public byte[] toJson() {
        try {
            return (PRETTY.writeValueAsString(this) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads a manifest.
     *
     * @throws IOException naming the file when it cannot be read or is not a manifest
     */
    public static Manifest read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            Manifest m = MAPPER.readValue(in, Manifest.class);
            if (m.config() == null || m.configHash() == null || m.shards() == null) {
                throw new IOException(file + " is not a distill manifest: config, config_hash or shards is missing");
            }
            return m;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + " is not valid manifest JSON: " + e.getOriginalMessage(), e);
        }
    }
}
