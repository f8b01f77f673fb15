package dev.distill.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/** The one place that starts DJL's PyTorch engine (offline, no usage tracking) and picks the device and compute dtype. */
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
        String s = spec == null ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "auto":
                return engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            case "cpu":
                return Device.cpu();
            default:
                if (s.equals("gpu") || s.equals("cuda") || s.startsWith("gpu:") || s.startsWith("cuda:")) {
                    int idx = s.contains(":") ? Integer.parseInt(s.substring(s.indexOf(':') + 1)) : 0;
                    if (engine.getGpuCount() <= idx) {
                        throw new IllegalArgumentException("--device " + spec + ": DJL sees " + engine.getGpuCount()
                                + " GPU(s); use --device cpu or auto");
                    }
                    return Device.gpu(idx);
                }
                throw new IllegalArgumentException("--device: expected auto, cpu, gpu or gpu:N, got '" + spec + "'");
        }
    }

    /** The compute dtype of a --dtype option on {@code device}: auto is fp16 on a GPU, fp32 on CPU. */
    public static DataType computeDtype(String spec, Device device) {
        switch (spec.trim().toLowerCase(Locale.ROOT)) {
            case "auto":
                return device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
            case "fp32":
            case "float32":
                return DataType.FLOAT32;
            case "fp16":
            case "float16":
                return DataType.FLOAT16;
            case "bf16":
            case "bfloat16":
                throw new IllegalArgumentException(
                        "--dtype bf16: DJL's PyTorch engine has no bfloat16; bf16 checkpoints"
                                + " are widened on load, compute in fp16 (GPU) or fp32");
            default:
                throw new IllegalArgumentException("--dtype: expected auto, fp32 or fp16, got '" + spec + "'");
        }
    }
}
