package dev.distill.pipeline.remote;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Finds the API key for a remote teacher: --api-key-file FILE, else the DISTILL_API_KEY environment variable. */
public final class ApiKeys {
    /** The environment variable holding the key. */
    public static final String ENV = "DISTILL_API_KEY";

    private ApiKeys() {}

    /**
     * The key, or null when neither source gives one.
     *
     * @param file the key file (its content, trimmed), or null
     * @throws IllegalArgumentException naming the file when it is missing, unreadable or empty (never its content)
     */
    public static String resolve(Path file, Map<String, String> env) {
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--api-key-file " + file + ": no such file");
            }
            String key;
            try {
                key = Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "--api-key-file " + file + ": cannot read it ("
                                + e.getClass().getSimpleName() + ")",
                        e);
            }
            if (key.isEmpty()) {
                throw new IllegalArgumentException("--api-key-file " + file + " is empty");
            }
            return key;
        }
        String key = env.get(ENV);
        return key == null || key.isBlank() ? null : key.strip();
    }
}
