package dev.distill.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ChatTemplate's own contract: the variables it provides, Java values as Python values, dates, hashing. */
class ChatTemplateTest {

  @Test
  void providesTheVariablesTransformersPasses() {
    ChatTemplate t =
        ChatTemplate.compile(
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
    ChatTemplate t =
        ChatTemplate.compile("{{ messages[0].n + 1 }} {{ messages[0].f * 2 }} {{ messages[0].arr }} {{ messages[0] }}", "values.jinja");
    assertEquals(
        "3 3.0 [1, 'x', None] {'role': 'user', 'n': 2, 'f': 1.5, 'arr': [1, 'x', None], 'nested': [{'k': True}]}",
        t.render(messages, false, Map.of()));
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
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.render(List.of(), true, Map.of()));
    assertEquals("Cannot apply chat template to an empty conversation. Provide at least one message.", e.getMessage());
  }
}
