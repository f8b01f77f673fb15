package dev.distill.trainer.loss;

import static dev.distill.trainer.loss.TorchReference.assertClose;
import static dev.distill.trainer.loss.TorchReference.flat;
import static dev.distill.trainer.loss.TorchReference.floats;
import static dev.distill.trainer.loss.TorchReference.longs;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.model.Engines;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every loss x tail x temperature, CE and the dense k = V case against float64 PyTorch autograd. */
class DistillLossTorchParityTest {
    private static final JsonNode REF = TorchReference.load("losses.json");
    private static final Engine ENGINE = Engines.pytorch();

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode c : REF.get("cases")) {
            out.add(Arguments.of(
                    c.get("loss").asText(),
                    c.get("tail").asText(),
                    c.get("temperature").asDouble(),
                    c.get("beta").asDouble(),
                    c));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} tail={1} T={2} beta={3}")
    @MethodSource("cases")
    void lossAndGradientMatchTorch(String loss, String tail, double temperature, double beta, JsonNode c) {
        DistillLoss kd = DistillLoss.of(loss, tail, temperature, beta);
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray ids = longs(m, REF.get("topk_ids")); // [N, k]
            NDArray logprobs = floats(m, REF.get("topk_logprobs")); // [N, k]
            NDArray weights = floats(m, REF.get("weights")); // [N]
            Result r = run(m, z -> kd.perPosition(z, ids, logprobs, weights));
            assertClose(flat(c.get("per_position")), r.perPosition, 2e-5, 2e-5, "per-position loss");
            assertClose(flat(c.get("grad")), r.grad, 2e-5, 2e-5, "d loss / d logits");
            // Row 4 is padding with garbage soft labels: exactly zero loss and gradient.
            assertEquals(0f, r.perPosition[4]);
            for (int v = 0; v < 12; v++) {
                assertEquals(0f, r.grad[4 * 12 + v], "padding gradient");
            }
        }
    }

    @Test
    void crossEntropyMatchesTorch() {
        JsonNode ce = REF.get("cross_entropy");
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray labels = longs(m, REF.get("labels")); // [N]
            NDArray weights = floats(m, REF.get("weights")); // [N]
            Result r = run(m, z -> CrossEntropy.perPosition(z, labels, weights));
            assertClose(flat(ce.get("per_position")), r.perPosition, 2e-5, 2e-5, "per-position CE");
            assertClose(flat(ce.get("grad")), r.grad, 2e-5, 2e-5, "d CE / d logits");
        }
    }

    @Test
    void denseTopKEqualsFullKlAndBothTailsAgree() {
        JsonNode dense = REF.get("dense");
        try (NDManager m = ENGINE.newBaseManager(Device.cpu())) {
            NDArray ids = longs(m, dense.get("topk_ids")); // [N, V]
            NDArray logprobs = floats(m, dense.get("topk_logprobs")); // [N, V]
            NDArray ones = m.ones(new ai.djl.ndarray.types.Shape(ids.getShape().get(0))); // [N]
            for (JsonNode c : dense.get("cases")) {
                double t = c.get("temperature").asDouble();
                Result zero =
                        run(m, z -> DistillLoss.of("forward-kl", "zero", t, 0).perPosition(z, ids, logprobs, ones));
                Result bucket =
                        run(m, z -> DistillLoss.of("forward-kl", "bucket", t, 0).perPosition(z, ids, logprobs, ones));
                assertClose(flat(c.get("full_kl")), zero.perPosition, 2e-5, 2e-5, "zero-tail KL at T=" + t);
                double[] zeroAsDouble = new double[zero.perPosition.length];
                for (int i = 0; i < zeroAsDouble.length; i++) {
                    zeroAsDouble[i] = zero.perPosition[i];
                }
                assertClose(zeroAsDouble, bucket.perPosition, 0, 0, "bucket vs zero at k = V, T=" + t);
            }
        }
    }

    /** Per-position values and d(sum)/d(logits) of {@code f} at the fixture's student logits. */
    private static Result run(NDManager m, java.util.function.Function<NDArray, NDArray> f) {
        NDArray z = floats(m, REF.get("student_logits")); // [N, V]
        z.setRequiresGradient(true);
        float[] per;
        try (GradientCollector gc = ENGINE.newGradientCollector()) {
            NDArray perPosition = f.apply(z); // [N]
            per = perPosition.toFloatArray();
            gc.backward(perPosition.sum());
        }
        return new Result(per, z.getGradient().toFloatArray());
    }

    private record Result(float[] perPosition, float[] grad) {}
}
