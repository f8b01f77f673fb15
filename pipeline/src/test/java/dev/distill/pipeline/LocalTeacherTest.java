package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.model.Batching;
import dev.distill.model.CausalLM;
import dev.distill.model.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The teacher's decode loop and scorer against transformers' greedy decoding and the model's own full forward. */
class LocalTeacherTest {
    static final String VARIANT = "llama";
    static CausalLM model;
    static LocalTeacher teacher;
    static List<WorkItem> prompts;
    static int[][] hfGreedy;
    static int[] eos;

    @BeforeAll
    static void load() {
        model = CausalLM.load(Fixtures.model(VARIANT), DataType.FLOAT32, Device.cpu());
        teacher = new LocalTeacher(model);
        JsonNode ref = Fixtures.reference(VARIANT);
        prompts = new ArrayList<>();
        hfGreedy = new int[ref.get("input_ids").size()][];
        for (int b = 0; b < hfGreedy.length; b++) {
            List<Integer> ids = new ArrayList<>();
            for (int t = 0; t < ref.get("input_ids").get(b).size(); t++) {
                if (ref.get("attention_mask").get(b).get(t).asInt() == 1) {
                    ids.add(ref.get("input_ids").get(b).get(t).asInt());
                }
            }
            prompts.add(new WorkItem(
                    b,
                    0,
                    ids.stream().mapToInt(Integer::intValue).toArray(),
                    null,
                    ref.get("greedy_new_tokens").asInt(),
                    WorkItem.rowSeed(0, b, 0)));
            hfGreedy[b] = toInts(ref.get("greedy").get(b));
        }
        eos = toInts(ref.get("eos_token_ids"));
    }

    @AfterAll
    static void close() {
        teacher.close();
    }

