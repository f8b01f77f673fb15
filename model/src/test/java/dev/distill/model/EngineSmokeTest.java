package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class EngineSmokeTest {

    @Test
    void pytorchEngineLoadsOfflineAndComputes() {
        Engine engine = Engines.pytorch();
        assertEquals("PyTorch", engine.getEngineName());
        assertEquals("2.7.1", engine.getVersion());
        try (NDManager m = engine.newBaseManager(Device.cpu())) {
            NDArray a = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2)); // [2, 2]
            NDArray b = m.create(new float[] {5, 6, 7, 8}, new Shape(2, 2)); // [2, 2]
            NDArray c = a.matMul(b);
            assertEquals(DataType.FLOAT32, c.getDataType());
            assertArrayEquals(new float[] {19, 22, 43, 50}, c.toFloatArray());
            NDArray half = a.toType(DataType.FLOAT16, false).add(1f).toType(DataType.FLOAT32, false);
            assertArrayEquals(new float[] {2, 3, 4, 5}, half.toFloatArray());
        }
    }

    @Test
    void deviceOptionIsParsedAndCheckedAgainstWhatDjlSees() {
        assertEquals(Device.cpu(), Engines.device("cpu"));
        Device auto = Engines.device("auto");
        assertEquals(Engines.pytorch().getGpuCount() > 0 ? Device.gpu() : Device.cpu(), auto);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Engines.device("tpu"));
        assertEquals("--device: expected auto, cpu, gpu or gpu:N, got 'tpu'", bad.getMessage());
        if (Engines.pytorch().getGpuCount() == 0) {
            assertThrows(IllegalArgumentException.class, () -> Engines.device("gpu"));
        }
    }
}
