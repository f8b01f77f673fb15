package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `distill generate --chat-template FILE --chat-template-kwargs JSON` on the tiny llama fixture and tiny tokenizer. */
public class ChatTemplateOptionsTest {
    /** The tiny tokenizer's ChatML template with Qwen3's ending: an empty think block when enable_thinking is false. */
    static final String THINKING_TEMPLATE =
            """
            {%- for message in messages %}
            {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\\n' }}
            {%- if enable_thinking is defined and enable_thinking is false %}
            {{- '<think>\\n\\n</think>\\n\\n' }}
            {%- endif %}
            {%- endif %}
            """;
    /** A template of its own: "[role tag]" headers, the tag from the kwargs. */
    public static final String TAGGED_TEMPLATE =
            """
            {%- set suffix = (' ' + tag) if tag is defined else '' %}
            {%- for m in messages %}
            {{- '[' + m.role + (suffix if m.role == 'assistant' else '') + ']\\n' + m.content + '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
            {{- '[assistant' + suffix + ']\\n' }}
            {%- endif %}
            """;

    @TempDir
    Path tmp;

    List<String> args(Path tokenizer, Path corpus, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "--teacher",
                Fixtures.model("llama").toString(),
                "--tokenizer",
                tokenizer.toString(),
                "--prompts",
                corpus.toString(),
                "--out",
                out.toString(),
                "--mode",
                "greedy",
                "--top-k",
                "3",
                "--max-new-tokens",
                "4",
                "--shard-size",
                "2"));
        a.addAll(List.of(more));
        return a;
    }

    Path corpus(String... lines) throws IOException {
        return Fixtures.corpus(tmp, lines);
    }

    Path chatCorpus() throws IOException {
        return corpus(
                "{\"prompt\": \"What is a prime number?\"}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Name a color.\"}]}",
                "{\"text\": \"Once upon a time\"}");
    }

    /** The tiny tokenizer with {@link #THINKING_TEMPLATE} as its chat_template.jinja. */
    Path thinkingTokenizer() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("thinking-tokenizer"));
        try (Stream<Path> files = Files.list(Fixtures.tinyTokenizer())) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("chat_template.jinja"), THINKING_TEMPLATE);
        return dir;
    }

    Path file(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    static List<int[]> promptIds(Path runDir) throws IOException {
        return GenerateCommandTest.rows(runDir).stream()
                .map(SoftLabelRow::promptIds)
                .toList();
    }

    static JsonNode config(Path runDir) throws IOException {
        return new ObjectMapper()
                .readTree(runDir.resolve("manifest.json").toFile())
                .get("config");
    }

    static int[] encode(Path tokenizer, String text) {
        try (HfTokenizer tok = HfTokenizer.load(tokenizer)) {
            return tok.encode(text, false);
        }
    }

    @Test
    void kwargsReachTheTemplateAndAChangedValueIsRefusedOnResume() throws Exception {
        Path tokenizer = thinkingTokenizer();
        Path corpus = chatCorpus();
        Path out = tmp.resolve("run");
        List<String> noThinking =
                args(tokenizer, corpus, out, "--chat-template-kwargs", "{\"enable_thinking\": false}");
        String[] r = Fixtures.generate(noThinking);
        assertEquals("0", r[0], r[2]);
        List<int[]> prompts = promptIds(out);
        assertEquals(3, prompts.size());
        assertArrayEquals(
                encode(
                        tokenizer,
                        "<|im_start|>user\nWhat is a prime number?<|im_end|>\n"
                                + "<|im_start|>assistant\n<think>\n\n</think>\n\n"),
                prompts.get(0));
        assertArrayEquals(
                encode(
                        tokenizer,
                        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a color."
                                + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"),
                prompts.get(1));
        assertArrayEquals(encode(tokenizer, "Once upon a time"), prompts.get(2), "raw text is not templated");
        assertEquals(
                "{\"enable_thinking\":false}",
                config(out).get("chat_template_kwargs").toString());

        // without the kwarg the template renders no think block
        Path plain = tmp.resolve("plain");
        assertEquals("0", Fixtures.generate(args(tokenizer, corpus, plain))[0]);
        assertArrayEquals(
                encode(tokenizer, "<|im_start|>user\nWhat is a prime number?<|im_end|>\n<|im_start|>assistant\n"),
                promptIds(plain).get(0));
        assertFalse(config(plain).has("chat_template_kwargs"), "recorded only when given");

        String[] same = Fixtures.generate(noThinking);
        assertEquals("0", same[0], same[2]);
        assertTrue(same[1].contains("this process: 0 prompts"), same[1]);
        String[] changed = Fixtures.generate(
                args(tokenizer, corpus, out, "--chat-template-kwargs", "{\"enable_thinking\": true}"));
        assertEquals("1", changed[0]);
        assertTrue(
                changed[2].contains("run directory " + out + " was made with a different configuration:"
                        + " chat_template_kwargs.enable_thinking: false (run) vs true (now)."),
                changed[2]);
        String[] dropped = Fixtures.generate(args(tokenizer, corpus, out));
        assertEquals("1", dropped[0]);
        assertTrue(
                dropped[2].contains("chat_template_kwargs.enable_thinking: false (run) vs (absent) (now)"), dropped[2]);
    }

    @Test
    void aTemplateFileReplacesTheTokenizersAndIsPartOfTheRunConfiguration() throws Exception {
        Path tokenizer = Fixtures.tinyTokenizer();
        Path template = file("tagged.jinja", TAGGED_TEMPLATE);
        Path corpus = chatCorpus();
        Path out = tmp.resolve("run");
        List<String> a = args(tokenizer, corpus, out, "--chat-template", template.toString());
        String[] r = Fixtures.generate(a);
        assertEquals("0", r[0], r[2]);
        List<int[]> prompts = promptIds(out);
        assertArrayEquals(
                encode(tokenizer, "[user]\nWhat is a prime number?<|im_end|>\n[assistant]\n"), prompts.get(0));
        assertArrayEquals(
                encode(tokenizer, "[system]\nBe brief.<|im_end|>\n[user]\nName a color.<|im_end|>\n[assistant]\n"),
                prompts.get(1));
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(template)));
        JsonNode config = config(out);
        assertEquals(sha, config.get("chat_template_sha256").asText());
        assertEquals(
                template.toAbsolutePath().normalize().toString(),
                config.get("chat_template_file").asText());
        try (ShardReader reader =
                ShardReader.open(out.resolve("part-00000.parquet").toString())) {
            assertEquals(sha, reader.metadata().chatTemplateSha256());
        }

        // the same template with kwargs: the tag reaches the generation prompt
        Path tagged = tmp.resolve("tagged");
        assertEquals(
                "0",
                Fixtures.generate(args(
                        tokenizer,
                        corpus,
                        tagged,
                        "--chat-template",
                        template.toString(),
                        "--chat-template-kwargs",
                        "{\"tag\": \"v2\"}"))[0]);
        assertArrayEquals(
                encode(tokenizer, "[user]\nWhat is a prime number?<|im_end|>\n[assistant v2]\n"),
                promptIds(tagged).get(0));

        Files.writeString(template, TAGGED_TEMPLATE.replace("[assistant'", "[bot'"));
        String[] edited = Fixtures.generate(a);
        assertEquals("1", edited[0]);
        assertTrue(edited[2].contains("chat_template_sha256: " + sha + " (run) vs "), edited[2]);
        Path other = file("other.jinja", TAGGED_TEMPLATE);
        String[] moved = Fixtures.generate(args(tokenizer, corpus, out, "--chat-template", other.toString()));
        assertEquals("1", moved[0]);
        assertTrue(
                moved[2].contains(
                        "chat_template_file: " + template.toAbsolutePath().normalize() + " (run) vs "
                                + other.toAbsolutePath().normalize() + " (now)"),
                moved[2]);
    }

    @Test
    void scoreModeSplitsResponsesRenderedByTheTemplateFileWithTheKwargs() throws Exception {
        Path tokenizer = Fixtures.tinyTokenizer();
        Path template = file("tagged.jinja", TAGGED_TEMPLATE);
        Path corpus = corpus(
                "{\"prompt\": \"What is two plus two?\", \"response\": \"Four.\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Say hi\"}, {\"role\": \"assistant\", \"content\": \"Hi there!\"}]}");
        Path out = tmp.resolve("score");
        List<String> a = args(
                tokenizer,
                corpus,
                out,
                "--chat-template",
                template.toString(),
                "--chat-template-kwargs",
                "{\"tag\": \"v2\"}");
        a.set(a.indexOf("--mode") + 1, "score");
        String[] r = Fixtures.generate(a);
        assertEquals("0", r[0], r[2]);
        List<SoftLabelRow> rows = GenerateCommandTest.rows(out);
        assertArrayEquals(
                encode(tokenizer, "[user]\nWhat is two plus two?<|im_end|>\n[assistant v2]\n"),
                rows.get(0).promptIds());
        assertArrayEquals(encode(tokenizer, "Four.<|im_end|>"), rows.get(0).completionIds());
        assertArrayEquals(
                encode(tokenizer, "[user]\nSay hi<|im_end|>\n[assistant v2]\n"),
                rows.get(1).promptIds());
        assertArrayEquals(encode(tokenizer, "Hi there!<|im_end|>"), rows.get(1).completionIds());
    }

    @Test
    void badKwargsAreUsageErrorsNamingTheOptionAndTheProblem() throws Exception {
        Path corpus = chatCorpus();
        Path out = tmp.resolve("never");
        String[][] cases = {
            {
                "{\"enable_thinking\": fals}",
                "Invalid value for option '--chat-template-kwargs': invalid JSON at line 1,"
                        + " column 21: Unrecognized token 'fals': was expecting (JSON String, Number, Array, Object or token"
                        + " 'null', 'true' or 'false')"
            },
            {
                "[\"enable_thinking\"]",
                "Invalid value for option '--chat-template-kwargs': expected a JSON object of"
                        + " template variables, such as {\"enable_thinking\": false}, got an array [\"enable_thinking\"]"
            },
            {
                "{\"messages\": []}",
                "--chat-template-kwargs: chat template kwarg 'messages' would shadow the variable"
                        + " messages that the renderer sets"
            },
            {
                "{\"add_generation_prompt\": false}",
                "--chat-template-kwargs: chat template kwarg 'add_generation_prompt'"
                        + " would shadow the variable add_generation_prompt that the renderer sets"
            },
            {
                "{\"enable_thinking\": false, \"eos_token\": \"</s>\"}",
                "--chat-template-kwargs: chat template kwarg"
                        + " 'eos_token' would shadow the tokenizer's special token eos_token ('<|im_end|>')"
            },
        };
        for (String[] c : cases) {
            String[] r = Fixtures.generate(args(Fixtures.tinyTokenizer(), corpus, out, "--chat-template-kwargs", c[0]));
            assertEquals("2", r[0], c[0] + ": " + r[2]);
            assertTrue(r[2].startsWith(c[1] + System.lineSeparator()), c[0] + ": " + r[2]);
            assertFalse(Files.exists(out), "nothing is written");
        }
    }

    @Test
    void aMissingOrBrokenTemplateFileIsAnErrorNamingTheFile() throws Exception {
        Path corpus = chatCorpus();
        Path out = tmp.resolve("never");
        Path missing = tmp.resolve("missing.jinja");
        String[] r =
                Fixtures.generate(args(Fixtures.tinyTokenizer(), corpus, out, "--chat-template", missing.toString()));
        assertEquals("1", r[0]);
        assertTrue(
                r[2].startsWith("distill generate: --chat-template: chat template file not found: " + missing + "\n"),
                r[2]);
        Path broken = file("broken.jinja", "{% for m in messages %}\n{{ m.content }}\n{% endif %}\n");
        r = Fixtures.generate(args(Fixtures.tinyTokenizer(), corpus, out, "--chat-template", broken.toString()));
        assertEquals("1", r[0]);
        assertTrue(
                r[2].startsWith("distill generate: --chat-template: chat template does not compile: " + broken
                        + ", line 3: unknown tag"
                        + " 'endif'; expected 'endfor' or 'else' to close the 'for' tag of line 1\n"),
                r[2]);
        r = Fixtures.generate(args(
                Fixtures.tinyTokenizer(),
                corpus,
                out,
                "--chat-template",
                file("ok.jinja", TAGGED_TEMPLATE).toString(),
                "--no-chat-template"));
        assertEquals("2", r[0], "a usage error");
        assertTrue(r[2].startsWith("--chat-template and --no-chat-template exclude each other\n"), r[2]);
        assertFalse(Files.exists(out), "nothing is written");
    }
}
