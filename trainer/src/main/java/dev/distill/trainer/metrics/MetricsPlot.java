package dev.distill.trainer.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * {@code OUT/metrics.png}: the training loss per step (top panel) and the evaluation KL to the teacher
 * (bottom panel) against the step, with axes, ticks and labels, drawn with Java2D.
 */
public final class MetricsPlot {
    public static final String FILE = "metrics.png";
    public static final int WIDTH = 1000;
    public static final int HEIGHT = 700;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;
    private static final int TOP = 40;
    private static final int GAP = 80;
    private static final int BOTTOM = 60;
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    private static final Font TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private MetricsPlot() {}

    /** A plotted series: x = step (or round), y = value. */
    public record Series(String title, String yLabel, Color color, List<double[]> points) {}

    /** The unweighted loss terms a step line may carry, drawn beside the loss when a run has two or more. */
    private static final List<String> TERMS = List.of("kd", "ce", "feature", "attention", "value_relation");

    private static final List<Color> TERM_COLORS = List.of(
            new Color(0xff7f0e), new Color(0x2ca02c), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2));

    /** Reads {@code out/metrics.jsonl} and writes {@code out/metrics.png}. */
    public static Path write(Path out) {
        List<double[]> loss = new ArrayList<>();
        List<double[]> kl = new ArrayList<>();
        Map<String, List<double[]>> terms = new LinkedHashMap<>();
        for (JsonNode line : MetricsLog.read(out.resolve(MetricsLog.FILE))) {
            if (line.path("eval").asBoolean(false)) {
                kl.add(new double[] {
                    line.path("step").asDouble(), line.path("kl").asDouble()
                });
            } else if (line.path("loss").isNumber()) {
                loss.add(new double[] {
                    line.path("step").asDouble(), line.path("loss").asDouble()
                });
                for (String t : TERMS) {
                    if (line.path(t).isNumber()) {
                        terms.computeIfAbsent(t, k -> new ArrayList<>()).add(new double[] {
                            line.path("step").asDouble(), line.path(t).asDouble()
                        });
                    }
                }
            }
        }
        List<Series> top = new ArrayList<>();
        top.add(new Series("Training loss", "loss per token", new Color(0x1f77b4), loss));
        terms.values().removeIf(points -> points.stream().allMatch(p -> p[1] == 0)); // a term whose weight is 0
        if (terms.size() >= 2) {
            terms.forEach(
                    (name, points) -> top.add(new Series(name, "", TERM_COLORS.get(TERMS.indexOf(name)), points)));
        }
        return write(
                out.resolve(FILE),
                "step",
                top,
                new Series("Eval: KL(teacher || student)", "KL per token (nats)", new Color(0xd62728), kl));
    }

    /** Writes two panels sharing the x axis ({@code top} above {@code bottom}, x named {@code xLabel}) as PNG {@code file}. */
    public static Path write(Path file, String xLabel, Series top, Series bottom) {
        return write(file, xLabel, List.of(top), bottom);
    }

    /** As {@link #write(Path, String, Series, Series)}, with further series drawn on the top panel's axes. */
    public static Path write(Path file, String xLabel, List<Series> top, Series bottom) {
        BufferedImage image = render(xLabel, top, bottom);
        try {
            ImageIO.write(image, "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
        return file;
    }

    /** {@code top}: the first series names the panel; further ones are drawn on the same axes with a legend. */
    static BufferedImage render(String xLabel, List<Series> top, Series bottom) {
        System.setProperty("java.awt.headless", "true"); // servers and CI have no display
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            double[] xRange = xRange(top.get(0), bottom);
            int panelHeight = (HEIGHT - TOP - GAP - BOTTOM) / 2;
            panel(g, xLabel, top, xRange, TOP, panelHeight);
            panel(g, xLabel, List.of(bottom), xRange, TOP + panelHeight + GAP, panelHeight);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Both panels share the step axis. */
    private static double[] xRange(Series a, Series b) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Series s : List.of(a, b)) {
            for (double[] p : s.points()) {
                lo = Math.min(lo, p[0]);
                hi = Math.max(hi, p[0]);
            }
        }
        return Double.isInfinite(lo) ? new double[] {0, 1} : new double[] {lo, hi};
    }

    private static void panel(Graphics2D g, String xLabel, List<Series> all, double[] xRange, int y0, int h) {
        Series s = all.get(0);
        int x0 = LEFT;
        int w = WIDTH - LEFT - RIGHT;
        g.setColor(Color.BLACK);
        g.setFont(TITLE);
        g.drawString(s.title(), x0, y0 - 12);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x0, y0, w, h);
        g.setFont(LABEL);
        FontMetrics fm = g.getFontMetrics();
        g.drawString(xLabel, x0 + (w - fm.stringWidth(xLabel)) / 2, y0 + h + 40);
        drawVertical(g, s.yLabel(), 22, y0 + h / 2);
        List<double[]> pts = all.stream()
                .flatMap(x -> x.points().stream())
                .filter(p -> Double.isFinite(p[1]))
                .toList();
        if (pts.isEmpty()) {
            g.setColor(Color.GRAY);
            String msg = "no data";
            g.drawString(msg, x0 + (w - fm.stringWidth(msg)) / 2, y0 + h / 2);
            return;
        }
        double yLo = pts.stream().mapToDouble(p -> p[1]).min().orElseThrow();
        double yHi = pts.stream().mapToDouble(p -> p[1]).max().orElseThrow();
        double[] yTicks = Ticks.of(yLo, yHi);
        double[] xTicks = Ticks.of(xRange[0], xRange[1]);
        Axis xAxis = new Axis(xTicks[0], xTicks[xTicks.length - 1], x0, x0 + w);
        Axis yAxis = new Axis(yTicks[0], yTicks[yTicks.length - 1], y0 + h, y0);
        g.setFont(TICK);
        FontMetrics tfm = g.getFontMetrics();
        for (double t : xTicks) {
            int x = xAxis.pixel(t);
            gridLine(g, x, y0, x, y0 + h);
            String label = Ticks.format(t, xTicks);
            g.drawString(label, x - tfm.stringWidth(label) / 2, y0 + h + 16);
        }
        for (double t : yTicks) {
            int y = yAxis.pixel(t);
            gridLine(g, x0, y, x0 + w, y);
            String label = Ticks.format(t, yTicks);
            g.drawString(label, x0 - 6 - tfm.stringWidth(label), y + tfm.getAscent() / 2 - 1);
        }
        for (Series one : all) {
            curve(g, one, xAxis, yAxis);
        }
        if (all.size() > 1) {
            legend(g, all, x0 + w - 180, y0 + 10);
        }
    }

    /** A box in the panel's top-right corner naming each series in its colour. */
    private static void legend(Graphics2D g, List<Series> all, int x, int y) {
        g.setFont(TICK);
        int row = g.getFontMetrics().getHeight() + 2;
        g.setColor(Color.WHITE);
        g.fillRect(x, y, 170, row * all.size() + 8);
        g.setColor(Color.GRAY);
        g.drawRect(x, y, 170, row * all.size() + 8);
        for (int i = 0; i < all.size(); i++) {
            int ly = y + 4 + row * i + row / 2;
            g.setColor(all.get(i).color());
            g.fillRect(x + 8, ly - 2, 20, 4);
            g.setColor(Color.BLACK);
            g.drawString(i == 0 ? "loss (weighted total)" : all.get(i).title(), x + 34, ly + 4);
        }
    }

    private static void curve(Graphics2D g, Series s, Axis xAxis, Axis yAxis) {
        List<double[]> pts =
                s.points().stream().filter(p -> Double.isFinite(p[1])).toList();
        if (pts.isEmpty()) {
            return;
        }
        g.setColor(s.color());
        g.setStroke(new BasicStroke(2f));
        Path2D line = new Path2D.Double();
        for (int i = 0; i < pts.size(); i++) {
            double px = xAxis.exact(pts.get(i)[0]);
            double py = yAxis.exact(pts.get(i)[1]);
            if (i == 0) {
                line.moveTo(px, py);
            } else {
                line.lineTo(px, py);
            }
        }
        g.draw(line);
        if (pts.size() <= 60) {
            for (double[] p : pts) {
                g.fillOval(xAxis.pixel(p[0]) - 3, yAxis.pixel(p[1]) - 3, 7, 7);
            }
        }
    }

    private static void gridLine(Graphics2D g, int x1, int y1, int x2, int y2) {
        g.setColor(new Color(0xe0e0e0));
        g.drawLine(x1, y1, x2, y2);
        g.setColor(Color.BLACK);
    }

    private static void drawVertical(Graphics2D g, String text, int x, int yCenter) {
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, x, yCenter);
        g.drawString(text, x - g.getFontMetrics().stringWidth(text) / 2, yCenter);
        g.setTransform(saved);
    }

    /** A linear map from data values [lo, hi] to pixels [from, to]. */
    private record Axis(double lo, double hi, int from, int to) {
        double exact(double v) {
            double f = hi == lo ? 0.5 : (v - lo) / (hi - lo);
            return from + f * (to - from);
        }

        int pixel(double v) {
            return (int) Math.round(exact(v));
        }
    }

    /** "Nice" tick values (1, 2 or 5 times a power of ten) covering a range. */
    static final class Ticks {
        private Ticks() {}

        static double[] of(double lo, double hi) {
            if (hi <= lo) {
                double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
                lo -= pad;
                hi += pad;
            }
            double raw = (hi - lo) / 5;
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
            double first = Math.floor(lo / step) * step;
            double last = Math.ceil(hi / step) * step;
            int n = (int) Math.round((last - first) / step) + 1;
            double[] ticks = new double[n];
            for (int i = 0; i < n; i++) {
                ticks[i] = first + i * step;
            }
            return ticks;
        }

        static String format(double v, double[] ticks) {
            double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
            int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step) + 1e-9));
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
    }
}
