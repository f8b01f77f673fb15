package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;

/**
 * What the decoder layers of a decode step read, made in one libtorch call: the token embeddings, each row's position
 * (its real slots before the new one: cumsum(mask) - 1 at slot past, what {@link Batching#positionIds} gives a
 * left-padded row), the rotary tables' cos/sin of those positions per head and the attention bias of the mask's slots
 * [0, past]. Through DJL these were 10 calls (the mask slice, embedding, rotary lookup, reshape, split, two wheres,
 * cast, reshape, where) plus the caller's {@code positions + 1}; each op is the one {@link CausalLM#hidden}'s path
 * issues ({@link RotaryTables#lookup}, {@link AttentionBias#of} at T = 1), gathers and selects only, so the arrays are
 * the same to the bit. Inference only.
 */
final class DecodeInputs implements AutoCloseable {
    /** TorchScript source: what torch.jit.script(...).code prints for the module (4 int64, 11 bool). */
    private static final String SOURCE =
            """
            class DecodeInputs(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def decode_inputs(self: __torch__.DecodeInputs,
                ids: Tensor,
                mask: Tensor,
                embed: Tensor,
                table: Tensor,
                rotated: Tensor,
                one: Tensor,
                zero: Tensor,
                visible: Tensor,
                masked: Tensor,
                past: int) -> List[Tensor]:
                b = torch.size(ids, 0)
                span = torch.add(past, 1)
                x = torch.embedding(embed, ids, -1, False, False)
                seen = torch.slice(mask, 1, 0, span)
                positions = torch.sub(torch.sum(seen, [1], True, dtype=4), 1)
                rows = torch.embedding(table, positions, -1, False, False)
                half = torch.floordiv(torch.size(table, 1), 4)
                cos_and_sin = torch.reshape(rows, [b, 1, 2, 2, half])
                cos = torch.where(rotated, torch.narrow(cos_and_sin, 2, 0, 1), one)
                sin = torch.where(rotated, torch.narrow(cos_and_sin, 2, 1, 1), zero)
                key_ok = torch.reshape(torch.to(seen, 11), [b, 1, 1, span])
                bias = torch.where(key_ok, visible, masked)
                return [x, cos, sin, bias]
            """;

    private final TorchScriptModule module;

    DecodeInputs(NDManager manager) {
        module = new TorchScriptModule("DecodeInputs", "decode_inputs", SOURCE, manager);
    }

    /**
     * ids [B, 1] int64 and mask [B, S >= past + 1] (int64, 1 = real slot) -> x [B, 1, H] (embed's dtype), cos and
     * signed sin [B, 1, Hq+2Hkv, 2, D/2] ({@link RotaryTables.Rotation} per head), bias [B, 1, 1, past + 1] ({@code
     * visible} where the mask is set, else {@code masked}), attached to ids' manager.
     *
     * @param table the rotary table [N, 2D] covering every position below past + 1
     * @param rotated [1, 1, Hq+2Hkv, 1, 1] bool, true for the query and key heads; {@code one}, {@code zero}: 0-dim
     *     in the table's dtype, the value heads' cos and sin
     */
    NDArray[] apply(
            NDArray ids,
            NDArray mask,
            NDArray embed,
            NDArray table,
            NDArray rotated,
            NDArray one,
            NDArray zero,
            NDArray visible,
            NDArray masked,
            int past) {
        return module.forwardList(
                ids.getManager(),
                IValue.from((PtNDArray) ids),
                IValue.from((PtNDArray) mask),
                IValue.from((PtNDArray) embed),
                IValue.from((PtNDArray) table),
                IValue.from((PtNDArray) rotated),
                IValue.from((PtNDArray) one),
                IValue.from((PtNDArray) zero),
                IValue.from((PtNDArray) visible),
                IValue.from((PtNDArray) masked),
                IValue.from((long) past));
    }

    @Override
    public void close() {
        module.close();
    }
}
