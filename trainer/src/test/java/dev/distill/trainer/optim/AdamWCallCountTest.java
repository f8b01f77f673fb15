package dev.distill.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill.model.Engines;
import dev.distill.model.OpProfiler;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The libtorch calls of one optimizer step (unscale fp16 gradients, clip their global norm, AdamW), counted by
 * libtorch's profiler: four calls whatever the number of parameters (the unscaling and clipping kernels, one fused
 * AdamW per weight-decay group) and the norm's copy to the host, where
 * per-parameter loops cost ~18 per parameter; a GPU pays ~30 us per call.
 */
class AdamWCallCountTest {
    private static final Engine ENGINE = Engines.pytorch();
    private static final int MATRICES = 24;
    private static final int VECTORS = 16;

    @TempDir
    Path tmp;

    @Test
    void aStepIsFourCallsWhateverTheNumberOfParameters() {
        int n = MATRICES + VECTORS;
        try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(m, AdamW.Config.withWeightDecay(0.1));
                GradClip clip = new GradClip(m);
                LossScaler scaler = new LossScaler(2.0, 2000)) {
            m.getEngine().setRandomSeed(3);
            Map<String, NDArray> params = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) { // 3 matrices, 2 vectors, ...: interleaved as a model's layers are
                Shape shape = i % 5 < 3 ? new Shape(8, 6) : new Shape(6);
                params.put("p" + i, m.randomNormal(0f, 1f, shape, DataType.FLOAT32));
            }
            params.values().forEach(p -> p.setRequiresGradient(true));
            List<String> ops = null;
            for (int s = 0; s < 3; s++) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning(); // closes this block's temporaries
                    Gradients.zero(params);
                    try (GradientCollector gc = ENGINE.newGradientCollector()) {
                        NDArray loss = null;
                        for (NDArray p : params.values()) {
                            NDArray t = p.square().sum();
                            loss = loss == null ? t : loss.add(t);
                        }
                        gc.backward(loss);
                    }
                    Map<String, NDArray> grads = Gradients.of(params); // as the trainer hands them over
                    float[] before = params.get("p0").toFloatArray();
                    Path trace = tmp.resolve("step" + s + ".json");
                    OpProfiler.start(); // what Trainer does: unscale (fp16), clip (global norm), step
                    assertTrue(scaler.unscale(grads.values()));
                    float norm = clip.globalNorm(List.copyOf(grads.values()), 1.0);
                    adam.step(params, grads, 1e-2);
                    OpProfiler.stop(trace);
                    assertTrue(norm > 1, "the gradients are clipped: norm " + norm);
                    assertFalse(java.util.Arrays.equals(before, params.get("p0").toFloatArray()), "the step moved p0");
                    ops = OpProfiler.topLevel(trace).stream()
                            .map(OpProfiler.Op::name)
                            .toList();
                }
            }
            System.out.println(
                    "clip + AdamW step over " + n + " parameters: " + ops.size() + " libtorch calls: " + ops);
            // the unscaling kernel (its inf/NaN flag is read without a call), the clipping kernel and the norm's copy
            // to
            // the host, one fused AdamW per weight-decay group
            assertEquals(List.of("forward", "forward", "aten::clone", "forward", "forward"), ops, n + " parameters");
            assertArrayEquals(new long[] {8, 6}, params.get("p0").getShape().getShape());
        }
    }
}
