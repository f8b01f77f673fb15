package dev.distill.model;

import java.util.List;

/**
 * Rotary position embedding settings: {@code default}, {@code linear} (positions divided by
 * factor) or {@code llama3} (per-frequency rescaling with smooth interpolation), as transformers
 * computes them.
 */
public record RopeConfig(
        String type,
        double theta,
        double factor,
        double lowFreqFactor,
        double highFreqFactor,
        int originalMaxPositionEmbeddings) {

    /** The rope types this project implements. */
    public static final List<String> SUPPORTED = List.of("default", "linear", "llama3");

    /** Plain rotary embeddings with base {@code theta}. */
    public static RopeConfig plain(double theta) {
        return new RopeConfig("default", theta, 1, 0, 0, 0);
    }

    /** Linear position interpolation: inverse frequencies divided by {@code factor}. */
    public static RopeConfig linear(double theta, double factor) {
        return new RopeConfig("linear", theta, factor, 0, 0, 0);
    }

    /** Llama 3.1 scaling (Meta's defaults are factor 8, low 1, high 4, original 8192). */
    public static RopeConfig llama3(
            double theta,
            double factor,
            double lowFreqFactor,
            double highFreqFactor,
            int originalMaxPositionEmbeddings) {
        return new RopeConfig("llama3", theta, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }

    /**
     * The {@code headDim / 2} inverse frequencies, computed like transformers'
     * {@code _compute_*_parameters} (float32 results).
     */
    public float[] inverseFrequencies(int headDim) {
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            double f = 1.0f / (float) Math.pow(theta, exponent);
            switch (type) {
                case "linear":
                    f = f / factor;
                    break;
                case "llama3":
                    f = llama3(f);
                    break;
                default:
                    break;
            }
            inv[i] = (float) f;
        }
        return inv;
    }

    private double llama3(double f) {
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        double wavelen = 2 * Math.PI / f;
        if (wavelen < highFreqWavelen) {
            return f;
        }
        if (wavelen > lowFreqWavelen) {
            return f / factor;
        }
        double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * f / factor + smooth * f;
    }
}
