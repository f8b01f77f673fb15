package dev.distill.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.ShardSchema;
import dev.distill.trainer.SharedData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --data A:0.7,B:0.3}: parsing, the weighted draw, and an exact restart from a position. */
class MixedRowStreamTest {
    @Test
    void parsesWeightsAndKeepsPlainListsAndUriPorts() {
        DataMix plain = DataMix.parse(List.of("/runs/a", "hdfs://nn:8020", "/runs/b"));
        assertNull(plain.weights());
        assertEquals(List.of("/runs/a", "hdfs://nn:8020", "/runs/b"), plain.locations());
        DataMix mix = DataMix.parse(List.of("/runs/a:0.7", "hdfs://nn:8020/b:3e-1"));
        assertEquals(List.of("/runs/a", "hdfs://nn:8020/b"), mix.locations());
        assertArrayEquals(new double[] {0.7, 0.3}, mix.weights(), 1e-12);
        assertArrayEquals(
                new double[] {0.75, 0.25}, DataMix.parse(List.of("a:3", "b:1")).weights(), 1e-12);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> DataMix.parse(List.of("a:0.5", "b")));
        assertTrue(e.getMessage().startsWith("--data a:0.5,b: give every run a weight"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DataMix.parse(List.of("a:0", "b:1")));
        assertEquals("--data a:0: a mixing weight must be a positive number", e.getMessage());
    }

    private static List<String> draw(double[] weights, long seed, DataPosition start, int n) {
        List<SoftLabelData> sets = List.of(
                SoftLabelData.open(List.of(SharedData.fixedLengths().toString()), "--data"),
                SoftLabelData.open(List.of(SharedData.heldOut().toString()), "--data"));
        List<String> out = new ArrayList<>();
        try (MixedRowStream s = new MixedRowStream(sets, weights, List.of(ShardSchema.SAMPLE_ID), seed, 8, start)) {
            for (int i = 0; i < n; i++) {
                PositionedRow r = s.next();
                assertEquals(new DataPosition(0, start.row() + i), r.position());
                out.add(r.shard().runLocation().endsWith("fixed") ? "A" : "B");
            }
        }
        return out;
    }

    @Test
    void drawsByWeightAndRestartsExactly() {
        List<String> all = draw(new double[] {0.7, 0.3}, 5, DataPosition.START, 2000);
        long a = all.stream().filter("A"::equals).count();
        assertEquals(0.7, a / 2000.0, 0.03, "share of run A");
        assertEquals(all.subList(1234, 2000), draw(new double[] {0.7, 0.3}, 5, new DataPosition(0, 1234), 766));
    }
}
