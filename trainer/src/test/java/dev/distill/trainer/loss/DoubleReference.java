package dev.distill.trainer.loss;

/**
 * The losses of docs/losses.md written out in plain Java doubles, one position at a time: the
 * independent reference the NDArray implementation is checked against.
 */
final class DoubleReference {
    private DoubleReference() {}

    /** Teacher P and student Q over the support, tempered and normalised. */
    record Pair(double[] p, double[] q) {}

    static Pair support(double[] z, long[] ids, double[] lp, String tail, double t) {
        int k = ids.length;
        boolean bucket = tail.equals("bucket") && k < z.length;
        int s = bucket ? k + 1 : k;
        double[] tw = new double[s];
        double[] sw = new double[s];
        double mass = 0;
        for (int i = 0; i < k; i++) {
            tw[i] = Math.max(-1e4, Math.min(0, lp[i]));
            mass += Math.exp(tw[i]);
        }
        if (!bucket) {
            for (int i = 0; i < k; i++) {
                sw[i] = z[(int) ids[i]];
            }
        } else {
            tw[k] = Math.log(Math.max(1e-6, Math.min(1, 1 - mass)));
            double lse = logSumExp(z);
            boolean[] in = new boolean[z.length];
            for (int i = 0; i < k; i++) {
                sw[i] = z[(int) ids[i]] - lse;
                in[(int) ids[i]] = true;
            }
            double tailSum = 0;
            for (int j = 0; j < z.length; j++) {
                tailSum += in[j] ? 0 : Math.exp(z[j] - lse);
            }
            sw[k] = Math.log(tailSum);
        }
        return new Pair(softmax(tw, t), softmax(sw, t));
    }

    static double divergence(String loss, double beta, Pair d) {
        double[] p = d.p();
        double[] q = d.q();
        if (loss.equals("jsd") && beta == 0) {
            return divergence("forward-kl", 0, d);
        }
        if (loss.equals("jsd") && beta == 1) {
            return divergence("reverse-kl", 0, d);
        }
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            switch (loss) {
                case "forward-kl" -> sum += xlogx(p[i], q[i]);
                case "reverse-kl" -> sum += xlogx(q[i], p[i]);
                case "jsd" -> {
                    double m = beta * p[i] + (1 - beta) * q[i];
                    sum += beta * xlogx(p[i], m) + (1 - beta) * xlogx(q[i], m);
                }
                case "tvd" -> sum += 0.5 * Math.abs(p[i] - q[i]);
                default -> throw new IllegalArgumentException(loss);
            }
        }
        return sum;
    }

    /** T^2 * D for one position. */
    static double loss(double[] z, long[] ids, double[] lp, String loss, String tail, double t, double beta) {
        return t * t * divergence(loss, beta, support(z, ids, lp, tail, t));
    }

    static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : x) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }

    /** softmax(x / t). */
    static double[] softmax(double[] x, double t) {
        double[] scaled = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            scaled[i] = x[i] / t;
        }
        double lse = logSumExp(scaled);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.exp(scaled[i] - lse);
        }
        return out;
    }

    /** a * log(a / b), with 0 log 0 = 0. */
    private static double xlogx(double a, double b) {
        return a == 0 ? 0 : a * Math.log(a / b);
    }
}
