package dev.distill.trainer.optim;

import static dev.distill.trainer.loss.TorchReference.assertClose;
import static dev.distill.trainer.loss.TorchReference.flat;
import static dev.distill.trainer.loss.TorchReference.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.model.Engines;
import dev.distill.trainer.loss.TorchReference;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Global-norm clipping against torch.nn.utils.clip_grad_norm_. */
class GradClipTest {
    private static final JsonNode REF = TorchReference.load("optim.json").get("clip");

    private static List<NDArray> grads(NDManager m) {
        List<NDArray> out = new ArrayList<>();
        for (JsonNode g : REF.get("grads")) {
            out.add(floats(m, g));
        }
        return out;
    }

    @Test
    void matchesClipGradNorm() {
        for (JsonNode c : REF.get("cases")) {
            try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu());
                    GradClip clip = new GradClip(m)) {
                List<NDArray> g = grads(m);
                float norm = clip.globalNorm(g, c.get("max_norm").asDouble());
                assertEquals(c.get("norm").asDouble(), norm, 1e-6);
                for (int i = 0; i < g.size(); i++) {
                    assertClose(
                            flat(c.get("clipped").get(i)),
                            g.get(i).toFloatArray(),
                            1e-7,
                            1e-6,
                            "max_norm " + c.get("max_norm") + " grad " + i);
                }
            }
        }
    }

    @Test
    void nonFiniteNormIsReportedAndGradientsLeftAlone() {
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu());
                GradClip clip = new GradClip(m)) {
            List<NDArray> g = grads(m);
            g.add(m.create(new float[] {1f, Float.POSITIVE_INFINITY}));
            float[] before = g.get(0).toFloatArray();
            assertEquals(Float.POSITIVE_INFINITY, clip.globalNorm(g, 1.0));
            assertArrayEquals(before, g.get(0).toFloatArray());
            g.set(g.size() - 1, m.create(new float[] {Float.NaN, 0f}));
            assertTrue(Float.isNaN(clip.globalNorm(g, 1.0)));
            assertArrayEquals(before, g.get(0).toFloatArray());
        }
    }

    @Test
    void halfPrecisionGradientsAreMeasuredInFp32() {
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu());
                GradClip clip = new GradClip(m)) {
            // 300^2 overflows fp16 (max 65504); the norm must not.
            NDArray g = m.create(new float[] {300f, 400f}).toType(DataType.FLOAT16, false);
            assertEquals(500f, clip.globalNorm(List.of(g), 50.0), 1e-3);
            assertArrayEquals(
                    new float[] {30f, 40f}, g.toType(DataType.FLOAT32, false).toFloatArray(), 0.05f);
            assertEquals(
                    "--max-grad-norm: expected a positive number, got 0.0",
                    assertThrows(IllegalArgumentException.class, () -> clip.globalNorm(List.of(g), 0))
                            .getMessage());
        }
    }
}
