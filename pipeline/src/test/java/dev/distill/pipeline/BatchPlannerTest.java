package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchPlannerTest {
    static WorkItem item(long p, int promptLen, int maxNew) {
        return new WorkItem(p, 0, new int[promptLen], null, maxNew, p);
    }

    @Test
    void batchesStayWithinTheTokenBudgetAndGroupSimilarLengths() {
        List<WorkItem> items = new ArrayList<>();
        int[] lens = {5, 90, 7, 40, 88, 6, 41, 3, 95, 39};
        for (int i = 0; i < lens.length; i++) {
            items.add(item(i, lens[i], 10));
        }
        List<List<WorkItem>> batches = new BatchPlanner(300, 64).plan(items);
        int seen = 0;
        for (List<WorkItem> b : batches) {
            int longest = b.stream().mapToInt(WorkItem::tokenSpan).max().orElseThrow();
            assertTrue(longest * b.size() <= 300, "batch over budget: " + b.size() + " x " + longest);
            seen += b.size();
        }
        assertEquals(lens.length, seen);
        // sorted by span: short prompts together, long ones together
        assertEquals(
                List.of(7L, 0L, 5L, 2L, 9L, 3L),
                batches.get(0).stream().map(WorkItem::promptIndex).toList());
        assertEquals(
                List.of(8L),
                batches.get(batches.size() - 1).stream()
                        .map(WorkItem::promptIndex)
                        .toList());
    }

    @Test
    void anItemLongerThanTheBudgetRunsAloneAndBatchSizeIsCapped() {
        List<List<WorkItem>> b =
                new BatchPlanner(50, 2).plan(List.of(item(0, 100, 10), item(1, 4, 4), item(2, 4, 4), item(3, 4, 4)));
        assertEquals(List.of(2, 1, 1), b.stream().map(List::size).toList());
        assertEquals(0L, b.get(2).get(0).promptIndex());
    }
}
