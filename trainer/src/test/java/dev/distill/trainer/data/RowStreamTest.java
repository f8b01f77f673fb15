package dev.distill.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.ShardSchema;
import dev.distill.trainer.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The seeded data order, its exact restart from a position, and batching by token budget. */
class RowStreamTest {
    private static SoftLabelData data(Path dir) {
        return SoftLabelData.open(List.of(dir.toString()), "--data");
    }

    private static List<String> ids(SoftLabelData data, long seed, int buffer, long epochs, DataPosition start) {
        List<String> out = new ArrayList<>();
        try (RowStream s = RowStream.shuffled(data, List.of(ShardSchema.SAMPLE_ID), seed, buffer, epochs, start)) {
            for (PositionedRow r = s.next(); r != null; r = s.next()) {
                out.add(r.position().epoch() + "/" + r.position().row() + ":"
                        + r.row().sampleId());
            }
        }
        return out;
    }

    @Test
    void everyEpochIsASeededPermutationOfAllRows() {
        SoftLabelData data = data(SharedData.fixedLengths()); // 48 rows in 3 shards of 16
        List<String> a = ids(data, 7, 10, 2, DataPosition.START);
        assertEquals(96, a.size());
        Set<String> epoch0 = new HashSet<>();
        Set<String> epoch1 = new HashSet<>();
        for (int i = 0; i < 96; i++) {
            String[] parts = a.get(i).split(":");
            assertEquals((i / 48) + "/" + (i % 48), parts[0], "positions count rows within each epoch");
            (i < 48 ? epoch0 : epoch1).add(parts[1]);
        }
        assertEquals(48, epoch0.size());
        assertEquals(epoch0, epoch1);
        assertNotEquals(
                a.subList(0, 48).stream().map(s -> s.split(":")[1]).toList(),
                a.subList(48, 96).stream().map(s -> s.split(":")[1]).toList(),
                "each epoch has its own order");
        assertEquals(a, ids(data, 7, 10, 2, DataPosition.START), "same seed, same order");
        assertNotEquals(a, ids(data, 8, 10, 2, DataPosition.START), "another seed, another order");
    }

    @Test
    void aStreamStartedAtAPositionContinuesExactly() {
        SoftLabelData data = data(SharedData.fixedLengths());
        List<String> all = ids(data, 3, 10, 3, DataPosition.START);
        List<String> resumed = ids(data, 3, 10, 3, new DataPosition(1, 17));
        assertEquals(all.subList(48 + 17, all.size()), resumed);
        assertEquals(
                all.subList(96, all.size()), ids(data, 3, 10, 3, new DataPosition(1, 48)), "at the end of an epoch");
    }

    @Test
    void aBufferOfOneKeepsTheRowsOfEachShardInOrder() {
        SoftLabelData data = data(SharedData.fixedLengths());
        List<String> rows = ids(data, 5, 1, 1, DataPosition.START);
        for (int i = 1; i < rows.size(); i++) {
            if (i % 16 != 0) {
                int prev = Integer.parseInt(rows.get(i - 1).split(":")[1].split("-")[0]);
                int cur = Integer.parseInt(rows.get(i).split(":")[1].split("-")[0]);
                assertEquals(prev + 1, cur, "rows within a shard keep their order");
            }
        }
    }

    @Test
    void batchesRespectTheTokenBudgetAndResumeAtTheirPosition() {
        SoftLabelData data = data(SharedData.train()); // rows of 4 to 26 tokens
        RowLimits limits = new RowLimits(512, 256, data.topK(), "student");
        List<Long> sizes = new ArrayList<>();
        DataPosition third = null;
        List<List<String>> batches = new ArrayList<>();
        try (RowStream s = RowStream.shuffled(data, ShardSchema.COLUMNS, 1, 16, 1, DataPosition.START)) {
            TokenBudgetBatcher b = new TokenBudgetBatcher(s, limits, 20, data.rows());
            for (MicroBatch mb = b.next(); mb != null; mb = b.next()) {
                assertTrue(
                        mb.budgetTokens() <= 20 || mb.rows().size() == 1,
                        "over budget only alone: " + mb.budgetTokens());
                sizes.add(mb.budgetTokens());
                batches.add(mb.rows().stream().map(r -> r.row().sampleId()).toList());
                if (batches.size() == 2) {
                    third = b.position();
                }
            }
        }
        assertTrue(sizes.stream().anyMatch(n -> n > 20), "some row is longer than the budget");
        assertTrue(sizes.stream().anyMatch(n -> n <= 20), "most batches fit");
        try (RowStream s = RowStream.shuffled(data, ShardSchema.COLUMNS, 1, 16, 1, third)) {
            TokenBudgetBatcher b = new TokenBudgetBatcher(s, limits, 20, data.rows());
            assertEquals(
                    batches.get(2),
                    b.next().rows().stream().map(r -> r.row().sampleId()).toList());
        }
    }

    @Test
    void rowsAreCutToTheContextAndDroppedWhenNothingFits() {
        SoftLabelData data = data(SharedData.fixedLengths()); // prompt 6, completion 10
        try (RowStream s = RowStream.shuffled(data, ShardSchema.COLUMNS, 1, 1, 1, DataPosition.START)) {
            PositionedRow p = s.next();
            TrainRow cut = new RowLimits(512, 9, data.topK(), "student").admit(p);
            assertEquals(0, cut.first());
            assertEquals(4, cut.end(), "inputs of 6 + 4 - 1 = 9 positions");
            assertEquals(9, cut.inputLength());
            assertNull(new RowLimits(512, 5, data.topK(), "student").admit(p), "the prompt alone overruns the context");
        }
    }
}
