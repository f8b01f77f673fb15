package dev.distill.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's committed fixtures (tiny models with transformers references, tiny tokenizer). */
final class Fixtures {
    private Fixtures() {}

    static Path root() {
        String prop = System.getProperty("distill.repo.root");
        Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.isDirectory(q.resolve("fixtures")) && Files.exists(q.resolve("pom.xml"))) {
                return q;
            }
        }
        throw new IllegalStateException("cannot find the repository's fixtures/ from " + p);
    }

    static Path model(String variant) {
        return root().resolve("fixtures/models").resolve(variant);
    }

    static Path tinyTokenizer() {
        return root().resolve("fixtures/tokenizers/tiny");
    }

    static JsonNode reference(String variant) {
        try {
            return new ObjectMapper().readTree(model(variant).resolve("reference.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
