package dev.distill.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the chat template comes from: a named-template list, chat_template.jinja over the config. */
class TemplateSourcesTest {
    @TempDir
    Path dir;

    private static final List<Map<String, Object>> HELLO = List.of(Map.of("role", "user", "content", "hello"));

    private void setUp(String config) throws IOException {
        Files.copy(Fixtures.tokenizers().resolve("tiny/tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), config, StandardCharsets.UTF_8);
    }

    @Test
    void namedTemplateListUsesDefault() throws IOException {
        setUp(
                "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D{{ messages[0].content }}\"}]}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertEquals("Dhello", tok.renderChat(HELLO, false));
            assertEquals(
                    dir.resolve("tokenizer_config.json") + "#chat_template[default]",
                    tok.chatTemplate().orElseThrow().sourceName());
        }
    }

    @Test
    void namedTemplateListWithoutDefaultMeansNoTemplate() throws IOException {
        setUp("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}]}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertTrue(tok.chatTemplate().isEmpty());
        }
    }

    @Test
    void chatTemplateFileWinsOverTheConfig() throws IOException {
        setUp("{\"chat_template\": \"config\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "file {{ messages|length }}\n", StandardCharsets.UTF_8);
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertEquals("file 1", tok.renderChat(HELLO, true));
            assertEquals(
                    dir.resolve("chat_template.jinja").toString(),
                    tok.chatTemplate().orElseThrow().sourceName());
        }
    }
}
