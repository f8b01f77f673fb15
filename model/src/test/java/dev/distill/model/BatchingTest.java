package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchingTest {
    @Test
    void leftPadsWithMaskAndGeneratePositions() {
        Batching.LeftPadded b = Batching.leftPad(List.of(new int[] {5, 6, 7}, new int[] {8}, new int[] {}), 9);
        assertEquals(3, b.rows());
        assertEquals(3, b.width());
        assertArrayEquals(new int[] {3, 1, 0}, b.lengths());
        assertArrayEquals(new long[] {5, 6, 7, 9, 9, 8, 9, 9, 9}, b.inputIds());
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1, 0, 0, 0}, b.attentionMask());
        assertArrayEquals(new long[] {0, 1, 2, 1, 1, 0, 1, 1, 1}, b.positionIds());
        try (NDManager m = Engines.pytorch().newBaseManager(Device.cpu())) {
            NDArray ids = b.inputIds(m);
            assertEquals(new Shape(3, 3), ids.getShape());
            assertArrayEquals(b.inputIds(), ids.toLongArray());
            assertArrayEquals(b.attentionMask(), b.attentionMask(m).toLongArray());
            assertArrayEquals(b.positionIds(), b.positionIds(m).toLongArray());
        }
    }
}
