package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.trainer.metrics.MetricsLog;
import dev.distill.trainer.metrics.MetricsPlot;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.png: a PNG of the documented size with the loss curve in the top panel and eval KL in the bottom one. */
class MetricsPlotTest {
    private static final int LOSS_RGB = 0x1f77b4;
    private static final int KL_RGB = 0xd62728;

    @TempDir
    Path tmp;

    @Test
    void plotsTheLossAndEvalKlCurves() throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (MetricsLog log = MetricsLog.open(tmp, -1)) {
            for (int step = 0; step <= 40; step++) {
                if (step > 0) {
                    ObjectNode l = json.createObjectNode();
                    l.put("step", step);
                    l.put("loss", 4.0 * Math.exp(-step / 15.0) + 0.3);
                    log.write(l);
                }
                if (step % 10 == 0) {
                    ObjectNode e = json.createObjectNode();
                    e.put("step", step);
                    e.put("eval", true);
                    e.put("kl", 2.0 - step / 25.0);
                    log.write(e);
                }
            }
        }
        Path png = MetricsPlot.write(tmp);
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, Arrays.copyOf(bytes, 8));
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(MetricsPlot.WIDTH, image.getWidth());
        assertEquals(MetricsPlot.HEIGHT, image.getHeight());
        int middle = image.getHeight() / 2;
        assertTrue(count(image, LOSS_RGB, 0, middle) > 200, "loss curve in the top panel");
        assertEquals(0, count(image, LOSS_RGB, middle, image.getHeight()), "no loss curve in the bottom panel");
        assertTrue(count(image, KL_RGB, middle, image.getHeight()) > 200, "eval KL curve in the bottom panel");
        assertTrue(count(image, 0x000000, 0, image.getHeight()) > 500, "axes, ticks and labels in black");
    }

    private static int count(BufferedImage image, int rgb, int fromY, int toY) {
        int n = 0;
        for (int y = fromY; y < toY; y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }
}
