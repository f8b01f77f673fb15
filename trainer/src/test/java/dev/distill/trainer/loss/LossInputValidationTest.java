package dev.distill.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.Engines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad shapes, dtypes and options fail with a message that names the tensor or option. */
class LossInputValidationTest {

    private static void fails(String message, Executable e) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, e).getMessage());
    }

    @Test
    void tensorsAreCheckedByName() {
        DistillLoss kd = DistillLoss.of("forward-kl", "bucket", 1, 0.5);
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            var z = m.zeros(new Shape(5, 10)); // [N, V]
            var ids = m.zeros(new Shape(5, 3), DataType.INT64); // [N, k]
            var lp = m.zeros(new Shape(5, 3)); // [N, k]
            var w = m.ones(new Shape(5)); // [N]
            fails(
                    "student_logits: expected shape [N, V], got (5, 10, 1)",
                    () -> kd.perPosition(z.reshape(5, 10, 1), ids, lp, w));
            fails(
                    "topk_ids: expected shape [5, k], got (4, 3)",
                    () -> kd.perPosition(z, m.zeros(new Shape(4, 3), DataType.INT64), lp, w));
            fails(
                    "topk_ids: k must be in [1, 10] (the vocabulary), got 11",
                    () -> kd.perPosition(z, m.zeros(new Shape(5, 11), DataType.INT64), m.zeros(new Shape(5, 11)), w));
            fails("topk_ids: expected int32 or int64 token ids, got float32", () -> kd.perPosition(z, lp, lp, w));
            fails(
                    "topk_logprobs: expected shape (5, 3) (like topk_ids), got (5, 2)",
                    () -> kd.perPosition(z, ids, m.zeros(new Shape(5, 2)), w));
            fails("weights: expected shape [5], got (5, 1)", () -> kd.perPosition(z, ids, lp, w.reshape(5, 1)));
            fails(
                    "student_logits: expected a floating-point tensor, got int64",
                    () -> kd.perPosition(ids.reshape(5, 3), ids, lp, w));
            fails("completion_ids: expected shape [5], got (5, 3)", () -> CrossEntropy.perPosition(z, ids, w));
            fails(
                    "step token count: expected a positive number of real positions, got 0.0",
                    () -> Reduction.perToken(w, 0));
        }
    }

    @Test
    void optionsAreCheckedByFlag() {
        fails(
                "--loss: expected forward-kl, reverse-kl, jsd, tvd or sampled-rkl, got 'kl'",
                () -> DistillLoss.of("kl", "zero", 1, 0.5));
        fails("--tail: expected zero or bucket, got 'none'", () -> DistillLoss.of("jsd", "none", 1, 0.5));
        fails("--kd-temperature: expected a positive number, got 0.0", () -> DistillLoss.of("tvd", "zero", 0, 0.5));
        fails("--beta: expected a value in [0, 1], got 1.5", () -> DistillLoss.of("jsd", "zero", 1, 1.5));
        fails(
                "loss weights: expected finite kd weight >= 0 and --ce-weight >= 0, not both 0; got kd 0.0, ce 0.0",
                () -> new DistillObjective(null, 0, 0));
        fails("loss weights: kd weight 1.0 needs a distillation loss", () -> new DistillObjective(null, 1, 0));
        assertEquals(TailMode.BUCKET, TailMode.parse(" Bucket "));
        assertEquals(
                "reverse-kl",
                DistillLoss.of("REVERSE-KL", "zero", 1, 0.5).divergence().cliName());
    }
}
