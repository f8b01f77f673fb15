package dev.distill.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Token bytes of the real Llama 3 and Qwen3 tokenizers rebuild every text byte for byte. */
class TokenBytesTest {
    static final List<String> TEXTS = List.of(
            "The quick brown fox jumps over the lazy dog. It's 3.14159, isn't it?",
            "def f(x):\n    return {\"a\": x ** 2}  # square\n\n\tif x != 0:\n        pass\n",
            "機械学習は楽しいです。我们在北京见面吧！한국어 텍스트도 있습니다.",
            "Emoji: 👩‍💻🚀🇯🇵 and combined é vs e\u0301, ok 🙂",
            "   leading, trailing   \n\n\n   \t\t  mixed    whitespace runs          ");

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3"})
    void concatenatedTokenBytesAreTheText(String id) {
        try (HfTokenizer tok = HfTokenizer.load(NpmTokenizers.models(id))) {
            TokenBytes bytes = tok.tokenBytes();
            for (String text : TEXTS) {
                int[] ids = tok.encode(text, false);
                int[] ends = new int[ids.length];
                byte[] rebuilt = bytes.concat(ids, false, ends);
                // Qwen3's tokenizer.json normalises to NFC (e + U+0301 becomes é): the bytes are the text the model saw
                String seen =
                        id.equals("qwen3") ? java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC) : text;
                assertArrayEquals(seen.getBytes(StandardCharsets.UTF_8), rebuilt, id + ": " + text);
                assertEquals(rebuilt.length, ends[ends.length - 1]);
                for (int t = 1; t < ends.length; t++) {
                    assertTrue(ends[t] > ends[t - 1], "every text token spans at least one byte");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen3"})
    void partialUtf8TokensAndSpecialTokens(String id) {
        try (HfTokenizer tok = HfTokenizer.load(NpmTokenizers.models(id))) {
            TokenBytes bytes = tok.tokenBytes();
            int[] ids = tok.encode("🇯🇵🦜", false);
            // at least one token of these rare emoji holds part of a UTF-8 sequence: its bytes alone do not decode
            assertTrue(Arrays.stream(ids).anyMatch(i -> !validUtf8(bytes.bytes(i))), "a partial UTF-8 token");
            int eos = tok.eosIds()[0];
            assertTrue(bytes.isSpecial(eos));
            byte[] withEos = bytes.concat(new int[] {ids[0], eos}, false, null);
            assertArrayEquals(bytes.bytes(ids[0]), withEos, "a special token spans no completion bytes");
            String spelled = new String(bytes.concat(new int[] {eos}, true, null), StandardCharsets.UTF_8);
            assertEquals(tok.idToToken(eos).orElseThrow(), spelled, "a prompt spells special tokens out");
            assertFalse(bytes.isSpecial(ids[0]));
        }
    }

    private static boolean validUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }
}
