package dev.distill.prompts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
    @TempDir
    Path tmp;

    @Test
    void theSampleCorpusHasAboutThreeHundredValidVariedPrompts() throws Exception {
        Path sample = Corpus.samplePath();
        assertEquals(300, Corpus.count(sample, PromptSourceOptions.defaults()));
        Map<PromptKind, Integer> kinds = new EnumMap<>(PromptKind.class);
        int withSystem = 0, multiTurn = 0;
        try (PromptSource s = PromptSource.open(sample, PromptSourceOptions.defaults())) {
            while (s.hasNext()) {
                PromptRecord r = s.next();
                assertTrue(r.valid(), () -> s.invalid(r).getMessage());
                kinds.merge(r.kind(), 1, Integer::sum);
                if (r.kind() == PromptKind.CHAT) {
                    withSystem += "system".equals(r.messages().get(0).get("role")) ? 1 : 0;
                    multiTurn += r.messages().stream()
                                            .filter(m -> "user".equals(m.get("role")))
                                            .count()
                                    > 1
                            ? 1
                            : 0;
                } else {
                    assertTrue(r.text().length() <= 200, r.text());
                }
            }
        }
        assertEquals(Map.of(PromptKind.PROMPT, 220, PromptKind.CHAT, 65, PromptKind.TEXT, 15), kinds);
        assertTrue(
                withSystem > 30 && multiTurn > 10, withSystem + " with a system prompt, " + multiTurn + " multi-turn");
        SkipReport scoreSkips = new SkipReport();
        try (PromptSource s = PromptSource.open(sample, new PromptSourceOptions(null, null, null, true))) {
            s.forEachRemaining(r -> {
                if (!r.valid()) {
                    scoreSkips.add(r.invalidReason());
                }
            });
        }
        assertEquals(
                300 - 30 - 15,
                scoreSkips.count(SkipReport.MISSING_RESPONSE),
                "30 prompts and 15 chats carry a response");
    }

    @Test
    void sha256HashesTheFileBytes() throws Exception {
        Path file = tmp.resolve("c.txt");
        Files.writeString(file, "abc", StandardCharsets.UTF_8);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Corpus.sha256(file));
    }
}
