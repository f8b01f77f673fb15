package dev.distill.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root, where the committed fixtures live: the {@code distill.repo.root} property, else the first parent of the working directory holding fixtures/ and pom.xml. */
public final class RepoRoot {
    private RepoRoot() {}

    public static Path path() {
        String prop = System.getProperty("distill.repo.root");
        Path start = Path.of(prop != null ? prop : "").toAbsolutePath();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException(
                "cannot find the repository root (a directory with fixtures/ and pom.xml) from " + start);
    }

    /** {@code relative} under the repository root, e.g. {@code fixtures/models/llama}. */
    public static Path resolve(String relative) {
        return path().resolve(relative);
    }
}
