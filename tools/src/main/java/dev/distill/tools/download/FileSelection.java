package dev.distill.tools.download;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * Which repository files to fetch: by default what distill loads (config, generation config, tokenizer
 * files, chat template, safetensors weights and their index, at the repository's top level); with
 * --include, the files matching any of the given globs instead.
 */
public final class FileSelection {
    /** The default globs. */
    public static final List<String> DEFAULT = List.of(
            "config.json",
            "generation_config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "chat_template.jinja",
            "chat_template.json",
            "*.safetensors",
            "*.safetensors.index.json");

    private final List<String> globs;
    private final List<PathMatcher> matchers;

    public FileSelection(List<String> globs) {
        this.globs = globs == null || globs.isEmpty() ? DEFAULT : List.copyOf(globs);
        this.matchers = this.globs.stream()
                .map(g -> FileSystems.getDefault().getPathMatcher("glob:" + g))
                .toList();
    }

    public boolean isDefault() {
        return globs == DEFAULT;
    }

    public List<String> globs() {
        return globs;
    }

    public boolean matches(String repoPath) {
        Path p = Path.of(repoPath);
        return matchers.stream().anyMatch(m -> m.matches(p));
    }
}
