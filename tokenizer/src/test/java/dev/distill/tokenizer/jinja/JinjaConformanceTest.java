package dev.distill.tokenizer.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.tokenizer.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case in fixtures/tokenizers/expected/jinja_cases.json, rendered by transformers' own Jinja
 * environment: the engine must produce the same text, or fail where Jinja failed (at the same line for
 * syntax errors, with the same message for raise_exception).
 */
class JinjaConformanceTest {

    @TestFactory
    List<DynamicTest> rendersLikeTransformersJinja() {
        JsonNode root = Fixtures.readTree(Fixtures.tokenizers().resolve("expected/jinja_cases.json"));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        return tests;
    }

    @SuppressWarnings("unchecked")
    private static void check(JsonNode c) {
        String name = c.get("name").asText();
        Map<String, Object> context = (Map<String, Object>) Fixtures.toJava(c.get("context"));
        if (c.has("expected")) {
            String actual = Template.compile(c.get("template").asText(), name).render(context);
            assertEquals(c.get("expected").asText(), actual, name);
            return;
        }
        JsonNode error = c.get("error");
        TemplateException e = assertThrows(
                TemplateException.class,
                () -> Template.compile(c.get("template").asText(), name).render(context),
                name + " must fail like Jinja: " + error);
        if (error.has("line")) {
            assertEquals(error.get("line").asInt(), e.line(), name + ": " + e.getMessage());
        }
        if (error.get("type").asText().equals("TemplateError")) {
            assertEquals(error.get("message").asText(), e.detail(), name);
        }
    }
}
