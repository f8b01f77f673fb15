package dev.distill.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code teacher_vocab.json}, written beside the shards of a {@code --store-spans} run: the bytes every teacher token id
 * stands for, so that a student with another tokenizer can compare vocabularies and rebuild text from ids without the
 * teacher's tokenizer. One file per run (about 1-2 MB for a 150k vocabulary) instead of strings in every row.
 *
 * @param tokenizerSha256 the teacher tokenizer's hash, as in every shard's {@code distill.tokenizer_sha256}
 * @param tokenBytes the bytes of token id i at index i (empty for unused ids)
 * @param specialIds special added tokens (control symbols such as end-of-turn; they span no completion bytes)
 * @param stopIds the ids that ended the teacher's generation (finish_reason "stop")
 */
public record TeacherVocab(String tokenizerSha256, byte[][] tokenBytes, int[] specialIds, int[] stopIds) {
    /** The file name in the run directory. */
    public static final String FILE = "teacher_vocab.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    public TeacherVocab {
        specialIds = specialIds.clone();
        java.util.Arrays.sort(specialIds);
    }

    /** The file's bytes: {"format": 1, "tokenizer_sha256", "special_ids", "stop_ids", "token_bytes_base64": [...]}. */
    public byte[] toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", 1);
        o.put("tokenizer_sha256", tokenizerSha256);
        ArrayNode special = o.putArray("special_ids");
        for (int id : specialIds) {
            special.add(id);
        }
        ArrayNode stop = o.putArray("stop_ids");
        for (int id : stopIds) {
            stop.add(id);
        }
        ArrayNode tokens = o.putArray("token_bytes_base64");
        Base64.Encoder b64 = Base64.getEncoder();
        for (byte[] b : tokenBytes) {
            tokens.add(b64.encodeToString(b));
        }
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise " + FILE, e);
        }
    }

    /** Writes the file into the run directory (atomically; an identical file is left as is). */
    public void write(RunDirectory run) throws IOException {
        Path target = new Path(run.path(), FILE);
        byte[] bytes = toJson();
        FileSystem fs = run.fileSystem();
        if (fs.exists(target) && java.util.Arrays.equals(readBytes(fs, target), bytes)) {
            return;
        }
        AtomicFiles.replace(fs, target, bytes, new Path(run.path(), RunDirectory.TMP_DIR));
    }

    /** Whether the run directory has the file. */
    public static boolean exists(RunDirectory run) throws IOException {
        return run.fileSystem().exists(new Path(run.path(), FILE));
    }

    /**
     * Reads the file of a run directory.
     *
     * @throws IllegalArgumentException naming the file when it is missing or malformed
     */
    public static TeacherVocab read(RunDirectory run) throws IOException {
        Path file = new Path(run.path(), FILE);
        String where = run.location() + "/" + FILE;
        if (!run.fileSystem().exists(file)) {
            throw new IllegalArgumentException(where + " is missing: the run was not generated with --store-spans");
        }
        JsonNode o;
        try {
            o = JSON.readTree(readBytes(run.fileSystem(), file));
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": not valid JSON: " + e.getMessage(), e);
        }
        if (o.path("format").asInt(-1) != 1
                || !o.path("tokenizer_sha256").isTextual()
                || !o.path("token_bytes_base64").isArray()) {
            throw new IllegalArgumentException(
                    where + ": expected {\"format\": 1, \"tokenizer_sha256\", \"token_bytes_base64\": [...]}");
        }
        JsonNode tokens = o.get("token_bytes_base64");
        byte[][] bytes = new byte[tokens.size()][];
        Base64.Decoder b64 = Base64.getDecoder();
        for (int i = 0; i < bytes.length; i++) {
            try {
                bytes[i] = b64.decode(tokens.get(i).asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": token_bytes_base64[" + i + "] is not base64", e);
            }
        }
        return new TeacherVocab(
                o.get("tokenizer_sha256").asText(), bytes, ints(o.path("special_ids")), ints(o.path("stop_ids")));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static byte[] readBytes(FileSystem fs, Path file) throws IOException {
        try (FSDataInputStream in = fs.open(file)) {
            return ((InputStream) in).readAllBytes();
        }
    }

    /** The bytes of token {@code id} (empty outside the vocabulary). */
    public byte[] bytes(int id) {
        return id >= 0 && id < tokenBytes.length ? tokenBytes[id] : new byte[0];
    }

    /** Whether {@code id} is one of the teacher's stop tokens. */
    public boolean isStop(int id) {
        return java.util.Arrays.stream(stopIds).anyMatch(s -> s == id);
    }

    /** Whether {@code id} is a special token. */
    public boolean isSpecial(int id) {
        return java.util.Arrays.binarySearch(specialIds, id) >= 0;
    }
}
