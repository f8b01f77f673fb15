package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.distill.trainer.TrainOptions.Precision;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fp16 training keeps fp32 masters and a half-precision forward copy that follows them. */
class StudentWeightsTest {
    @TempDir
    Path tmp;

    @Test
    void theForwardCopyFollowsTheMasterWeights() {
        Path dir = TestModels.student(tmp.resolve("student"), 2);
        try (StudentWeights w = StudentWeights.load(dir, Precision.FP16, Device.cpu())) {
            Map<String, NDArray> master = w.masterParameters();
            NDArray embed = master.get("model.embed_tokens.weight");
            assertEquals(DataType.FLOAT32, embed.getDataType());
            NDArray half = w.forward().parameters().get("model.embed_tokens.weight");
            assertEquals(DataType.FLOAT16, half.getDataType());
            try (NDArray view = embed.stopGradient()) {
                view.addi(0.25f); // what an optimizer step does
            }
            w.afterUpdate();
            try (NDArray expected = embed.toType(DataType.FLOAT16, false)) {
                assertArrayEquals(expected.toFloatArray(), half.toFloatArray());
            }
            assertTrue(half.hasGradient(), "the forward copy takes the gradients");
        }
    }
}
