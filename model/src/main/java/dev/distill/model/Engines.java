package dev.distill.model;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** The one place that starts DJL's PyTorch engine: offline, no usage tracking, and picks the device. */
public final class Engines {
    private Engines() {}

    /**
     * Forces DJL offline (no model-zoo or native-library downloads, no tracking call) before the
     * engine class loads. The launcher, Surefire and .ci/run also export DJL_OFFLINE and
     * OPT_OUT_TRACKING; these properties cover embedders who call us without them.
     */
    public static void forceOffline() {
        System.setProperty("offline", "true");
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
    }

    /** The PyTorch engine, started offline. */
    public static Engine pytorch() {
        forceOffline();
        return Engine.getEngine("PyTorch");
    }

    /**
     * Resolves a --device option: "cpu", "gpu" (first GPU; error if none), "gpu:N", or "auto" (GPU if
     * DJL sees one, CPU otherwise).
     */
    public static Device device(String spec) {
        Engine engine = pytorch();
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        switch (s) {
            case "auto":
                return engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            case "cpu":
                return Device.cpu();
            default:
                if (s.equals("gpu") || s.equals("cuda") || s.startsWith("gpu:") || s.startsWith("cuda:")) {
                    int idx = s.contains(":") ? Integer.parseInt(s.substring(s.indexOf(':') + 1)) : 0;
                    if (engine.getGpuCount() <= idx) {
                        throw new IllegalArgumentException("--device " + spec + ": DJL sees "
                                + engine.getGpuCount() + " GPU(s); use --device cpu or auto");
                    }
                    return Device.gpu(idx);
                }
                throw new IllegalArgumentException("--device: expected auto, cpu, gpu or gpu:N, got '" + spec + "'");
        }
    }
}
