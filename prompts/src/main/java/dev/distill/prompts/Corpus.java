package dev.distill.prompts;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Facts about a corpus file (record count, content hash) and the bundled sample corpus. */
public final class Corpus {
    /** Classpath resource of the sample corpus. */
    public static final String SAMPLE_RESOURCE = "/dev/distill/prompts/sample-prompts.jsonl";

    private Corpus() {}

    /** Records in the corpus, valid or not: the prompts_total of a run. Skips through the file without parsing it. */
    public static long count(Path file, PromptSourceOptions options) throws IOException {
        try (PromptSource source = PromptSource.open(file, options)) {
            return source.skipTo(Long.MAX_VALUE);
        }
    }

    /** The lowercase hex SHA-256 of the file's bytes (as stored: a .gz file hashes compressed). */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * The sample corpus (about 300 prompts, chats and texts, some with responses for score mode) copied to a
     * temporary file that is deleted when the JVM exits.
     */
    public static Path samplePath() {
        try (InputStream in = Corpus.class.getResourceAsStream(SAMPLE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(
                        "the sample corpus " + SAMPLE_RESOURCE + " is missing from the classpath");
            }
            Path file = Files.createTempFile("distill-sample-prompts-", ".jsonl");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the sample corpus: " + e.getMessage(), e);
        }
    }
}
