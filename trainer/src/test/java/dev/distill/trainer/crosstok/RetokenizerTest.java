package dev.distill.trainer.crosstok;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.ShardMetadata;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TextSpans;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.NpmTokenizers;
import dev.distill.tokenizer.TokenBytes;
import dev.distill.trainer.data.DataPosition;
import dev.distill.trainer.data.PositionedRow;
import dev.distill.trainer.data.ShardRef;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A Llama 3 teacher's completions re-tokenized for a Qwen3 student and aligned by byte spans, on real tokenizers. */
class RetokenizerTest {
    static final List<String> TEXTS = List.of(
            "The quick brown fox jumps over the lazy dog. It's 3.14159, isn't it?",
            "def f(x):\n    return {\"a\": x ** 2}  # square\n\n\tif x != 0:\n        pass\n",
            "機械学習は楽しいです。我们在北京见面吧！한국어 텍스트도 있습니다.",
            "Emoji: 👩‍💻🚀🇯🇵 and 🙂🦜 parrots",
            "   leading, trailing   \n\n\n   \t\t  mixed    whitespace runs          ");

    private static HfTokenizer llama;
    private static HfTokenizer qwen;

    @BeforeAll
    static void load() {
        llama = HfTokenizer.load(NpmTokenizers.models("llama3"));
        qwen = HfTokenizer.load(NpmTokenizers.models("qwen3"));
    }

    @AfterAll
    static void close() {
        llama.close();
        qwen.close();
    }

    @Test
    void groupsPartitionBothTokenizationsAndCoverTheSameBytes() {
        int qwenEos = qwen.eosIds()[0];
        for (String text : TEXTS) {
            int[] teacher = append(llama.encode(text, false), llama.eosIds()[0]);
            AlignedRow r = new Retokenizer(qwen, qwenEos, 4096).align(row(teacher, "stop"));
            assertNotNull(r);
            assertArrayEquals(
                    append(qwen.encode(text, false), qwenEos), r.completionIds(), "student tokens + its eos: " + text);
            int[] tEnds = ends(llama.tokenBytes(), teacher);
            int[] sEnds = ends(qwen.tokenBytes(), r.completionIds());
            int s = 0;
            int t = 0;
            for (ByteAlignment.Group g : r.groups()) {
                assertEquals(s, g.studentFirst(), "contiguous student runs");
                assertEquals(t, g.teacherFirst(), "contiguous teacher runs");
                assertTrue(g.studentEnd() > g.studentFirst() && g.teacherEnd() > g.teacherFirst());
                assertEquals(
                        tEnds[g.teacherEnd() - 1], sEnds[g.studentEnd() - 1], "a group closes where both tokens end");
                for (int x = g.studentFirst(); x < g.studentEnd() - 1; x++) {
                    for (int y = g.teacherFirst(); y < g.teacherEnd() - 1; y++) {
                        assertTrue(sEnds[x] != tEnds[y], "no earlier common boundary inside a group");
                    }
                }
                s = g.studentEnd();
                t = g.teacherEnd();
            }
            assertEquals(r.completionIds().length, s, "every student token is in a group: " + text);
            assertEquals(teacher.length, t, "every teacher token is in a group: " + text);
            ByteAlignment.Group last = r.groups().get(r.groups().size() - 1);
            assertEquals(1, last.studentEnd() - last.studentFirst(), "the two stop tokens pair up");
            assertEquals(1, last.teacherEnd() - last.teacherFirst());
            double coverage = (double) r.groups().size() / r.completionIds().length;
            assertTrue(coverage > 0.5 && coverage <= 1, "coverage " + coverage + " on: " + text);
        }
    }

