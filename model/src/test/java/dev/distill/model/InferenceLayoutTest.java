package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A model loaded for inference holds the same parameters, name by name and value by value, as one loaded to train. */
class InferenceLayoutTest {
    static Iterable<String> variants() {
        return ParityTest.variants();
    }

    @ParameterizedTest
    @MethodSource("variants")
    void sameParametersAsTheTrainingLayout(String variant) {
        try (CausalLM trained = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu());
                CausalLM run = CausalLM.loadForInference(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            Map<String, NDArray> expected = trained.parameters();
            Map<String, NDArray> got = run.parameters();
            assertEquals(expected.keySet(), got.keySet());
            for (Map.Entry<String, NDArray> e : expected.entrySet()) {
                NDArray g = got.get(e.getKey());
                assertEquals(e.getValue().getShape(), g.getShape(), e.getKey());
                assertArrayEquals(e.getValue().toFloatArray(), g.toFloatArray(), e.getKey());
            }
        }
    }
}
