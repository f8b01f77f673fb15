package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.testing.CliRun;
import dev.distill.trainer.metrics.MetricsLog;
import dev.distill.trainer.metrics.MetricsPlot;
import dev.distill.trainer.optim.LrSchedule;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop end to end through the CLI: gradients flow, one metrics line per step, the LR schedule. */
class TrainLoopTest {
    @TempDir
    Path tmp;

    @Test
    void lossFallsAndEveryStepFollowsTheSchedule() throws IOException {
        Path student = TestModels.student(tmp.resolve("student"), 7);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                SharedData.train().toString(),
                "--out",
                out.toString(),
                "--steps",
                "12",
                "--batch-tokens",
                "256",
                "--lr",
                "1e-2",
                "--warmup-steps",
                "3",
                "--schedule",
                "cosine",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> lines = MetricsLog.read(out.resolve(MetricsLog.FILE));
        assertEquals(12, lines.size());
        LrSchedule schedule = new LrSchedule(LrSchedule.Kind.COSINE, 1e-2, 3, 12, 0);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode l = lines.get(i);
            assertEquals(i + 1, l.get("step").asLong());
            assertEquals(schedule.lr(i), l.get("lr").asDouble(), 1e-12, "lr of step " + (i + 1));
            assertTrue(l.get("tokens").asLong() > 0);
        }
        double first =
                (lines.get(0).get("loss").asDouble() + lines.get(1).get("loss").asDouble()) / 2;
        double last = (lines.get(10).get("loss").asDouble()
                        + lines.get(11).get("loss").asDouble())
                / 2;
        System.out.printf("loss steps 1-2 %.4f, steps 11-12 %.4f%n", first, last);
        assertTrue(last < 0.85 * first, "loss should fall: steps 1-2 " + first + ", steps 11-12 " + last);
        BufferedImage png = ImageIO.read(out.resolve(MetricsPlot.FILE).toFile());
        assertEquals(MetricsPlot.WIDTH, png.getWidth());
        assertEquals(MetricsPlot.HEIGHT, png.getHeight());
    }
}
