package dev.distill.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ChatTemplate's own contract: the variables it provides, Java values as Python values, kwargs from JSON, template
 * files, dates, hashing.
 */
class ChatTemplateTest {
    private static final List<Map<String, Object>> HI = List.of(Map.of("role", "user", "content", "hi"));

    @TempDir
    Path dir;

    @Test
    void providesTheVariablesTransformersPasses() {
        ChatTemplate t = ChatTemplate.compile(
                "{{ messages|length }}|{{ add_generation_prompt }}|{{ tools is none }}|{{ documents is none }}|{{ bos_token }}|{{ eos_token is defined }}",
                "vars.jinja");
        List<Map<String, Object>> messages = List.of(Map.of("role", "user", "content", "hi"));
        assertEquals("1|True|True|True|<s>|False", t.render(messages, true, Map.of("bos_token", "<s>")));
    }

    @Test
    void javaValuesBehaveAsPythonValues() {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "user");
        message.put("n", 2);
        message.put("f", 1.5f);
        message.put("arr", new Object[] {1, "x", null});
        message.put("nested", List.of(Map.of("k", true)));
        List<Map<String, Object>> messages = new ArrayList<>();
        messages.add(message);
        ChatTemplate t = ChatTemplate.compile(
                "{{ messages[0].n + 1 }} {{ messages[0].f * 2 }} {{ messages[0].arr }} {{ messages[0] }}",
                "values.jinja");
        assertEquals(
                "3 3.0 [1, 'x', None] {'role': 'user', 'n': 2, 'f': 1.5, 'arr': [1, 'x', None], 'nested': [{'k': True}]}",
                t.render(messages, false, Map.of()));
    }

    @Test
    void kwargsOfEveryJsonTypeReachTheTemplateAsPythonValues() {
        Map<String, Object> kwargs = TemplateKwargs.parse(
                "{\"on\": true, \"off\": false, \"n\": 9007199254740993, \"neg\": -2, \"x\": 0.1, \"whole\": 2.0,"
                        + " \"s\": \"caf\\u00e9 \\ud83d\\ude00\", \"nothing\": null, \"list\": [1, \"a\", [true], {}],"
                        + " \"obj\": {\"z\": 1, \"a\": {\"deep\": [null]}}}");
        ChatTemplate t = ChatTemplate.compile(
                "{{ on }} {{ on is boolean }} {{ off is false }} {{ n + 1 }} {{ n is integer }} {{ neg * 3 }} {{ x + 0.2 }}"
                        + " {{ x is float }} {{ whole }} {{ whole is float }} {{ s }} {{ s|length }} {{ nothing }} {{ nothing is none }}"
                        + " {{ list }} {{ list[2][0] is true }} {{ list|tojson }} {{ obj }} {{ obj.a.deep[0] is none }}"
                        + " {{ obj|tojson }} {{ obj is mapping }} {{ obj|dictsort|first }}",
                "types.jinja");
        assertEquals(
                "True True True 9007199254740994 True -6 0.30000000000000004 True 2.0 True café 😀 6 None True"
                        + " [1, 'a', [True], {}] True [1, \"a\", [true], {}] {'z': 1, 'a': {'deep': [None]}} True"
                        + " {\"z\": 1, \"a\": {\"deep\": [null]}} True ('a', {'deep': [None]})",
                t.render(HI, false, Map.of(), kwargs));
    }

    @Test
    void kwargsMaySetToolsAndDocumentsButNotTheRenderersVariablesOrSpecialTokens() {
        ChatTemplate t =
                ChatTemplate.compile("{{ tools[0].name }} {{ documents is none }} {{ eos_token }}", "tools.jinja");
        Map<String, Object> special = Map.of("eos_token", "</s>");
        assertEquals(
                "f True </s>", t.render(HI, true, special, TemplateKwargs.parse("{\"tools\": [{\"name\": \"f\"}]}")));
        assertEquals(
                "chat template kwarg 'messages' would shadow the variable messages that the renderer sets",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> t.render(HI, true, special, Map.of("messages", List.of())))
                        .getMessage());
        assertEquals(
                "chat template kwarg 'add_generation_prompt' would shadow the variable add_generation_prompt that the renderer sets",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> t.render(HI, true, special, Map.of("add_generation_prompt", false)))
                        .getMessage());
        assertEquals(
                "chat template kwarg 'eos_token' would shadow the tokenizer's special token eos_token ('</s>')",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> t.render(HI, true, special, Map.of("eos_token", "x")))
                        .getMessage());
        // a special token the tokenizer does not set is not a template variable: transformers passes it through
        assertEquals(
                "f True </s>|<b>",
                ChatTemplate.compile(
                                "{{ tools[0].name }} {{ documents is none }} {{ eos_token }}|" + "{{ bos_token }}",
                                "bos.jinja")
                        .render(
                                HI,
                                true,
                                special,
                                TemplateKwargs.parse("{\"tools\": [{\"name\": \"f\"}], \"bos_token\": \"<b>\"}")));
    }

    @Test
    void kwargsThatAreNotAJsonObjectAreRefusedSayingWhy() {
        assertEquals(
                "invalid JSON at line 1, column 19: Unexpected character ('}' (code 125)): was expecting a colon to"
                        + " separate field name and value",
                parseError("{\"enable_thinking\"}"));
        assertEquals(
                "invalid JSON: the text is empty; expected an object such as {\"enable_thinking\": false}",
                parseError(" "));
        assertEquals(
                "expected a JSON object of template variables, such as {\"enable_thinking\": false}, got an array"
                        + " [1,2]",
                parseError("[1, 2]"));
        assertEquals(
                "expected a JSON object of template variables, such as {\"enable_thinking\": false}, got a boolean"
                        + " false",
                parseError("false"));
        assertEquals(
                "a.b[1]: integer 123456789012345678901234567890 does not fit in 64 bits (the template engine's integers)",
                parseError("{\"a\": {\"b\": [0, 123456789012345678901234567890]}}"));
        assertEquals("x: number beyond the range of a float (about 1.8e308)", parseError("{\"x\": 1e400}"));
        assertEquals("invalid JSON at line 1, column 4: more text after the first value", parseError("{} {}"));
        assertEquals(
                "invalid JSON at line 1, column 5: Unrecognized token 'x': was expecting (JSON String, Number, Array,"
                        + " Object or token 'null', 'true' or 'false')",
                parseError("{}  x"));
    }

    private static String parseError(String json) {
        return assertThrows(IllegalArgumentException.class, () -> TemplateKwargs.parse(json))
                .getMessage();
    }

    @Test
    void loadsATemplateFileNamingItInErrors() throws IOException {
        Path file = dir.resolve("t.jinja");
        Files.writeString(file, "[{{ messages[0].content }}]\n");
        ChatTemplate t = ChatTemplate.load(file);
        assertEquals("[hi]", t.render(HI, true, Map.of()));
        assertEquals(file.toString(), t.sourceName());
        assertEquals("[{{ messages[0].content }}]\n", t.source());
        assertEquals(ChatTemplate.compile("[{{ messages[0].content }}]\n", "x").sha256(), t.sha256());

        Path missing = dir.resolve("missing.jinja");
        assertEquals(
                "chat template file not found: " + missing,
                assertThrows(TokenizerException.class, () -> ChatTemplate.load(missing))
                        .getMessage());
        Files.writeString(file, "{% for m in messages %}\n{{ m.content }}\n{% frob %}\n");
        assertEquals(
                "chat template does not compile: " + file + ", line 3: unknown tag 'frob'; expected 'endfor' or 'else'"
                        + " to close the 'for' tag of line 1",
                assertThrows(TokenizerException.class, () -> ChatTemplate.load(file))
                        .getMessage());
        Files.write(file, new byte[] {'a', (byte) 0xff});
        assertEquals(
                file + ": the chat template is not valid UTF-8",
                assertThrows(TokenizerException.class, () -> ChatTemplate.load(file))
                        .getMessage());
    }

    @Test
    void strftimeNowFormatsTodayLikePython() {
        ChatTemplate t = ChatTemplate.compile("{{ strftime_now('%d %b %Y|%A %B %j %y|%%') }}", "date.jinja");
        LocalDate today = LocalDate.now();
        String expected =
                today.format(DateTimeFormatter.ofPattern("dd MMM yyyy|EEEE MMMM DDD yy", Locale.ENGLISH)) + "|%";
        assertEquals(expected, t.render(List.of(Map.of("role", "user", "content", "x")), false, Map.of()));
    }

    @Test
    void hashesTheTemplateText() {
        // sha256 of the UTF-8 text, as Python's hashlib.sha256(text.encode()).hexdigest() gives it
        assertEquals(
                "21b1d9c74a217211f93d54eca585c322017b9008d86619712ec946b10cf156f1",
                ChatTemplate.compile("{{ messages[0].content }}", "h.jinja").sha256());
    }

    @Test
    void refusesAnEmptyConversation() {
        ChatTemplate t = ChatTemplate.compile("{{ messages }}", "e.jinja");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> t.render(List.of(), true, Map.of()));
        assertEquals(
                "Cannot apply chat template to an empty conversation. Provide at least one message.", e.getMessage());
    }

    /** Rendered dates and floats are data: ASCII digits under a locale with other digits too. */
    @Test
    void datesAndFloatsRenderWithAsciiDigitsUnderAnyLocale() {
        ChatTemplate t =
                ChatTemplate.compile("{{ strftime_now('%d.%m.%y %H:%M:%S %j') }}|{{ 1.5e20 }}|{{ 2.5e-7 }}", "l.jinja");
        Locale saved = Locale.getDefault();
        try {
            for (String tag : List.of("hi-IN-u-nu-deva", "ar-SA")) {
                Locale.setDefault(Locale.forLanguageTag(tag));
                String out = t.render(List.of(Map.of("role", "user", "content", "x")), false, Map.of());
                assertTrue(
                        out.matches("\\d\\d\\.\\d\\d\\.\\d\\d \\d\\d:\\d\\d:\\d\\d \\d{3}\\|1\\.5e\\+20\\|2\\.5e-07"),
                        tag + ": " + out);
            }
        } finally {
            Locale.setDefault(saved);
        }
    }
}
