package dev.distill.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.trainer.loss.TorchReference;
import org.junit.jupiter.api.Test;

/** Schedules against HF transformers' get_*_schedule_with_warmup, step by step, past the end too. */
class LrScheduleTest {
    private static final JsonNode REF = TorchReference.load("optim.json").get("schedules");

    @Test
    void matchesHuggingFaceSchedulers() {
        int checked = 0;
        for (JsonNode c : REF) {
            String kind = c.get("kind").asText();
            double minRatio = kind.equals("cosine-min0.1") ? 0.1 : 0.0;
            LrSchedule s = new LrSchedule(
                    LrSchedule.Kind.parse(kind.replace("-min0.1", "")),
                    c.get("peak").asDouble(),
                    c.get("warmup").asLong(),
                    c.get("total").asLong(),
                    minRatio);
            JsonNode lrs = c.get("lrs");
            for (int step = 0; step < lrs.size(); step++) {
                assertEquals(
                        lrs.get(step).asDouble(),
                        s.lr(step),
                        1e-18,
                        kind + " warmup " + c.get("warmup") + " step " + step);
                checked++;
            }
        }
        assertEquals(2 * (13 + 9) * 2, checked);
    }

    @Test
    void badOptionsAreNamed() {
        assertEquals(
                "--lr-schedule: expected cosine, linear or constant, got 'step'",
                assertThrows(IllegalArgumentException.class, () -> LrSchedule.Kind.parse("step"))
                        .getMessage());
        assertEquals(
                "--min-lr-ratio applies to the cosine schedule only, not linear",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> new LrSchedule(LrSchedule.Kind.LINEAR, 1e-4, 0, 10, 0.1))
                        .getMessage());
        assertEquals(
                "--lr: expected a number >= 0, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new LrSchedule(LrSchedule.Kind.COSINE, -1, 0, 10, 0))
                        .getMessage());
    }
}
