package dev.distill.tools.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.tokenizer.NpmTokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * The real llama.cpp for tests: {@code node-llama-cpp@3.21.1} (its prebuilt linux-x64 CPU build)
 * installed once with {@code npm i -E} into ~/.cache/distill/npm/node-llama-cpp-3.21.1 beside the test
 * tokenizers, driven by llama-cpp.mjs. Failing to install or run it fails the test; it never skips.
 */
final class NodeLlamaCpp {
    static final String VERSION = "3.21.1";
    private static final String SPEC = "node-llama-cpp@" + VERSION;
    private static final ObjectMapper JSON = new ObjectMapper();

    private NodeLlamaCpp() {}

    /** The npm prefix holding node_modules/node-llama-cpp, installed on first use. */
    static synchronized Path prefix() {
        Path cache = NpmTokenizers.cacheRoot();
        Path home = cache.resolve("node-llama-cpp-" + VERSION);
        Path manifest = home.resolve("node_modules/node-llama-cpp/package.json");
        try {
            if (!Files.isRegularFile(manifest)) {
                Files.createDirectories(cache);
                Path tmp = Files.createTempDirectory(cache, "fetch-");
                try {
                    Files.writeString(tmp.resolve("package.json"), "{\"private\": true}\n");
                    NpmTokenizers.run(
                            tmp,
                            SPEC,
                            "npm",
                            "install",
                            "--save-exact",
                            "--ignore-scripts",
                            "--no-audit",
                            "--no-fund",
                            SPEC);
                    try {
                        Files.move(tmp, home, StandardCopyOption.ATOMIC_MOVE);
                    } catch (FileAlreadyExistsException concurrentFetch) {
                        // another build installed it meanwhile; its copy is checked below
                    }
                } finally {
                    NpmTokenizers.deleteTree(tmp);
                }
            }
            String version = JSON.readTree(manifest.toFile()).path("version").asText();
            if (!version.equals(VERSION)) {
                throw new IllegalStateException(
                        manifest + " is version " + version + ", not " + VERSION + "; delete " + home);
            }
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install " + SPEC + " into " + home, e);
        }
    }

    /** Runs the jobs (see llama-cpp.mjs) in llama.cpp and returns one result per job. */
    static JsonNode run(List<Map<String, Object>> jobs, Path work) throws IOException, InterruptedException {
        Path script = work.resolve("llama-cpp.mjs");
        try (InputStream in = NodeLlamaCpp.class.getResourceAsStream("llama-cpp.mjs")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Path jobsFile = work.resolve("jobs.json");
        JSON.writeValue(jobsFile.toFile(), jobs);
        Path stdout = work.resolve("llama-cpp.out");
        Path stderr = work.resolve("llama-cpp.err");
        Process p = new ProcessBuilder("node", script.toString(), prefix().toString(), jobsFile.toString())
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .start();
        int exit = p.waitFor();
        if (exit != 0) {
            throw new IllegalStateException("node llama-cpp.mjs failed (exit " + exit + "):\n"
                    + Files.readString(stderr, StandardCharsets.UTF_8));
        }
        return JSON.readTree(stdout.toFile());
    }
}
