package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;

/**
 * What a decode step keeps of its logits, in one libtorch call: the next token of each row (argmax, or sampled with
 * temperature and top-p by inverse CDF), the log-softmax's entries a soft label records (the top w, or N
 * {@link CategoricalDraws} from the distribution at a label temperature), the chosen token's log-prob and sum(p log
 * p) (minus the entropy), packed into one array for one copy to the host. The ops are those the op-by-op path issues
 * through DJL (the pipeline's TokenSampler and LabelCapture: 18 calls greedy, 35 with top-p), in the same order on
 * the same operands, so the results are the same to the bit. Inference only.
 */
public final class DecodeHead implements AutoCloseable {
    /** {@link #apply}'s sampler: argmax. */
    public static final int GREEDY = 0;
    /** {@link #apply}'s sampler: inverse CDF of softmax(logits / T). */
    public static final int SAMPLE = 1;
    /** {@link #apply}'s sampler: inverse CDF of the top-p nucleus of softmax(logits / T). */
    public static final int SAMPLE_TOP_P = 2;

    /** TorchScript source: what torch.jit.script(...).code prints for the module (4 int64, 6 float32, 7 float64). */
    private static final String SOURCE =
            """
            class DecodeHead(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def decode_head(self: __torch__.DecodeHead,
                logits: Tensor,
                u: Tensor,
                temperature: Tensor,
                top_p: Tensor,
                label_temperature: Tensor,
                sampler: int,
                width: int,
                draws: int,
                label_softened: bool) -> List[Tensor]:
                c = torch.size(logits, 0)
                flat = torch.reshape(logits, [c, -1])
                logp = torch.log_softmax(flat, 1)
                if torch.eq(sampler, 0):
                  chosen = torch.unsqueeze(torch.argmax(flat, 1), 1)
                else:
                  probs = torch.softmax(torch.div(flat, temperature), 1)
                  order = probs
                  if torch.eq(sampler, 2):
                    order = torch.flip(torch.argsort(probs, 1, False), [1])
                    sorted = torch.gather(probs, 1, order)
                    before = torch.sub(torch.cumsum(sorted, 1), sorted)
                    probs = torch.mul(sorted, torch.to(torch.lt(before, top_p), 6))
                  cdf = torch.cumsum(probs, 1)
                  target = torch.mul(torch.to(torch.slice(u, 1, 0, 1), 6), torch.slice(cdf, 1, -1))
                  choice = torch.sum(torch.to(torch.lt(cdf, target), 4), [1])
                  if torch.eq(sampler, 2):
                    choice = torch.squeeze(torch.gather(order, 1, torch.unsqueeze(choice, 1)), 1)
                  chosen = torch.unsqueeze(choice, 1)
                p = torch.exp(logp)
                chosen_logp = torch.gather(logp, 1, chosen)
                if torch.eq(draws, 0):
                  entry_logp, entry_ids = torch.topk(logp, width, 1, True, True)
                else:
                  proposal = p
                  if label_softened:
                    proposal = torch.softmax(torch.div(flat, label_temperature), 1)
                  entry_ids = (self).draw(proposal, torch.slice(u, 1, 1), )
                  entry_logp = torch.gather(logp, 1, entry_ids)
                plogp = torch.sum(torch.mul_(p, logp), [1], True)
                values = torch.cat([entry_logp, chosen_logp, plogp], 1)
                ids = torch.cat([entry_ids, chosen], 1)
                packed = torch.cat([torch.to(values, 7), torch.to(ids, 7)], 1)
                return [packed, chosen]
            """
                    + CategoricalDraws.drawMethod("DecodeHead");

    private final TorchScriptModule module;

    /** Loads the module on {@code manager}'s device; close it with (or before) the manager. */
    public DecodeHead(NDManager manager) {
        module = new TorchScriptModule("DecodeHead", "decode_head", SOURCE, manager);
    }

    /**
     * One step's choice and labels, attached to logits' manager: {@code packed} [C, 2w+3] float64 (each row: the w
     * entries' log-probs, the chosen token's log-prob, sum(p log p), then the w entries' ids and the chosen id; every
     * float32 and id exact in float64) and {@code chosen} [C, 1] int64, the next input. w = {@code width} for the top
     * entries, {@code draws} for N draws.
     *
     * @param logits [C, V] or [C, 1, V] float32
     * @param uniforms [C, 1 + draws] float64: the sampler's uniform in (0, 1] (a float32 value; unread by {@link
     *     #GREEDY}), then the label draws' in [0, 1); any array when neither reads it
     * @param temperature the sampler's temperature and {@code topP} its nucleus mass, 0-dim float32 (unread by {@link
     *     #GREEDY})
     * @param labelTemperature 0-dim float32: the distribution N draws come from is softmax(logits / it) when {@code
     *     labelSoftened}, else the log-softmax's own
     * @param draws N for N draws per row, 0 for the top {@code width}
     */
    public Output apply(
            NDArray logits,
            NDArray uniforms,
            NDArray temperature,
            NDArray topP,
            NDArray labelTemperature,
            int sampler,
            int width,
            int draws,
            boolean labelSoftened) {
        NDArray[] out = module.forwardList(
                logits.getManager(),
                IValue.from((PtNDArray) logits),
                IValue.from((PtNDArray) uniforms),
                IValue.from((PtNDArray) temperature),
                IValue.from((PtNDArray) topP),
                IValue.from((PtNDArray) labelTemperature),
                IValue.from((long) sampler),
                IValue.from((long) width),
                IValue.from((long) draws),
                IValue.from(labelSoftened));
        return new Output(out[0], out[1]);
    }

    /** {@link #apply}'s arrays. */
    public record Output(NDArray packed, NDArray chosen) {}

    @Override
    public void close() {
        module.close();
    }
}
