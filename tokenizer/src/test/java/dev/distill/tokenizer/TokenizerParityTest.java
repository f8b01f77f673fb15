package dev.distill.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Qwen3, Llama 3, the project's tiny tokenizer and its variant (bos post-processor, legacy
 * special_tokens_map.json, generation_config.json eos list, chat_template.jinja) against what transformers 5.18 recorded in
 * fixtures/tokenizers/expected/&lt;id&gt;.json: ids with and without special tokens, batch ids, decodes,
 * token lookups, special ids, the content hash, chat renderings and chat ids — all compared exactly.
 */
class TokenizerParityTest {
    private static final Map<String, HfTokenizer> LOADED = new ConcurrentHashMap<>();

    private static HfTokenizer tokenizer(String id) {
        return LOADED.computeIfAbsent(
                id,
                k -> HfTokenizer.load(
                        k.startsWith("tiny") ? Fixtures.tokenizers().resolve(k) : NpmTokenizers.models(k)));
    }

    private static JsonNode expected(String id) {
        return Fixtures.readTree(Fixtures.tokenizers().resolve("expected").resolve(id + ".json"));
    }

    @AfterAll
    static void close() {
        LOADED.values().forEach(HfTokenizer::close);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void encodesLikeTransformers(String id) {
        HfTokenizer tok = tokenizer(id);
        int longest = 0;
        for (JsonNode e : expected(id).get("encodings")) {
            String text = e.get("text").asText();
            assertArrayEquals(
                    Fixtures.ints(e.get("ids_with_special")), tok.encode(text, true), id + " with specials: " + text);
            assertArrayEquals(
                    Fixtures.ints(e.get("ids_without_special")), tok.encode(text, false), id + " no specials: " + text);
            longest = Math.max(longest, e.get("ids_without_special").size());
        }
        assertTrue(longest > 512, id + ": the text set must include a text longer than 512 tokens, longest " + longest);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void batchEncodesLikeTransformers(String id) {
        HfTokenizer tok = tokenizer(id);
        List<String> texts = new ArrayList<>();
        List<int[]> with = new ArrayList<>();
        List<int[]> without = new ArrayList<>();
        for (JsonNode e : expected(id).get("encodings")) {
            texts.add(e.get("text").asText());
            with.add(Fixtures.ints(e.get("ids_with_special")));
            without.add(Fixtures.ints(e.get("ids_without_special")));
        }
        List<int[]> batchWith = tok.encodeBatch(texts, true);
        List<int[]> batchWithout = tok.encodeBatch(texts, false);
        assertEquals(texts.size(), batchWith.size());
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(with.get(i), batchWith.get(i), id + " batch with specials: " + texts.get(i));
            assertArrayEquals(without.get(i), batchWithout.get(i), id + " batch no specials: " + texts.get(i));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void decodesLikeTransformers(String id) {
        HfTokenizer tok = tokenizer(id);
        for (JsonNode e : expected(id).get("encodings")) {
            int[] ids = Fixtures.ints(e.get("ids_with_special"));
            assertEquals(
                    e.get("decoded").asText(),
                    tok.decode(ids, false),
                    id + " decode: " + e.get("text").asText());
            assertEquals(
                    e.get("decoded_skip_special").asText(), tok.decode(ids, true), id + " decode skipping specials");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void looksUpTokensAndSpecialIds(String id) {
        HfTokenizer tok = tokenizer(id);
        JsonNode exp = expected(id);
        for (JsonNode t : exp.get("tokens")) {
            int tokenId = t.get("id").asInt();
            String token = t.get("token").asText();
            assertEquals(token, tok.idToToken(tokenId).orElseThrow(), id + " idToToken(" + tokenId + ")");
            assertEquals(OptionalInt.of(tokenId), tok.tokenToId(token), id + " tokenToId(" + token + ")");
            assertEquals(t.get("special").asBoolean(), tok.isSpecial(tokenId), id + " isSpecial(" + tokenId + ")");
        }
        assertEquals(exp.get("vocab_size").asInt(), tok.vocabSize(), id + " vocabSize");
        assertEquals(optional(exp.get("bos_id")), tok.bosId(), id + " bosId");
        assertEquals(optional(exp.get("pad_id")), tok.padId(), id + " padId");
        assertEquals(exp.get("eos_id").asInt(), tok.eosIds()[0], id + " eos id");
        assertArrayEquals(Fixtures.ints(exp.get("eos_ids")), tok.eosIds(), id + " eosIds with generation_config.json");
        Map<String, Object> specialTokens = Map.copyOf(tok.specialTokens());
        assertEquals(
                Fixtures.toJava(exp.get("special_tokens_map")),
                specialTokens,
                id + " special tokens seen by templates");
        assertTrue(tok.idToToken(tok.vocabSize()).isEmpty(), id + ": no token past vocabSize");
    }

    private static OptionalInt optional(JsonNode id) {
        return id.isNull() ? OptionalInt.empty() : OptionalInt.of(id.asInt());
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void hashesTheFilesOnDisk(String id) {
        assertEquals(
                expected(id).get("sha256").asText(), tokenizer(id).sha256(), id + " sha256 of the tokenizer files");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void rendersAndEncodesChatsLikeApplyChatTemplate(String id) {
        HfTokenizer tok = tokenizer(id);
        for (JsonNode chat : expected(id).get("chats")) {
            String what = id + " chat " + chat.get("name").asText() + " add_generation_prompt="
                    + chat.get("add_generation_prompt");
            boolean generationPrompt = chat.get("add_generation_prompt").asBoolean();
            assertEquals(
                    chat.get("text").asText(),
                    tok.renderChat(Fixtures.messages(chat.get("messages")), generationPrompt),
                    what);
            assertArrayEquals(
                    Fixtures.ints(chat.get("ids")),
                    tok.encodeChat(Fixtures.messages(chat.get("messages")), generationPrompt),
                    what);
        }
    }

    /**
     * apply_chat_template(add_generation_prompt=True, **kwargs) with the kwargs given as JSON text, with the tokenizer's
     * template (Qwen3's enable_thinking) and with a replacement template that prints kwargs of every JSON type.
     */
    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "llama3", "tiny", "tiny_variant"})
    void rendersChatsWithKwargsLikeApplyChatTemplate(String id) {
        HfTokenizer tok = tokenizer(id);
        int thinkingOff = 0;
        for (JsonNode chat : expected(id).get("chats_with_kwargs")) {
            String what = id + " chat " + chat.get("name").asText() + " kwargs "
                    + chat.get("kwargs").asText();
            ChatTemplate template = chat.get("chat_template").isNull()
                    ? tok.chatTemplate().orElseThrow()
                    : ChatTemplate.compile(chat.get("chat_template").asText(), "kwargs.jinja");
            Map<String, Object> kwargs = TemplateKwargs.parse(chat.get("kwargs").asText());
            List<Map<String, Object>> messages = Fixtures.messages(chat.get("messages"));
            String text = chat.get("text").asText();
            assertEquals(text, tok.renderChat(messages, true, template, kwargs), what);
            assertArrayEquals(Fixtures.ints(chat.get("ids")), tok.encodeChat(messages, true, template, kwargs), what);
            if (text.endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n")) {
                thinkingOff++;
            }
        }
        // Qwen3 with enable_thinking=false: a plain user prompt and a conversation with a system message
        assertEquals(
                id.equals("qwen3") ? 2 : 0, thinkingOff, id + ": generation prompts closing an empty <think> block");
    }
}
