package dev.distill.tools.onpolicy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.prompts.PromptKind;
import dev.distill.prompts.PromptRecord;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.PromptSourceOptions;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The prompts of one round: corpus records {@code [(r-1) N, r N)} modulo the corpus size (the corpus is walked in
 * order and wraps), written as a JSONL file the student samples from ({"prompt"}, {"messages"} or {"text"}, as in the
 * corpus; a chat's trailing assistant turn is dropped, the student writes it). Invalid records are left out.
 */
final class RoundPrompts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RoundPrompts() {}

    /**
     * Writes round {@code round}'s prompts to {@code file} (atomically, once: an existing file is kept).
     *
     * @param corpusSize records in the corpus
     * @return the number of prompts written
     */
    static long write(Path corpus, long corpusSize, int round, int perRound, Path file) throws IOException {
        if (Files.exists(file)) {
            try (var existing = Files.lines(file)) {
                return existing.count();
            }
        }
        long start = (long) (round - 1) * perRound % corpusSize;
        List<String> lines = new ArrayList<>();
        PromptSource source = PromptSource.open(corpus, PromptSourceOptions.defaults());
        try {
            source.skipTo(start);
            for (int i = 0; i < perRound; i++) {
                if (!source.hasNext()) { // wrap
                    source.close();
                    source = PromptSource.open(corpus, PromptSourceOptions.defaults());
                }
                PromptRecord r = source.next();
                if (r.valid()) {
                    lines.add(JSON.writeValueAsString(record(r)));
                }
            }
        } finally {
            source.close();
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (String l : lines) {
                w.write(l);
                w.newLine();
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return lines.size();
    }

    private static ObjectNode record(PromptRecord r) {
        ObjectNode o = JSON.createObjectNode();
        if (r.kind() == PromptKind.CHAT) {
            List<Map<String, Object>> messages = new ArrayList<>(r.messages());
            if (!messages.isEmpty()
                    && "assistant".equals(messages.get(messages.size() - 1).get("role"))) {
                messages.remove(messages.size() - 1);
            }
            o.set("messages", JSON.valueToTree(messages));
        } else {
            o.put(r.kind() == PromptKind.TEXT ? "text" : "prompt", r.text());
        }
        return o;
    }
}
