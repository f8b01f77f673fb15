package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.model.ModelConfig;
import dev.distill.model.OpProfiler;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one decode step asks of the device, counted with libtorch's profiler on CPU: the ops per
 * layer and per step, and no host synchronisation. On a GPU each op is a launch (~30 µs through DJL,
 * see the GPU kit's README), so these counts bound decode speed there; the budgets below are today's
 * counts and a change that adds ops to the hot path must raise them on purpose. A TorchScript call counts as one op:
 * a decode step is model/DecodeInputs (embedding, positions off the mask, rotary tables, attention bias), one call for
 * every decoder layer and the final RMSNorm (model/DecodeStep's decode_stack, qwen3's per-head q/k norm included), the
 * LM head (a matmul, or oneDNN's packed linear in float32 on a CPU; a cast to float32 in float16) and model/DecodeHead (log-softmax, the sampler's choice, the labels of every --logits
 * kind with the entropy and the chosen token's log-prob, packed for one copy to the host).
 */
class DecodeStepCostTest {
    /** libtorch ops a decoder layer adds to a decode step, and the ops of a step outside the layers. */
    record Cost(int perLayer, int perStep) {}

    @TempDir
    Path tmp;

    @Test
    void greedyDecodeStepOps() throws IOException {
        assertWithin(cost("llama", DataType.FLOAT32, true), 0, 4);
    }

    @Test
    void sampledTopPDecodeStepOpsOnQwen3() throws IOException {
        assertWithin(cost("qwen3", DataType.FLOAT32, false), 0, 4);
    }

    /** The GPU's inference path: fp16 weights, fp32 norms, softmax and log-probs (qwen2: q/k/v biases). */
    @Test
    void halfPrecisionDecodeStepOpsOnQwen2() throws IOException {
        assertWithin(cost("qwen2_fp16_tied", DataType.FLOAT16, true), 0, 5);
    }

    static void assertWithin(Cost c, int perLayer, int perStep) {
        System.out.println("decode step: " + c);
        assertTrue(
                c.perLayer() <= perLayer && c.perStep() <= perStep,
                c + " exceeds the budget of " + perLayer + " ops per layer and " + perStep + " per step");
    }

    /** Decode-step ops of the fixture's architecture at 1 and 3 layers (random weights): the difference is the layers'. */
    Cost cost(String variant, DataType dtype, boolean greedy) throws IOException {
        int one = decodeStepOps(variant, dtype, 1, greedy);
        int three = decodeStepOps(variant, dtype, 3, greedy);
        assertEquals(0, (three - one) % 2, "layers must cost the same: " + one + " vs " + three);
        int perLayer = (three - one) / 2;
        return new Cost(perLayer, one - perLayer);
    }

    /** The ops of one decode step (all decode steps must have the same), asserting none reads a value back to the host. */
    int decodeStepOps(String variant, DataType dtype, int layers, boolean greedy) throws IOException {
        ModelConfig config = ModelConfig.load(Fixtures.model(variant)).toBuilder()
                .numLayers(layers)
                .build();
        List<WorkItem> items = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            items.add(new WorkItem(b, 0, new int[] {5, 6, 7, 8 + b, 9}, null, 6, WorkItem.rowSeed(0, b, 0)));
        }
        GenerationParams params =
                new GenerationParams(5, new TokenSampler(greedy, 0.8f, greedy ? 1f : 0.9f), new int[0]);
        Path trace = tmp.resolve(variant + "-" + dtype + "-" + layers + "-" + greedy + ".json");
        try (CausalLM model = CausalLM.randomInit(config, 1, dtype, Device.cpu());
                LocalTeacher teacher = new LocalTeacher(model)) {
            teacher.generate(items, params); // warm-up
            OpProfiler.start();
            teacher.generate(items, params);
            OpProfiler.stop(trace);
        }
        List<List<String>> steps = steps(trace);
        assertEquals(6, steps.size(), "prefill + 5 decode steps");
        List<String> step = steps.get(1);
        for (List<String> s : steps.subList(1, steps.size() - 1)) {
            assertEquals(step, s, "every decode step runs the same ops");
            for (String op : s) {
                assertTrue(
                        !op.equals("aten::item") && !op.equals("aten::_local_scalar_dense"),
                        "a decode step reads a value back to the host: " + s);
            }
        }
        if (layers == 1) {
            System.out.println(variant + " " + dtype + " decode step of one layer: " + step);
        }
        return step.size();
    }

    /**
     * Top-level ops of a profiler trace, split into forward passes at each embedding lookup: an op of its own in a
     * prefill (and op by op), inside the call that makes a decode step's inputs (model/DecodeInputs) otherwise.
     */
    static List<List<String>> steps(Path trace) {
        List<List<String>> steps = new ArrayList<>();
        for (OpProfiler.Op op : OpProfiler.topLevel(trace)) {
            if (op.name().equals("aten::embedding") || op.name().equals("decode_inputs")) {
                steps.add(new ArrayList<>());
            }
            if (!steps.isEmpty()) {
                steps.get(steps.size() - 1).add(op.name());
            }
        }
        return steps;
    }
}
