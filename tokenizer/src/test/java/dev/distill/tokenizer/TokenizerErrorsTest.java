package dev.distill.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.tokenizer.jinja.TemplateException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad tokenizer directories and templates fail with messages that name the file, line or construct. */
class TokenizerErrorsTest {
    @TempDir
    Path dir;

    private static final List<Map<String, Object>> HELLO = List.of(Map.of("role", "user", "content", "hello"));

    private void copyTiny(String... files) throws IOException {
        for (String f : files) {
            Files.copy(Fixtures.tokenizers().resolve("tiny").resolve(f), dir.resolve(f));
        }
    }

    private void write(String file, String content) throws IOException {
        Files.writeString(dir.resolve(file), content, StandardCharsets.UTF_8);
    }

    @Test
    void missingDirectory() {
        Path missing = dir.resolve("nope");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(missing));
        assertEquals("tokenizer directory not found: " + missing, e.getMessage());
    }

    @Test
    void missingTokenizerJson() throws IOException {
        write("tokenizer_config.json", "{}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertEquals("tokenizer.json not found in " + dir, e.getMessage());
    }

    @Test
    void brokenTokenizerJsonNamesLineAndColumn() throws IOException {
        write("tokenizer.json", "{\n  \"version\": \"1.0\",\n  \"model\": [1, 2\n}\n");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertEquals(
                dir.resolve("tokenizer.json")
                        + ": invalid JSON at line 4, column 1: Unexpected close marker '}': expected ']'"
                        + " (for Array starting at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 3, column: 12])",
                e.getMessage());
    }

    @Test
    void brokenConfigNamesTheConfigFile() throws IOException {
        copyTiny("tokenizer.json");
        write("tokenizer_config.json", "{\"eos_token\": \"<|im_end|>\",\n\"pad_token\": }");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertTrue(
                e.getMessage()
                        .startsWith(dir.resolve("tokenizer_config.json")
                                + ": invalid JSON at line 2, column 14: Unexpected character ('}'"),
                e.getMessage());
    }

    @Test
    void templateSyntaxErrorNamesTheConfigAndLine() throws IOException {
        copyTiny("tokenizer.json");
        write(
                "tokenizer_config.json",
                "{\"chat_template\": \"{% for m in messages %}\\n{{ m.content }}\\n{% frob %}\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertEquals(
                "chat template does not compile: " + dir.resolve("tokenizer_config.json")
                        + "#chat_template, line 3: unknown tag 'frob'; expected 'endfor' or 'else' to close the 'for' tag of line 1",
                e.getMessage());
    }

    @Test
    void templateFileWithUnclosedBlock() throws IOException {
        copyTiny("tokenizer.json", "tokenizer_config.json");
        write("chat_template.jinja", "{% if messages %}\n{{ messages[0].content }}\n");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertEquals(
                "chat template does not compile: " + dir.resolve("chat_template.jinja")
                        + ", line 2: unexpected end of template, expected 'elif' or 'else' or 'endif' to close the 'if' tag of line 1",
                e.getMessage());
    }

    @Test
    void unknownFilterIsACompileErrorWithItsLine() {
        TemplateException e = assertThrows(
                TemplateException.class, () -> ChatTemplate.compile("a\n\n{{ messages|frobnicate }}", "t.jinja"));
        assertEquals("t.jinja, line 3: no filter named 'frobnicate'", e.getMessage());
        assertEquals(3, e.line());
    }

    @Test
    void unsupportedJinjaFeaturesAreNamed() {
        assertEquals(
                "t.jinja, line 1: filter 'wordwrap' is not supported by this template engine",
                assertThrows(TemplateException.class, () -> ChatTemplate.compile("{{ x|wordwrap }}", "t.jinja"))
                        .getMessage());
        assertEquals(
                "t.jinja, line 2: tag 'include' is not supported by this template engine",
                assertThrows(TemplateException.class, () -> ChatTemplate.compile("\n{% include 'x' %}", "t.jinja"))
                        .getMessage());
        assertEquals(
                "t.jinja, line 1: no test named 'frobnicated'",
                assertThrows(TemplateException.class, () -> ChatTemplate.compile("{{ x is frobnicated }}", "t.jinja"))
                        .getMessage());
        ChatTemplate format = ChatTemplate.compile("{{ messages[0].content.format(1) }}", "t.jinja");
        assertEquals(
                "t.jinja, line 1: method str.format() is not supported by this template engine",
                assertThrows(TemplateException.class, () -> format.render(HELLO, false, Map.of()))
                        .getMessage());
    }

    @Test
    void runtimeErrorsNameTheirLine() {
        ChatTemplate t =
                ChatTemplate.compile("ok\n{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}", "t.jinja");
        assertEquals(
                "t.jinja, line 3: TypeError: can only concatenate str (not \"int\") to str",
                assertThrows(TemplateException.class, () -> t.render(HELLO, false, Map.of()))
                        .getMessage());
        ChatTemplate undefined = ChatTemplate.compile("{{ nope.role }}", "t.jinja");
        assertEquals(
                "t.jinja, line 1: 'nope' is undefined",
                assertThrows(TemplateException.class, () -> undefined.render(HELLO, false, Map.of()))
                        .getMessage());
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplate t = ChatTemplate.compile(
                "{% if messages[0].role != 'system' %}\n{{ raise_exception('System message required') }}\n{% endif %}",
                "t.jinja");
        TemplateException e = assertThrows(TemplateException.class, () -> t.render(HELLO, false, Map.of()));
        assertEquals("t.jinja, line 2: System message required", e.getMessage());
        assertEquals("System message required", e.detail());
    }

    @Test
    void specialTokenMissingFromAddedTokensIsRefused() throws IOException {
        copyTiny("tokenizer.json");
        write("tokenizer_config.json", "{\"eos_token\": \"</s>\"}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertEquals(
                dir.resolve("tokenizer_config.json") + ": eos_token '</s>' is not an added token of "
                        + dir.resolve("tokenizer.json")
                        + "; transformers would add it with a new id, which this loader does not emulate",
                e.getMessage());
    }

    @Test
    void addedTokensDecoderMustAgreeWithTokenizerJson() throws IOException {
        copyTiny("tokenizer.json");
        write(
                "tokenizer_config.json",
                "{\"added_tokens_decoder\": {\"1\": {\"content\": \"<|im_end|>\", \"special\": true}}}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> HfTokenizer.load(dir));
        assertEquals(
                dir.resolve("tokenizer_config.json")
                        + ": added_tokens_decoder maps id 1 to '<|im_end|>' but tokenizer.json has '<|im_start|>'",
                e.getMessage());
    }

    @Test
    void encodeChatWithoutTemplateNamesTheDirectory() throws IOException {
        copyTiny("tokenizer.json");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> tok.encodeChat(HELLO, true));
            assertEquals(
                    dir + ": no chat template (neither chat_template.jinja nor tokenizer_config.json#chat_template)",
                    e.getMessage());
            assertTrue(tok.chatTemplate().isEmpty());
        }
    }
}
