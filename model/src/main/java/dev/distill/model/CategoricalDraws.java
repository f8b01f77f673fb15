package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * N draws with replacement from each row's categorical distribution, on the distribution's device, exactly and
 * deterministically: the same ids for the same probabilities and uniforms on any device and in any batch.
 *
 * <p>The probabilities are made integers, {@code q_v = floor(p_v * 2^52)} (float32 times a power of two is exact, the
 * truncation too), so the cumulative sums are exact int64 sums whatever order a device adds them in (a float scan on
 * a GPU is not reproducible). Draw i of a row takes the first id whose cumulative sum exceeds {@code floor(u_i *
 * total)} ({@code u_i} in [0, 1), one IEEE double product): an id is drawn with probability {@code q_v / total}, within
 * {@code 2^-52} of {@code p_v / sum(p)}, and never one with {@code q_v = 0}. One libtorch call: cumsum, searchsorted and
 * a sort, which DJL's JNI lacks, run in a {@link TorchScriptModule}.
 */
public final class CategoricalDraws implements AutoCloseable {
    /** The integer scale of the probabilities: 2^52. */
    public static final double SCALE = 0x1p52;
    /** The name of this way of drawing, recorded in a sample run's configuration. */
    public static final String METHOD = "int64-inverse-cdf";

    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class Draws(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.Draws,
                probs: Tensor,
                u: Tensor) -> Tensor:
                return (self).draw(probs, u, )
            """
                    + drawMethod("Draws");

    /**
     * The TorchScript method {@code draw(probs [C, V] float32, u [C, N] float64) -> [C, N] int64} of the module class
     * {@code className}: these draws, for a module that makes them among other things ({@link DecodeHead}).
     */
    static String drawMethod(String className) {
        return """
                  def draw(self: __torch__.%s,
                    probs: Tensor,
                    u: Tensor) -> Tensor:
                    q = torch.to(torch.mul(probs, 4503599627370496.), 4)
                    cdf = torch.cumsum(q, 1)
                    total = torch.slice(cdf, 1, -1)
                    _0 = torch.floor(torch.mul(u, torch.to(total, 7)))
                    target = torch.minimum(torch.to(_0, 4), torch.sub(total, 1))
                    ids = torch.searchsorted(cdf, target, out_int32=False, right=True)
                    _1, _2 = torch.sort(ids, 1)
                    return _1
                """
                .formatted(className);
    }

    private final TorchScriptModule module;

    /** Loads the module on {@code manager}'s device; close it with (or before) the manager. */
    public CategoricalDraws(NDManager manager) {
        module = new TorchScriptModule("Draws", SOURCE, manager);
    }

    /**
     * The drawn ids of each row, ascending (a drawn id repeats once per draw).
     *
     * @param probs [C, V] float32, each row a distribution (its sum need not be exactly 1)
     * @param uniforms [C, N] float64 in [0, 1), on probs' device
     * @return [C, N] int64, attached to probs' manager
     */
    public NDArray draw(NDArray probs, NDArray uniforms) {
        return module.forward(probs, uniforms);
    }

    @Override
    public void close() {
        module.close();
    }
}
