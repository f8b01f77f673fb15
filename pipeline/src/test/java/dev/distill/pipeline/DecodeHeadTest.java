package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.LogitsSpec;
import dev.distill.model.CategoricalDraws;
import dev.distill.model.CausalLM;
import dev.distill.model.DecodeHead;
import dev.distill.model.Engines;
import dev.distill.testing.DecodeProperty;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A decode step's choice and labels in one call ({@link LabelCapture.Decoder}, model/DecodeHead) against the op-by-op
 * path it replaces ({@link TokenSampler.Draw#choose}, then {@link LabelCapture#capture} on the log-softmax): the same
 * tokens, log-probs, entries, counts, entropy and fidelity to the bit, for every sampler and {@code --logits} kind, on
 * logits with ties.
 */
class DecodeHeadTest {
    private static final int ROWS = 6;
    private static final int VOCAB = 300;

    @ParameterizedTest
    @CsvSource({
        "greedy, top-k:20",
        "greedy, top-p:0.9",
        "greedy, sample:16",
        "greedy, sample:16:0.7",
        "sample, top-k:20",
        "sample, sample:8:1.5",
        "top-p, top-k:5",
        "top-p, top-p:0.5",
        "top-p, sample:16",
        "top-p, sample:16:0.7"
    })
    void oneCallChoosesAndRecordsWhatTheOpByOpPathDoes(String sampling, String logits) {
        LogitsSpec spec = LogitsSpec.parse(logits);
        TokenSampler sampler = sampler(sampling);
        long[] seeds = new long[ROWS];
        int[] positions = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            seeds[i] = WorkItem.rowSeed(3, i, 0);
            positions[i] = 2 * i;
        }
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu());
                CategoricalDraws draws = new CategoricalDraws(m);
                DecodeHead head = new DecodeHead(m)) {
            LabelCapture capture = new LabelCapture(spec, VOCAB, draws);
            TokenSampler.Draw draw = sampler.on(m);
            LabelCapture.Decoder decoder = capture.decoder(head, draw, m);
            for (int step = 0; step < 3; step++) {
                NDArray z = m.create(logits(step), new Shape(ROWS, VOCAB)); // [C, V]
                NDArray chosen = draw.choose(z, seeds, step).expandDims(1); // [C, 1]
                List<String> ops = recorded(capture.capture(z, z.logSoftmax(1), chosen, seeds, positions, 0));
                LabelCapture.Decoded one = decoder.step(z.reshape(ROWS, 1, VOCAB), seeds, positions, step);
                assertEquals(ops, recorded(one.labels()), sampling + ", " + logits + ", step " + step);
                assertEquals(
                        Arrays.toString(chosen.toLongArray()),
                        Arrays.toString(one.chosen().toLongArray()));
                assertEquals(new Shape(ROWS, 1), one.chosen().getShape());
            }
        }
    }

    /**
     * {@code generate} with the model made under {@code -Ddistill.decode=ops} (each layer, the step's inputs and its
     * head op by op) against the default one-call step: the same tokens, finish reasons, label ids, sizes and counts,
     * log-probs within the layers' float tolerance (model's DecodeStepTest), rows of different lengths retired mid-way.
     */
    @ParameterizedTest
    @CsvSource({"greedy, top-k:20", "top-p, top-p:0.9", "sample, sample:16:0.7"})
    void generateOpByOpAgreesWithTheOneCallStep(String sampling, String logits) {
        TokenSampler sampler = sampler(sampling);
        GenerationParams params = new GenerationParams(LogitsSpec.parse(logits), sampler, new int[0]);
        List<WorkItem> items = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            int[] prompt = new int[2 + 3 * b];
            for (int t = 0; t < prompt.length; t++) {
                prompt[t] = 5 + 7 * t + b;
            }
            items.add(new WorkItem(b, 0, prompt, null, 3 + 2 * b, WorkItem.rowSeed(0, b, 0)));
        }
        List<TeacherOutput> oneCall = generate(items, params, null);
        List<TeacherOutput> ops = generate(items, params, "ops");
        for (int b = 0; b < items.size(); b++) {
            TeacherOutput x = oneCall.get(b);
            TeacherOutput y = ops.get(b);
            assertArrayEquals(y.completionIds(), x.completionIds(), "row " + b);
            assertEquals(y.finishReason(), x.finishReason());
            assertArrayEquals(y.topkIds(), x.topkIds());
            assertArrayEquals(y.labelSizes(), x.labelSizes());
            assertArrayEquals(y.labelCounts(), x.labelCounts());
            assertArrayEquals(y.completionLogprobs(), x.completionLogprobs(), 1e-4f);
            assertArrayEquals(y.topkLogprobs(), x.topkLogprobs(), 1e-4f);
        }
    }

    /** greedy, sample (T = 0.8) or top-p (T = 0.8, p = 0.9). */
    private static TokenSampler sampler(String sampling) {
        return switch (sampling) {
            case "greedy" -> new TokenSampler(true, 1f, 1f);
            case "sample" -> new TokenSampler(false, 0.8f, 1f);
            default -> new TokenSampler(false, 0.8f, 0.9f);
        };
    }

    private static List<TeacherOutput> generate(List<WorkItem> items, GenerationParams params, String decode) {
        String before = DecodeProperty.get();
        DecodeProperty.set(decode);
        try (LocalTeacher teacher =
                new LocalTeacher(CausalLM.load(Fixtures.model("llama"), DataType.FLOAT32, Device.cpu()))) {
            DecodeProperty.set(before);
            return teacher.generate(items, params);
        } finally {
            DecodeProperty.set(before);
        }
    }

    /** Logits of spread ~3, one row rounded to halves (ties in the top entries and the sort). */
    private static float[] logits(int step) {
        SplittableRandom rng = new SplittableRandom(11 + step);
        float[] z = new float[ROWS * VOCAB];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (rng.nextGaussian() * 3);
            if (i / VOCAB == 1) {
                z[i] = Math.round(z[i] * 2) / 2f;
            }
        }
        return z;
    }

    /** Every row's token, its log-prob's bits and recorded entries, as text. */
    private static List<String> recorded(LabelCapture.Step step) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            StringBuilder row = new StringBuilder();
            row.append(step.token(i)).append(' ').append(Float.floatToIntBits(step.tokenLogprob(i)));
            step.record(i, (ids, logprobs, counts, covered, entropy, kl) -> {
                int[] bits = new int[logprobs.length];
                for (int j = 0; j < bits.length; j++) {
                    bits[j] = Float.floatToIntBits(logprobs[j]);
                }
                row.append(Arrays.toString(ids))
                        .append(Arrays.toString(bits))
                        .append(Arrays.toString(counts))
                        .append(' ')
                        .append(Double.doubleToLongBits(covered))
                        .append(' ')
                        .append(Double.doubleToLongBits(entropy))
                        .append(' ')
                        .append(Double.doubleToLongBits(kl));
            });
            out.add(row.toString());
        }
        return out;
    }
}
