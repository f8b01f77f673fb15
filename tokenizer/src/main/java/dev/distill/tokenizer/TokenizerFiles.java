package dev.distill.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** The files of a tokenizer directory, copied into every model directory distill writes. */
public final class TokenizerFiles {
    /** What {@link HfTokenizer#load} reads (generation_config.json belongs to the model). */
    public static final List<String> NAMES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja");

    private TokenizerFiles() {}

    /** Copies those of {@link #NAMES} that exist in {@code from} into {@code to}, replacing older copies. */
    public static void copy(Path from, Path to) {
        for (String name : NAMES) {
            Path src = from.resolve(name);
            if (Files.isRegularFile(src)) {
                try {
                    Files.copy(src, to.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot copy " + src + " to " + to, e);
                }
            }
        }
    }
}
