package dev.distill.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Content hashes that identify a run's inputs (teacher checkpoint, files) in the manifest and shards. */
public final class Fingerprints {
    private Fingerprints() {}

    /**
     * Identifies a teacher without reading every weight byte: config.json, then for each
     * *.safetensors file its name, size and JSON header (which lists every tensor's dtype, shape and
     * byte offsets).
     */
    public static String teacherSha256(Path modelDir) {
        MessageDigest md = sha256();
        try {
            md.update(Files.readAllBytes(modelDir.resolve("config.json")));
            List<Path> weights;
            try (Stream<Path> s = Files.list(modelDir)) {
                weights = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                        .sorted()
                        .toList();
            }
            for (Path w : weights) {
                md.update(w.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md.update(Long.toString(Files.size(w)).getBytes(StandardCharsets.US_ASCII));
                md.update(safetensorsHeader(w));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--teacher " + modelDir + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static byte[] safetensorsHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            if (ch.size() < 8) {
                throw new IOException(file + ": empty or truncated safetensors file (" + ch.size() + " bytes; it must"
                        + " start with an 8-byte header length)");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            if (n < 2 || n > 100_000_000L || n > ch.size() - 8) {
                throw new IOException(file + ": not a safetensors file (header length " + n + ")");
            }
            ByteBuffer header = ByteBuffer.allocate((int) n);
            ch.read(header, 8);
            return header.array();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