    @Test
    void englishWordsAlignOneToOneAndDigitRunsGroup() {
        Retokenizer retokenizer = new Retokenizer(qwen, qwen.eosIds()[0], 4096);
        String words = "The quick brown fox jumps over the lazy dog.";
        AlignedRow r = retokenizer.align(row(llama.encode(words, false), "length"));
        assertEquals(r.completionIds().length, r.groups().size(), "Llama 3 and Qwen3 split these words alike");
        // Llama 3 splits digits in runs of up to three (3 . 141 59), Qwen3 one by one (3 . 1 4 1 5 9)
        AlignedRow pi = retokenizer.align(row(llama.encode("3.14159", false), "length"));
        assertEquals(7, pi.completionIds().length);
        assertEquals(
                List.of(
                        new ByteAlignment.Group(0, 1, 0, 1),
                        new ByteAlignment.Group(1, 2, 1, 2),
                        new ByteAlignment.Group(2, 5, 2, 3),
                        new ByteAlignment.Group(5, 7, 3, 4)),
                pi.groups());
    }

    @Test
    void alignmentStopsWhereTheStudentTokenizerChangesTheText() {
        String text =
                "cafe\u0301 au lait"; // Qwen3's NFC normaliser turns e + U+0301 into é: its bytes differ from there on
        int[] teacher = llama.encode(text, false);
        AlignedRow r = new Retokenizer(qwen, qwen.eosIds()[0], 4096).align(row(teacher, "length"));
        int firstDiff = "caf".length();
        int[] tEnds = ends(llama.tokenBytes(), teacher);
        for (ByteAlignment.Group g : r.groups()) {
            assertTrue(tEnds[g.teacherEnd() - 1] <= firstDiff, "no group past the first changed byte");
        }
    }

    @Test
    void aCompletionCutInsideACharacterIsAlignedUpToIt() {
        int[] teacher = llama.encode("ok 🦜🦜", false);
        byte[] all = llama.tokenBytes().concat(teacher, false, null);
        int cut = teacher.length - 1; // drop the last token: the text now ends inside the second emoji
        int[] kept = Arrays.copyOf(teacher, cut);
        byte[] bytes = llama.tokenBytes().concat(kept, false, null);
        assertTrue(
                bytes.length < all.length && bytes.length > "ok 🦜".getBytes(StandardCharsets.UTF_8).length,
                "the emoji spans several Llama 3 tokens");
        AlignedRow r = new Retokenizer(qwen, qwen.eosIds()[0], 4096).align(row(kept, "length"));
        assertArrayEquals(qwen.encode("ok 🦜", false), r.completionIds(), "the student reads the whole characters");
        int[] tEnds = ends(llama.tokenBytes(), kept);
        assertEquals(
                "ok 🦜".getBytes(StandardCharsets.UTF_8).length,
                tEnds[r.groups().get(r.groups().size() - 1).teacherEnd() - 1]);
    }

    @Test
    void theStudentContextCutsTheCompletion() {
        String text = TEXTS.get(0);
        int prompt = qwen.encode("Say something.", true).length;
        AlignedRow r =
                new Retokenizer(qwen, qwen.eosIds()[0], prompt + 4).align(row(llama.encode(text, false), "length"));
        assertEquals(5, r.end(), "prompt + 4 inputs predict 5 completion tokens");
        assertTrue(r.groups().stream().allMatch(g -> g.studentEnd() <= 5));
    }

    /** A teacher row of these completion ids, with its spans and dummy top-1 labels, prompt "Say something.". */
    static PositionedRow row(int[] completion, String finish) {
        TokenBytes bytes = llama.tokenBytes();
        int[] ends = new int[completion.length];
        byte[] text = bytes.concat(completion, false, ends);
        float[] lps = new float[completion.length];
        Arrays.fill(lps, -0.5f);
        SoftLabelRow r = SoftLabelRow.of(
                        0,
                        0,
                        llama.encode("Say something.", false),
                        completion,
                        lps,
                        completion.clone(),
                        lps.clone(),
                        finish)
                .withText(new TextSpans("Say something.", text, ends));
        ShardMetadata meta =
                ShardMetadata.of(1, llama.vocabSize(), "c", "teacher", "t", llama.sha256(), "none", "corpus");
        return new PositionedRow(
                r, new ShardRef("run", new Path("/run/part-00000.parquet"), meta, 1), DataPosition.START);
    }

    private static int[] ends(TokenBytes bytes, int[] ids) {
        int[] ends = new int[ids.length];
        bytes.concat(ids, false, ends);
        return ends;
    }

    private static int[] append(int[] ids, int id) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = id;
        return out;
    }
}
