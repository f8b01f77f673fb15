package dev.distill.trainer.optim;

import static dev.distill.trainer.loss.TorchReference.assertClose;
import static dev.distill.trainer.loss.TorchReference.flat;
import static dev.distill.trainer.loss.TorchReference.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.model.Engines;
import dev.distill.trainer.loss.TorchReference;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AdamW against torch.optim.AdamW(foreach=False) for 3 steps, with and without weight decay. */
class AdamWTorchParityTest {
    private static final JsonNode REF = TorchReference.load("optim.json").get("adamw");
    private static final Engine ENGINE = Engines.pytorch();

    /** Makes each parameter's accumulated gradient equal the step's reference gradient. */
    private static void setGradients(NDManager m, Map<String, NDArray> params, int step) {
        Gradients.zero(params);
        JsonNode g = REF.get("grads").get(step);
        try (GradientCollector gc = ENGINE.newGradientCollector()) {
            NDArray w = params.get("w");
            NDArray b = params.get("b");
            gc.backward(w.mul(floats(m, g.get("w")))
                    .sum()
                    .add(b.mul(floats(m, g.get("b"))).sum()));
        }
    }

    private static LinkedHashMap<String, NDArray> params(NDManager m) {
        LinkedHashMap<String, NDArray> p = new LinkedHashMap<>();
        p.put("w", floats(m, REF.get("w0"))); // [3, 4]: decayed
        p.put("b", floats(m, REF.get("b0"))); // [4]: 1-D, never decayed
        p.put("frozen", m.ones(new Shape(2, 2))); // requires grad but no backward reaches it
        p.values().forEach(a -> a.setRequiresGradient(true));
        return p;
    }