    static int[] toInts(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    static boolean isEos(int token) {
        return Arrays.stream(eos).anyMatch(e -> e == token);
    }

    static GenerationParams greedy(int k) {
        return new GenerationParams(k, new TokenSampler(true, 1f, 1f), eos);
    }

    @Test
    void greedyBatchEqualsTransformersGenerate() {
        List<TeacherOutput> out = teacher.generate(prompts, greedy(5));
        for (int b = 0; b < prompts.size(); b++) {
            TeacherOutput o = out.get(b);
            // transformers pads a finished row with pad ids after its eos; we stop at the eos
            int[] expected = hfGreedy[b];
            int stop = expected.length;
            for (int t = 0; t < expected.length && stop == expected.length; t++) {
                if (isEos(expected[t])) {
                    stop = t + 1;
                }
            }
            assertArrayEquals(Arrays.copyOf(expected, stop), o.completionIds(), "row " + b);
            assertEquals(isEos(expected[stop - 1]) ? "stop" : "length", o.finishReason(), "row " + b);
        }
        assertTrue(out.stream().anyMatch(o -> o.finishReason().equals("stop")), "fixture should stop one row early");
    }

    /**
     * A thread the JVM starts (a Spark task's) begins with libtorch's default, gradients recorded: the teacher turns
     * recording off for its own work (a packed model refuses it), the same tokens come out, and the thread's mode is
     * as it was after.
     */
    @Test
    void aThreadThatRecordsGradientsGeneratesAndScoresAndKeepsItsMode() throws Exception {
        List<TeacherOutput> here = teacher.generate(prompts, greedy(5));
        List<TeacherOutput> scoredHere = teacher.score(scoring(here), 5);
        Object[] there = new Object[3];
        Thread t = new Thread(() -> {
            Ops.setGradMode(true);
            List<TeacherOutput> generated = teacher.generate(prompts, greedy(5));
            there[0] = generated;
            there[1] = teacher.score(scoring(generated), 5);
            there[2] = Ops.isGradMode();
        });
        t.start();
        t.join();
        assertEquals(Boolean.TRUE, there[2], "the thread still records gradients after the teacher's work");
        @SuppressWarnings("unchecked")
        List<TeacherOutput> generated = (List<TeacherOutput>) there[0];
        @SuppressWarnings("unchecked")
        List<TeacherOutput> scored = (List<TeacherOutput>) there[1];
        for (int b = 0; b < prompts.size(); b++) {
            assertArrayEquals(here.get(b).completionIds(), generated.get(b).completionIds(), "row " + b);
            assertArrayEquals(
                    scoredHere.get(b).completionLogprobs(), scored.get(b).completionLogprobs(), "row " + b);
        }
    }

    @Test
    void recordedTopKEqualsAFullForwardAtEveryGeneratedPosition() {
        int k = 8;
        List<TeacherOutput> out = teacher.generate(prompts, greedy(k));
        double worst = 0;
        for (TeacherOutput o : out) {
            int[] prompt = o.item().promptIds();
            int n = o.completionIds().length;
            int[] seq = Arrays.copyOf(prompt, prompt.length + n);
            System.arraycopy(o.completionIds(), 0, seq, prompt.length, n);
            try (NDManager m = model.manager().newSubManager()) {
                Batching.LeftPadded one = Batching.leftPad(List.of(seq), 0);
                NDArray logp = model.forward(one.inputIds(m), one.positionIds(m), one.attentionMask(m), null)
                        .logSoftmax(2); // [1, T, V]
                for (int t = 0; t < n; t++) {
                    float[] row =
                            logp.get("0, " + (prompt.length - 1 + t) + ", :").toFloatArray();
                    int[] order = topK(row, k);
                    for (int j = 0; j < k; j++) {
                        assertEquals(order[j], o.topkIds()[t * k + j], "top-k id at position " + t);
                        worst = Math.max(worst, Math.abs(row[order[j]] - o.topkLogprobs()[t * k + j]));
                    }
                    worst = Math.max(worst, Math.abs(row[o.completionIds()[t]] - o.completionLogprobs()[t]));
                }
            }
        }
        assertTrue(worst < 1e-4, "max |logprob difference| " + worst);
    }

    @Test
    void scoringTheGreedyCompletionReproducesWhatGenerationRecorded() {
        int k = 6;
        List<TeacherOutput> generated = teacher.generate(prompts, greedy(k));
        List<TeacherOutput> scored = teacher.score(scoring(generated), k);
        for (int b = 0; b < scored.size(); b++) {
            TeacherOutput s = scored.get(b);
            TeacherOutput g = generated.get(b);
            assertEquals("scored", s.finishReason());
            assertArrayEquals(g.completionIds(), s.completionIds());
            assertArrayEquals(g.topkIds(), s.topkIds());
            for (int i = 0; i < g.topkLogprobs().length; i++) {
                assertEquals(g.topkLogprobs()[i], s.topkLogprobs()[i], 1e-4);
            }
            for (int i = 0; i < g.completionLogprobs().length; i++) {
                assertEquals(g.completionLogprobs()[i], s.completionLogprobs()[i], 1e-4);
            }
        }
    }

    @Test
    void scoringRowByRowEqualsScoringTheBatchInOneForward() {
        List<WorkItem> forced = new ArrayList<>();
        for (TeacherOutput g : teacher.generate(prompts, greedy(4))) {
            WorkItem w = g.item();
            forced.add(new WorkItem(w.promptIndex(), 0, w.promptIds(), g.completionIds(), 0, w.rowSeed()));
        }
        List<TeacherOutput> together = new LocalTeacher(model, Integer.MAX_VALUE).score(forced, 4);
        List<TeacherOutput> rowByRow = new LocalTeacher(model, 1).score(forced, 4); // one forward per row
        assertEquals(forced.size(), rowByRow.size());
        for (int b = 0; b < forced.size(); b++) {
            TeacherOutput a = together.get(b);
            TeacherOutput r = rowByRow.get(b);
            assertEquals(forced.get(b).promptIndex(), r.item().promptIndex(), "row " + b + " kept its place");
            assertArrayEquals(a.topkIds(), r.topkIds(), "row " + b);
            assertArrayEquals(a.topkLogprobs(), r.topkLogprobs(), 1e-5f, "row " + b);
            assertArrayEquals(a.completionLogprobs(), r.completionLogprobs(), 1e-5f, "row " + b);
        }
    }

    @Test
    void prefillingOnePositionAtATimeGeneratesWhatOneWholePrefillDoes() {
        List<TeacherOutput> whole = new LocalTeacher(model, Integer.MAX_VALUE).generate(prompts, greedy(4));
        List<TeacherOutput> chunked =
                new LocalTeacher(model, 1).generate(prompts, greedy(4)); // one position per forward
        for (int b = 0; b < prompts.size(); b++) {
            assertArrayEquals(whole.get(b).completionIds(), chunked.get(b).completionIds(), "row " + b);
            assertArrayEquals(whole.get(b).topkIds(), chunked.get(b).topkIds(), "row " + b);
            assertArrayEquals(whole.get(b).topkLogprobs(), chunked.get(b).topkLogprobs(), 1e-5f, "row " + b);
        }
    }

    @Test
    void forwardGroupsTakeTheLongestRowsFirstWithinTheTokenBudget() {
        List<WorkItem> rows = new ArrayList<>();
        for (int span : new int[] {3, 10, 4, 10, 6}) {
            rows.add(new WorkItem(rows.size(), 0, new int[span - 1], new int[1], 0, 0));
        }
        List<int[]> groups = LocalTeacher.forwardGroups(rows, 20);
        // spans 10, 10 | 6, 4, 3 (18 tokens at span 6) ; a row longer than the budget is a group of its own
        assertArrayEquals(new int[] {1, 3}, groups.get(0));
        assertArrayEquals(new int[] {4, 2, 0}, groups.get(1));
        assertEquals(2, groups.size());
        assertEquals(
                List.of(1, 3, 4, 2, 0),
                LocalTeacher.forwardGroups(rows, 5).stream().map(g -> g[0]).toList());
    }

    @Test
    void theTeacherRunsOneDnnPackedLinearLayers() {
        assertTrue(model.packed(), "LocalTeacher packs a CPU float32 model for inference");
    }

    @Test
    void sampledRowsDoNotDependOnTheirBatch() {
        GenerationParams sample = new GenerationParams(4, new TokenSampler(false, 3.0f, 1.0f), eos);
        List<TeacherOutput> together = teacher.generate(prompts, sample);
        for (int b = 0; b < prompts.size(); b++) {
            TeacherOutput alone =
                    teacher.generate(List.of(prompts.get(b)), sample).get(0);
            assertArrayEquals(alone.completionIds(), together.get(b).completionIds(), "row " + b);
        }
        // a different seed gives a different completion somewhere
        List<WorkItem> reseeded = prompts.stream()
                .map(w -> new WorkItem(
                        w.promptIndex(),
                        1,
                        w.promptIds(),
                        null,
                        w.maxNewTokens(),
                        WorkItem.rowSeed(0, w.promptIndex(), 1)))
                .toList();
        List<TeacherOutput> other = teacher.generate(reseeded, sample);
        boolean differs = false;
        for (int b = 0; b < prompts.size(); b++) {
            differs |=
                    !Arrays.equals(other.get(b).completionIds(), together.get(b).completionIds());
        }
        assertTrue(differs, "sample index must change the sampled completions");
    }

    /** Work items that score each generated completion after its prompt. */
    static List<WorkItem> scoring(List<TeacherOutput> generated) {
        List<WorkItem> forced = new ArrayList<>();
        for (TeacherOutput g : generated) {
            WorkItem w = g.item();
            forced.add(new WorkItem(w.promptIndex(), 0, w.promptIds(), g.completionIds(), 0, w.rowSeed()));
        }
        return forced;
    }

    static int[] topK(float[] row, int k) {
        Integer[] idx = new Integer[row.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(row[b], row[a]));
        int[] r = new int[k];
        for (int i = 0; i < k; i++) {
            r[i] = idx[i];
        }
        return r;
    }
}
