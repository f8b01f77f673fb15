package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a forward pass records besides its output, for chosen decoder layers: the hidden state after
 * the layer (the residual stream, before the final norm), the layer's attention probabilities and its
 * value vectors. Passed to {@link CausalLM#hidden(NDArray, NDArray, NDArray, KvCache, LayerTaps)};
 * a forward without taps records nothing and costs nothing extra. A forward asked for any layer's
 * attention computes the explicit float32 softmax at every layer instead of the fused kernel.
 *
 * <p>The recorded arrays are attached to the inputs' manager (and the caller's NDScope) like the
 * forward's result, and stay in the autograd graph while gradients are recorded.
 */
public final class LayerTaps {
    private final boolean[] hiddenAt;
    private final boolean[] attentionAt;
    private final boolean[] valuesAt;
    private final Map<Integer, NDArray> hidden = new TreeMap<>();
    private final Map<Integer, NDArray> attention = new TreeMap<>();
    private final Map<Integer, NDArray> values = new TreeMap<>();

    /**
     * @param layers the model's number of decoder layers
     * @param hiddenLayers layers whose output hidden state [B, T, H] is recorded
     * @param attentionLayers layers whose attention probabilities [B, Hq, T, S] float32 are recorded
     * @param valueLayers layers whose values [B, Hkv, T, D] (the new positions' values) are recorded
     * @throws IllegalArgumentException for a layer index outside [0, layers)
     */
    public LayerTaps(int layers, int[] hiddenLayers, int[] attentionLayers, int[] valueLayers) {
        hiddenAt = mark(layers, hiddenLayers, "hidden");
        attentionAt = mark(layers, attentionLayers, "attention");
        valuesAt = mark(layers, valueLayers, "values");
    }

    private static boolean[] mark(int layers, int[] chosen, String what) {
        boolean[] at = new boolean[layers];
        for (int i : chosen) {
            if (i < 0 || i >= layers) {
                throw new IllegalArgumentException(
                        what + " tap at layer " + i + ": the model has layers 0.." + (layers - 1));
            }
            at[i] = true;
        }
        return at;
    }

    /** The hidden state after decoder layer {@code layer}: [B, T, H] in the model's dtype. */
    public NDArray hidden(int layer) {
        return recorded(hidden, layer, "hidden state");
    }

    /** Layer {@code layer}'s attention probabilities: [B, Hq, T, S] float32 (S = cached + new positions). */
    public NDArray attention(int layer) {
        return recorded(attention, layer, "attention");
    }

    /** Layer {@code layer}'s value vectors of the new positions: [B, Hkv, T, D] in the model's dtype. */
    public NDArray values(int layer) {
        return recorded(values, layer, "values");
    }

    private static NDArray recorded(Map<Integer, NDArray> m, int layer, String what) {
        NDArray a = m.get(layer);
        if (a == null) {
            throw new IllegalStateException("no " + what + " was recorded for layer " + layer);
        }
        return a;
    }

    boolean wantsHidden(int layer) {
        return hiddenAt[layer];
    }

    boolean wantsAttention(int layer) {
        return attentionAt[layer];
    }

    /** Whether any layer's attention probabilities are asked for (the forward then computes them explicitly). */
    boolean wantsAnyAttention() {
        for (boolean a : attentionAt) {
            if (a) {
                return true;
            }
        }
        return false;
    }

    boolean wantsValues(int layer) {
        return valuesAt[layer];
    }

    /** Layers this forward must run at: the taps' layer count must be the model's. */
    int layers() {
        return hiddenAt.length;
    }

    /** Records a layer's output (the forward keeps it out of the layer's NDScope, as any layer output). */
    void recordHidden(int layer, NDArray x) {
        hidden.put(layer, x);
    }

    /** Records a layer's attention and takes it out of the layer's NDScope so it outlives it; likewise values. */
    void recordAttention(int layer, NDArray probs) {
        NDScope.unregister(probs);
        attention.put(layer, probs);
    }

    void recordValues(int layer, NDArray v) {
        NDScope.unregister(v);
        values.put(layer, v);
    }

    /** Whether {@code x} is a recorded hidden state (the forward must not close it). */
    boolean holds(NDArray x) {
        return hidden.values().stream().anyMatch(a -> a == x);
    }

    /** Inside the forward's NDScope, before it closes: takes every recorded array out of it. */
    void detach() {
        for (Map<Integer, NDArray> m : Arrays.asList(hidden, attention, values)) {
            m.values().forEach(NDScope::unregister);
        }
    }

    /** After the forward: every recorded array joins {@code target} and the caller's NDScope. */
    void adopt(NDManager target) {
        for (Map<Integer, NDArray> m : Arrays.asList(hidden, attention, values)) {
            for (NDArray a : m.values()) {
                a.attach(target);
                NDScope.register(a);
            }
        }
    }
}