    @Test
    void threeStepsMatchTorchWithAndWithoutWeightDecay() {
        for (JsonNode run : REF.get("runs")) {
            double wd = run.get("weight_decay").asDouble();
            try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                    AdamW adam = new AdamW(m, AdamW.Config.withWeightDecay(wd))) {
                LinkedHashMap<String, NDArray> p = params(m);
                for (int s = 0; s < 3; s++) {
                    setGradients(m, p, s);
                    adam.step(p, Gradients.of(p), REF.get("lrs").get(s).asDouble());
                    JsonNode want = run.get("steps").get(s);
                    assertClose(
                            flat(want.get("w")),
                            p.get("w").toFloatArray(),
                            1e-6,
                            1e-6,
                            "wd=" + wd + " step " + s + " w");
                    assertClose(
                            flat(want.get("b")),
                            p.get("b").toFloatArray(),
                            1e-6,
                            1e-6,
                            "wd=" + wd + " step " + s + " b");
                }
                AdamWState st = adam.state();
                assertEquals(3, st.step());
                for (String name : new String[] {"w", "b"}) {
                    assertClose(
                            flat(run.get("exp_avg").get(name)),
                            st.expAvg().get(name).toFloatArray(),
                            1e-7,
                            1e-6,
                            "exp_avg " + name);
                    assertClose(
                            flat(run.get("exp_avg_sq").get(name)),
                            st.expAvgSq().get(name).toFloatArray(),
                            1e-9,
                            1e-6,
                            "exp_avg_sq " + name);
                }
                // torch skips parameters whose grad is None: untouched, no moments.
                assertArrayEquals(new float[] {1, 1, 1, 1}, p.get("frozen").toFloatArray());
                assertNull(st.expAvg().get("frozen"));
                // Still leaves that require gradients, with no autograd history from the updates: a
                // non-leaf would not keep a .grad, so backward of sum(p) must leave exactly ones there.
                Gradients.zero(p);
                for (NDArray a : p.values()) {
                    assertTrue(JniUtils.requiresGrad((PtNDArray) a));
                    try (GradientCollector gc = ENGINE.newGradientCollector()) {
                        gc.backward(a.sum());
                    }
                    float[] ones = new float[(int) a.size()];
                    java.util.Arrays.fill(ones, 1f);
                    assertArrayEquals(ones, Gradients.of(a).toFloatArray());
                }
            }
        }
    }

    @Test
    void stateRoundTripResumesExactly() {
        JsonNode run = REF.get("runs").get(0);
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            LinkedHashMap<String, NDArray> p = params(m);
            AdamWState saved;
            try (AdamW first = new AdamW(
                    m, AdamW.Config.withWeightDecay(run.get("weight_decay").asDouble()))) {
                for (int s = 0; s < 2; s++) {
                    setGradients(m, p, s);
                    first.step(p, Gradients.of(p), REF.get("lrs").get(s).asDouble());
                }
                // What a checkpoint writer does: copy the state out before the optimizer goes away.
                Map<String, NDArray> m1 = new LinkedHashMap<>();
                Map<String, NDArray> m2 = new LinkedHashMap<>();
                first.state().expAvg().forEach((k, v) -> m1.put(k, m.create(v.toFloatArray(), v.getShape())));
                first.state().expAvgSq().forEach((k, v) -> m2.put(k, m.create(v.toFloatArray(), v.getShape())));
                saved = new AdamWState(first.stepCount(), m1, m2);
            }
            try (AdamW resumed = new AdamW(
                    m, AdamW.Config.withWeightDecay(run.get("weight_decay").asDouble()))) {
                resumed.loadState(saved, p);
                setGradients(m, p, 2);
                resumed.step(p, Gradients.of(p), REF.get("lrs").get(2).asDouble());
                assertEquals(3, resumed.stepCount());
                assertClose(flat(run.get("steps").get(2).get("w")), p.get("w").toFloatArray(), 1e-6, 1e-6, "resumed w");
                assertClose(flat(run.get("steps").get(2).get("b")), p.get("b").toFloatArray(), 1e-6, 1e-6, "resumed b");

                Map<String, NDArray> wrongShape = Map.of("w", m.zeros(new Shape(4, 3)));
                assertEquals(
                        "optimizer state: exp_avg of 'w' has shape (4, 3) but the parameter has (3, 4)",
                        assertThrows(
                                        IllegalArgumentException.class,
                                        () -> resumed.loadState(new AdamWState(1, wrongShape, wrongShape), p))
                                .getMessage());
                Map<String, NDArray> unknown = Map.of("lm_head", m.zeros(new Shape(4)));
                assertEquals(
                        "optimizer state: exp_avg names 'lm_head', which is not a parameter of this model",
                        assertThrows(
                                        IllegalArgumentException.class,
                                        () -> resumed.loadState(new AdamWState(1, unknown, unknown), p))
                                .getMessage());
            }
        }
    }

    /**
     * The moments follow the set of parameters that have a gradient: one that first gets a
     * gradient at step 2 starts from zero moments (with the shared step count), one that has none at
     * step 3 keeps its parameter and moments untouched, as torch skips {@code grad is None}.
     */
    @Test
    void parametersJoiningAndLeavingKeepTheirOwnMoments() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(m, AdamW.Config.withWeightDecay(0.1))) {
            LinkedHashMap<String, NDArray> p = new LinkedHashMap<>();
            p.put("a", m.create(new float[] {1, -2, 3, -4, 5, -6}, new Shape(2, 3))); // decayed
            p.put("b", m.create(new float[] {0.5f, -0.25f, 2})); // not decayed
            float[] gb = {0.3f, -0.7f, 0.01f};
            Map<String, NDArray> step1 = Map.of("a", m.create(new float[] {1, 1, -1, 2, 0.5f, -3}, new Shape(2, 3)));
            adam.step(p, step1, 0.1);
            Map<String, NDArray> step2 = new LinkedHashMap<>();
            step2.put("a", m.create(new float[] {-1, 2, 1, 0.5f, 0.25f, 1}, new Shape(2, 3)));
            step2.put("b", m.create(gb));
            adam.step(p, step2, 0.05);
            // b's first step, at the shared step count 2: m = (1 - b1) g, v = (1 - b2) g^2, no decay
            double bc1 = 1 - 0.9 * 0.9;
            double bc2 = 1 - 0.999 * 0.999;
            double[] wantB = new double[3];
            double[] wantM = new double[3];
            double[] wantV = new double[3];
            double[] b0 = {0.5, -0.25, 2};
            for (int i = 0; i < 3; i++) {
                wantM[i] = 0.1 * gb[i];
                wantV[i] = 0.001 * gb[i] * gb[i];
                wantB[i] = b0[i] - 0.05 / bc1 * wantM[i] / (Math.sqrt(wantV[i]) / Math.sqrt(bc2) + 1e-8);
            }
            assertClose(wantB, p.get("b").toFloatArray(), 1e-6, 1e-6, "b after its first step");
            assertClose(wantM, adam.state().expAvg().get("b").toFloatArray(), 1e-9, 1e-6, "exp_avg b");
            assertClose(wantV, adam.state().expAvgSq().get("b").toFloatArray(), 1e-12, 1e-6, "exp_avg_sq b");
            assertEquals(
                    java.util.List.of("a", "b"),
                    java.util.List.copyOf(adam.state().expAvg().keySet()));

            float[] a2 = p.get("a").toFloatArray();
            float[] ma2 = adam.state().expAvg().get("a").toFloatArray();
            float[] va2 = adam.state().expAvgSq().get("a").toFloatArray();
            float[] b2 = p.get("b").toFloatArray();
            adam.step(p, Map.of("b", m.create(gb)), 0.05);
            assertArrayEquals(a2, p.get("a").toFloatArray(), "a has no gradient at step 3");
            assertArrayEquals(ma2, adam.state().expAvg().get("a").toFloatArray(), "exp_avg a kept");
            assertArrayEquals(va2, adam.state().expAvgSq().get("a").toFloatArray(), "exp_avg_sq a kept");
            assertFalse(java.util.Arrays.equals(b2, p.get("b").toFloatArray()), "b stepped at step 3");
            assertEquals(3, adam.state().step());
        }
    }

    /** The fused kernel walks memory in order: a transposed (non-contiguous) parameter is refused, not mis-updated. */
    @Test
    void nonContiguousParameterIsRefused() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(m, AdamW.Config.withWeightDecay(0.1))) {
            NDArray w =
                    m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)).transpose(); // [3, 2] a view
            Map<String, NDArray> p = Map.of("w", w);
            Map<String, NDArray> g = Map.of("w", m.ones(new Shape(3, 2)));
            Exception e = assertThrows(ai.djl.engine.EngineException.class, () -> adam.step(p, g, 0.1));
            assertTrue(e.getMessage().contains("AdamW: a parameter or its gradient is not contiguous"), e.getMessage());
        }
    }

    @Test
    void weightDecayRuleIsRankTwoOrMore() {
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            assertTrue(AdamW.decays(m.zeros(new Shape(8, 8))));
            assertTrue(AdamW.decays(m.zeros(new Shape(2, 3, 4))));
            assertFalse(AdamW.decays(m.zeros(new Shape(8))));
            assertFalse(AdamW.decays(m.create(1f)));
        }
    }
}
