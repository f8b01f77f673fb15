package dev.distill.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.model.ParameterLayout.Param;
import dev.distill.model.ParameterLayout.Part;
import dev.distill.model.safetensors.SafetensorsWriter;
import dev.distill.model.safetensors.TensorCopy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A decoder-only language model (llama, mistral, qwen2, qwen3) as a plain map of parameter
 * NDArrays on DJL's PyTorch engine, with a forward pass that matches transformers. Parameters use
 * Hugging Face names except two fused ones per layer ({@code self_attn.qkv_proj},
 * {@code mlp.gate_up_proj}, see {@link ParameterLayout}); {@link #save} writes them back under
 * the HF names.
 */
public final class CausalLM implements AutoCloseable {
    /**
     * Whether attention runs in libtorch's fused kernel ({@link FusedAttention}, also under autograd);
     * {@code -Ddistill.attention=explicit} computes the float32 softmax explicitly instead (to compare).
     */
    private static final boolean FUSED = !"explicit".equals(System.getProperty("distill.attention"));

    /**
     * How {@link #packForInference} multiplies: {@code -Ddistill.linear=matmul} (read when packing) keeps the matmul
     * on the weights as they are (to compare, or where oneDNN misbehaves).
     */
    private static final String LINEAR_PROPERTY = "distill.linear";

    /** What a forward that records gradients on a packed model says. */
    static final String PACKED_GRAD_MODE = "this model's linear layers are packed for inference"
            + " (CausalLM.packForInference): it cannot record gradients (the packed weights are copies, their"
            + " originals released); load the model again, unpacked, to train it";

    private static final int INIT_CHUNK = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModelConfig config;
    private final DataType dtype;
    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> params;
    private final List<Param> layout;
    private final NDArray embed;
    private final NDArray finalNorm;
    private final Linear lmHead;
    private final DecoderLayer[] layers;
    private final DecoderLayer.Constants constants;
    private final RotaryTables rope;
    private final FusedAttention fused;
    private final RmsNorm norm;
    private final SwiGlu swiGlu;
    private final DecodeStep decodeStep;
    private final DecodeInputs decodeInputs;
    private IValue stackWeights; // every layer's decodeStep weights as one list, made once (again after packing)
    private OneDnnLinear oneDnn; // non-null once the linear layers are packed

    private CausalLM(
            ModelConfig config,
            DataType dtype,
            NDManager manager,
            List<Param> layout,
            LinkedHashMap<String, NDArray> params) {
        this.config = config;
        this.dtype = dtype;
        this.manager = manager;
        this.layout = layout;
        this.params = params;
        embed = params.get("model.embed_tokens.weight");
        finalNorm = params.get("model.norm.weight");
        lmHead = new Linear(config.tieWordEmbeddings() ? embed : params.get("lm_head.weight"), null);
        int d = config.headDim();
        NDArray visible = manager.create(0f);
        NDArray masked = manager.create(AttentionBias.MASKED);
        constants = new DecoderLayer.Constants(
                manager.create((float) (1.0 / Math.sqrt(d))),
                visible,
                masked,
                visible.toType(dtype, true),
                manager.create(dtype == DataType.FLOAT16 ? -65504f : AttentionBias.MASKED)
                        .toType(dtype, false));
        fused = FUSED ? new FusedAttention(manager) : null;
        NDArray eps = manager.create((float) config.rmsNormEps());
        norm = new RmsNorm(manager, eps);
        // a decode step runs each layer as one call; -Ddistill.decode=ops (read when a model is made) runs it op by op
        decodeStep = FUSED && !"ops".equals(System.getProperty("distill.decode")) ? new DecodeStep(manager, eps) : null;
        decodeInputs = decodeStep != null ? new DecodeInputs(manager) : null;
        swiGlu = new SwiGlu(manager);
        rope = new RotaryTables(
                manager,
                manager.create(config.rope().inverseFrequencies(d)),
                dtype,
                config.numHeads() + config.numKvHeads(),
                config.numHeads() + 2 * config.numKvHeads());
        layers = new DecoderLayer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new DecoderLayer(i, config, params, constants, norm, swiGlu, decodeStep);
        }
        stackWeights = decodeStep != null ? stackWeights() : null;
    }

    private IValue stackWeights() {
        return DecodeStep.stackWeights(
                Arrays.stream(layers).map(DecoderLayer::decodeWeights).toList());
    }

    /**
     * Loads a Hugging Face model directory (config.json, optional generation_config.json, and
     * model.safetensors or a sharded index) as {@code dtype} (FLOAT32 or FLOAT16) on {@code device};
     * a {@code .gguf} file loads dequantised instead ({@link dev.distill.model.gguf.GgufModel}).
     * Tensors are copied one at a time from memory-mapped chunks straight into the parameters.
     */
    public static CausalLM load(Path modelDir, DataType dtype, Device device) {
        if (dev.distill.model.gguf.GgufModel.isGguf(modelDir)) {
            return dev.distill.model.gguf.GgufModel.load(modelDir, dtype, device);
        }
        ModelConfig config = ModelConfig.load(modelDir);
        try (Checkpoint checkpoint = Checkpoint.open(modelDir)) {
            checkpoint.validate(ParameterLayout.of(config));
            return assemble(
                    config, dtype, device, (part, dest, offset) -> checkpoint.readInto(part.hfName(), dest, offset));
        }
    }

    /**
     * A model from float32 HF tensors (row-major, HF layout) that {@code tensors} supplies per
     * checkpoint tensor: how {@link dev.distill.model.gguf.GgufModel} loads a dequantised GGUF file.
     */
    public static CausalLM fromHfTensors(
            ModelConfig config, Function<Part, float[]> tensors, DataType dtype, Device device) {
        ByteBuffer chunk = ByteBuffer.allocateDirect(INIT_CHUNK * 4).order(ByteOrder.nativeOrder());
        return assemble(config, dtype, device, (part, dest, offset) -> {
            float[] data = tensors.apply(part);
            for (int e = 0; e < data.length; e += INIT_CHUNK) {
                int m = Math.min(INIT_CHUNK, data.length - e);
                chunk.clear().asFloatBuffer().put(data, e, m);
                TensorCopy.copyInto(dest, offset + e, chunk.clear(), DataType.FLOAT32, m);
            }
        });
    }

    /** Writes one HF tensor into elements [offset, offset + numel) of a parameter. */
    private interface PartSource {
        void copyInto(Part part, NDArray dest, long offset);
    }

    /** Allocates each parameter once on the device and fills it, HF part by HF part, from {@code source}. */
    private static CausalLM assemble(ModelConfig config, DataType dtype, Device device, PartSource source) {
        checkDtype(dtype);
        List<Param> layout = ParameterLayout.of(config);
        NDManager manager = Engines.pytorch().newBaseManager(device);
        try {
            LinkedHashMap<String, NDArray> params = new LinkedHashMap<>();
            for (Param p : layout) {
                NDArray dest = manager.create(new Shape(p.shape()), dtype); // [p.shape]
                long offset = 0;
                for (Part part : p.parts()) {
                    source.copyInto(part, dest, offset);
                    offset += part.numel();
                }
                dest.setName(p.name());
                params.put(p.name(), dest);
            }
            return new CausalLM(config, dtype, manager, layout, params);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A freshly initialised model: weights normal(0, initializer_range), RMSNorm weights 1, biases 0.
     * Values depend only on {@code seed} and the config (drawn per HF tensor in layout order).
     */
    public static CausalLM randomInit(ModelConfig config, long seed, DataType dtype, Device device) {
        checkDtype(dtype);
        List<Param> layout = ParameterLayout.of(config);
        NDManager manager = Engines.pytorch().newBaseManager(device);
        try {
            SplittableRandom rng = new SplittableRandom(seed);
            ByteBuffer chunk = ByteBuffer.allocateDirect(INIT_CHUNK * 4).order(ByteOrder.nativeOrder());
            LinkedHashMap<String, NDArray> params = new LinkedHashMap<>();
            for (Param p : layout) {
                Shape shape = new Shape(p.shape());
                NDArray dest;
                switch (p.init()) {
                    case ONES:
                        dest = manager.ones(shape, dtype); // [p.shape]
                        break;
                    case ZEROS:
                        dest = manager.zeros(shape, dtype); // [p.shape]
                        break;
                    default:
                        dest = manager.create(shape, dtype); // [p.shape]
                        fillNormal(dest, rng, config.initializerRange(), chunk);
                        break;
                }
                dest.setName(p.name());
                params.put(p.name(), dest);
            }
            return new CausalLM(config, dtype, manager, layout, params);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static void fillNormal(NDArray dest, SplittableRandom rng, double std, ByteBuffer chunk) {
        long n = dest.size();
        FloatBuffer floats = chunk.clear().asFloatBuffer();
        for (long e = 0; e < n; e += INIT_CHUNK) {
            int m = (int) Math.min(INIT_CHUNK, n - e);
            for (int i = 0; i < m; i++) {
                floats.put(i, (float) (rng.nextGaussian() * std));
            }
            TensorCopy.copyInto(dest, e, chunk.clear(), DataType.FLOAT32, m);
        }
    }

    private static void checkDtype(DataType dtype) {
        if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
            throw new IllegalArgumentException(
                    "compute dtype " + dtype + " is not supported (supported: float32, " + "float16)");
        }
    }

    public ModelConfig config() {
        return config;
    }

    public Device device() {
        return manager.getDevice();
    }

    public DataType dtype() {
        return dtype;
    }

    /** The manager that owns the parameters (and is closed with the model). */
    public NDManager manager() {
        return manager;
    }

    /**
     * Makes this an inference-only model whose projections (q/k/v, o, gate/up, down, LM head) run through oneDNN's
     * linear on weights packed once ({@link OneDnnLinear}; about twice as fast as the matmul on small batches on the
     * CPU measured in docs/model.md, "Packed linear layers"; results differ by ~1e-6 relative). Each weight is
     * released once its packed copy exists (peak memory grows by one weight matrix at most), except the tied
     * embedding table, which the token lookup still reads. From then on a forward that records gradients,
     * {@link #parameters}, {@link #save} and {@link #logitsAt} throw IllegalStateException: callers that never train
     * the model call this (the teachers, serve); a student keeps the matmul on its live parameters.
     *
     * <p>Only on the CPU in float32: on a GPU and in float16 the matmul (cuBLAS, or libtorch's float16 kernels)
     * stays, and so it does with {@code -Ddistill.linear=matmul} or where the ops are missing or fail (a one-line
     * warning). Calling it again does nothing.
     *
     * @return whether the linear layers are packed
     */
    public boolean packForInference() {
        if (oneDnn != null) {
            return true;
        }
        if (manager.getDevice().isGpu()
                || dtype != DataType.FLOAT32
                || "matmul".equals(System.getProperty(LINEAR_PROPERTY))) {
            return false;
        }
        OneDnnLinear ops = OneDnnLinear.load(manager);
        if (ops == null) {
            return false;
        }
        oneDnn = ops;
        for (DecoderLayer layer : layers) {
            layer.pack(ops);
        }
        lmHead.pack(ops, !config.tieWordEmbeddings()); // a tied head's weight is the embedding table
        if (stackWeights != null) {
            stackWeights.close(); // it held the released weights
            stackWeights = stackWeights();
        }
        // the released weights leave the map: nothing reads them any more
        params.values().removeIf(NDArray::isReleased);
        return true;
    }

    /** Whether {@link #packForInference} packed the linear layers. */
    public boolean packed() {
        return oneDnn != null;
    }

    private void requireUnpacked(String what) {
        if (oneDnn != null) {
            throw new IllegalStateException(what + ": this model's linear layers are packed for inference"
                    + " (CausalLM.packForInference), their original weights released");
        }
    }

    private void requireInferenceIfPacked() {
        if (oneDnn != null && JniUtils.isGradMode()) {
            throw new IllegalStateException(PACKED_GRAD_MODE);
        }
    }

    /**
     * Logits [B, T, V] float32: {@code logits(hidden(...))}. Arguments as {@link #hidden}; the result
     * is attached to inputIds' manager.
     */
    public NDArray forward(NDArray inputIds, NDArray positionIds, NDArray attentionMask, KvCache cache) {
        try (NDArray h = hidden(inputIds, positionIds, attentionMask, cache)) {
            return logits(h);
        }
    }

    /**
     * Final-norm hidden states [B, T, H] (model dtype), attached to inputIds' manager.
     *
     * @param inputIds [B, T] int64
     * @param positionIds [B, T] int64 (for left padding: 0 at each row's first real token), each below
     *     P + T (a token's position never exceeds its cache slot, as {@link Batching} builds them)
     * @param attentionMask [B, P + T], nonzero = real token, where P = cache.length() (0 without
     *     cache): the mask covers the cached slots and the new ones
     * @param cache null, or a cache from {@link #newCache} whose slots [P, P + T) this call fills
     */
    public NDArray hidden(NDArray inputIds, NDArray positionIds, NDArray attentionMask, KvCache cache) {
        return hidden(inputIds, positionIds, attentionMask, cache, null);
    }

    /**
     * {@link #hidden(NDArray, NDArray, NDArray, KvCache)} that also records, for the layers {@code taps}
     * names, their output hidden states, attention probabilities and values into {@code taps} (null:
     * nothing is recorded).
     */
    public NDArray hidden(NDArray inputIds, NDArray positionIds, NDArray attentionMask, KvCache cache, LayerTaps taps) {
        requireInferenceIfPacked();
        int past = cache == null ? 0 : cache.length();
        int t = checkInputs(inputIds, positionIds, attentionMask, cache, past);
        if (taps != null && taps.layers() != layers.length) {
            throw new IllegalArgumentException(
                    "taps are for " + taps.layers() + " layers; the model has " + layers.length);
        }
        // attention probabilities asked for: every layer of this forward computes them explicitly
        FusedAttention attention = taps != null && taps.wantsAnyAttention() ? null : fused;
        NDArray out = scoped(inputIds.getManager(), () -> {
            NDArray x = Ops.embedding(inputIds, embed); // [B, T, H]
            RotaryTables.Rotation rotation = rope.lookup(positionIds, past + t); // a position never exceeds its slot
            NDArray[] biases = biases(attentionMask, past, t, attention != null); // per layer
            for (int i = 0; i < layers.length; i++) {
                x = layerScoped(layers[i], x, rotation, biases[i], attention, cache, past, taps);
            }
            if (taps != null) {
                taps.detach();
            }
            return norm.apply(x, finalNorm); // [B, T, H]
        });
        if (taps != null) {
            taps.adopt(inputIds.getManager());
        }
        if (cache != null) {
            cache.advance(t);
        }
        return out;
    }

    /**
     * Whether a decode step runs each decoder layer as one call ({@link #decode}); false under {@code
     * -Ddistill.decode=ops}, where a caller's own step (its head) runs op by op too, the path to compare with.
     */
    public boolean fusedDecode() {
        return decodeStep != null;
    }

    /**
     * One decode step of a left-padded batch: final-norm hidden states [B, 1, H] (model dtype) of each row's newest
     * token, attached to inputIds' manager; fills the cache's next slot. A token's position is the number of its
     * row's real slots before it (as {@link Batching#positionIds}), read off the mask. With {@link #fusedDecode} the
     * embedding, positions, rotary tables and attention bias are one call ({@link DecodeInputs}), then every layer and
     * the final norm one more ({@link DecodeStep#applyStack}); otherwise {@link #hidden}, op by op.
     *
     * @param inputIds [B, 1] int64
     * @param attentionMask [B, S] int64 over the cache's slots (S >= cache.length() + 1; slots past the new one are
     *     not read): each row's left padding 0, then 1
     */
    public NDArray decode(NDArray inputIds, NDArray attentionMask, KvCache cache) {
        requireInferenceIfPacked();
        int past = cache.length();
        Shape s = inputIds.getShape();
        Shape m = attentionMask.getShape();
        if (s.dimension() != 2 || s.get(1) != 1 || m.dimension() != 2 || m.get(0) != s.get(0) || m.get(1) <= past) {
            throw new IllegalArgumentException(
                    "decode: expected inputIds [B, 1] and attentionMask [B, S > " + past + "], got " + s + " and " + m);
        }
        boolean slides = past + 1 > config.slidingWindow().orElse(Integer.MAX_VALUE);
        if (decodeInputs == null || slides) {
            NDManager step = inputIds.getManager();
            NDArray seen = attentionMask.get(":, :" + (past + 1)); // [B, past + 1]
            seen.attach(step);
            NDArray positions = seen.sum(new int[] {1}, true).sub(1); // [B, 1]
            return hidden(inputIds, positions, seen, cache);
        }
        if (inputIds.getDataType() != DataType.INT64
                || !inputIds.getDevice().equals(device())
                || !attentionMask.getDevice().equals(device())
                || cache.layers() != layers.length
                || cache.batchSize() != s.get(0)
                || past + 1 > cache.capacity()) {
            throw new IllegalArgumentException("decode: int64 inputIds and the mask on " + device() + " and a cache of "
                    + s.get(0) + " rows of " + layers.length + " layers with a free slot expected, got "
                    + inputIds.getDataType() + " on " + inputIds.getDevice() + ", mask on " + attentionMask.getDevice()
                    + ", cache of " + cache.batchSize() + " rows of " + cache.layers() + " layers, " + past + "/"
                    + cache.capacity() + " slots filled");
        }
        NDArray out = scoped(inputIds.getManager(), () -> {
            NDArray[] in = decodeInputs.apply(
                    inputIds,
                    attentionMask,
                    embed,
                    rope.table(past + 1),
                    rope.rotatedHeads(),
                    rope.identity()[0],
                    rope.identity()[1],
                    constants.fusedVisible(),
                    constants.fusedMasked(),
                    past); // x [B, 1, H], cos, sin [B, 1, Hq+2Hkv, 2, D/2], bias [B, 1, 1, past + 1]
            return decodeStep.applyStack(
                    in[0],
                    stackWeights,
                    finalNorm,
                    in[1],
                    in[2],
                    cache,
                    in[3],
                    past,
                    config.numHeads(),
                    config.numKvHeads(),
                    config.qkNorm(),
                    oneDnn != null); // [B, 1, H]
        });
        cache.advance(1);
        return out;
    }

    /**
     * Each layer's attention bias: the causal one, or for a sliding layer the sliding-window one. Each
     * is built once and only when some layer needs it; while the cached + new positions fit in the
     * window, a sliding layer sees what a full one does and shares the causal bias. Explicit softmax:
     * [B, 1, T, P+T] float32; fused kernel: in the model dtype, and for T > 1 repeated for the G query
     * heads of a KV head, [B, 1, G*T, P+T] (see {@link DecoderLayer#forward}).
     */
    private NDArray[] biases(NDArray attentionMask, int past, int t, boolean forFused) {
        int window = config.slidingWindow().orElse(Integer.MAX_VALUE);
        NDArray causal = null;
        NDArray sliding = null;
        NDArray[] out = new NDArray[layers.length];
        for (int i = 0; i < out.length; i++) {
            if (config.slidingLayer(i) && past + t > window) {
                if (sliding == null) {
                    sliding = bias(attentionMask, past, t, window, forFused);
                }
                out[i] = sliding;
            } else {
                if (causal == null) {
                    causal = bias(attentionMask, past, t, 0, forFused);
                }
                out[i] = causal;
            }
        }
        return out;
    }

    private NDArray bias(NDArray attentionMask, int past, int t, int window, boolean forFused) {
        if (!forFused) {
            return AttentionBias.of(
                    attentionMask, past, t, window, constants.visible(), constants.masked()); // [B, 1, T, S]
        }
        NDArray bias = AttentionBias.of(
                attentionMask,
                past,
                t,
                window,
                constants.fusedVisible(),
                constants.fusedMasked()); // [B, 1, T, S] model dtype
        long groups = config.numHeads() / config.numKvHeads();
        return t == 1 || groups == 1 ? bias : bias.tile(new long[] {1, 1, groups, 1}); // [B, 1, G*T, S]
    }

    /**
     * One decoder layer in its own NDScope: its intermediates are released as soon as it returns
     * (autograd keeps what backward needs), so a forward holds one layer's activations at a time
     * instead of every layer's. Its input is released too, unless {@code taps} recorded it.
     */
    private static NDArray layerScoped(
            DecoderLayer layer,
            NDArray x,
            RotaryTables.Rotation rope,
            NDArray bias,
            FusedAttention attention,
            KvCache cache,
            int past,
            LayerTaps taps) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            out = layer.forward(x, rope, bias, attention, cache, past, taps); // [B, T, H]
            NDScope.unregister(out);
        }
        NDScope.register(out);
        if (taps == null || !taps.holds(x)) {
            x.close();
        }
        if (taps != null && taps.wantsHidden(layer.index())) {
            taps.recordHidden(layer.index(), out);
        }
        return out;
    }

    /** The LM head on any [.., H] slice of hidden states: float32 logits [.., V], attached to hidden's manager. */
    public NDArray logits(NDArray hidden) {
        requireInferenceIfPacked();
        return scoped(hidden.getManager(), () -> {
            NDArray l = lmHead.apply(hidden); // [.., V]
            return Ops.cast(l, DataType.FLOAT32);
        });
    }

    /**
     * The LM head's float32 logits at given token ids only: hidden [N, H], int64 ids [N, k] in [0, V) -> [N, k],
     * equal to {@code logits(hidden).gather(ids, 1)} without the [N, V] product and its backward (what a loss that
     * reads only the teacher's top-k ids needs in training), attached to hidden's manager.
     */
    public NDArray logitsAt(NDArray hidden, NDArray ids) {
        requireUnpacked("logitsAt");
        return scoped(hidden.getManager(), () -> Ops.cast(lmHead.applyAt(hidden, ids), DataType.FLOAT32));
    }

    /**
     * Runs {@code body} in an NDScope so every intermediate is closed, then hands the result to
     * {@code target} (and to the caller's own NDScope, if one is open).
     */
    private static NDArray scoped(NDManager target, Supplier<NDArray> body) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            out = body.get();
            NDScope.unregister(out);
        }
        out.attach(target);
        NDScope.register(out);
        return out;
    }

    private int checkInputs(NDArray ids, NDArray pos, NDArray mask, KvCache cache, int past) {
        Shape s = ids.getShape();
        if (s.dimension() != 2 || s.get(1) < 1 || ids.getDataType() != DataType.INT64) {
            throw new IllegalArgumentException(
                    "inputIds: expected int64 [B, T] with T >= 1, got " + ids.getDataType() + " " + s);
        }
        long b = s.get(0);
        int t = Math.toIntExact(s.get(1));
        if (!pos.getShape().equals(s) || pos.getDataType() != DataType.INT64) {
            throw new IllegalArgumentException(
                    "positionIds: expected int64 " + s + ", got " + pos.getDataType() + " " + pos.getShape());
        }
        Shape maskShape = new Shape(b, past + t);
        if (!mask.getShape().equals(maskShape)) {
            throw new IllegalArgumentException(
                    "attentionMask: expected [B, cached + T] = " + maskShape + ", got " + mask.getShape());
        }
        for (NDArray a : new NDArray[] {ids, pos, mask}) {
            if (!a.getDevice().equals(device())) {
                throw new IllegalArgumentException(
                        "inputs must be on the model's device " + device() + ", got " + a.getDevice());
            }
        }
        if (cache != null) {
            if (cache.layers() != layers.length || cache.batchSize() != b) {
                throw new IllegalArgumentException("cache holds " + cache.batchSize() + " rows of " + cache.layers()
                        + " layers; inputs have " + b + " rows for " + layers.length + " layers");
            }
            if (past + t > cache.capacity()) {
                throw new IllegalArgumentException("cache capacity " + cache.capacity() + " exceeded: " + past
                        + " cached + " + t + " new positions");
            }
        }
        return t;
    }

    /** A preallocated KV cache for {@code batchSize} rows and up to {@code capacity} positions. */
    public KvCache newCache(int batchSize, int capacity) {
        return new KvCache(manager, layers.length, batchSize, config.numKvHeads(), capacity, config.headDim(), dtype);
    }

    /**
     * The parameters in layout order (a new map holding the model's own arrays: setting
     * requiresGradient on them or updating them in place changes the model). Names are the HF names,
     * except the fused {@code model.layers.N.self_attn.qkv_proj.weight} (q ++ k ++ v rows, and
     * {@code .bias} on qwen2) and {@code model.layers.N.mlp.gate_up_proj.weight} (gate ++ up rows).
     * With tied embeddings there is no lm_head.weight.
     */
    public LinkedHashMap<String, NDArray> parameters() {
        requireUnpacked("parameters");
        return new LinkedHashMap<>(params);
    }

    /** The parameter layout: names, shapes and the HF tensors behind each parameter. */
    public List<Param> layout() {
        return layout;
    }

    /**
     * Writes a Hugging Face checkpoint transformers loads unchanged: config.json (torch_dtype = this
     * model's dtype), generation_config.json and model.safetensors (HF tensor names, fused
     * parameters split back, model dtype).
     */
    public void save(Path outDir) {
        requireUnpacked("save " + outDir);
        try {
            Files.createDirectories(outDir);
            String dtypeName = dtype == DataType.FLOAT16 ? "float16" : "float32";
            ObjectNode cfg = config.toBuilder().declaredDtype(dtypeName).build().toHfJson();
            JSON.writerWithDefaultPrettyPrinter()
                    .writeValue(outDir.resolve("config.json").toFile(), cfg);
            JSON.writerWithDefaultPrettyPrinter()
                    .writeValue(outDir.resolve("generation_config.json").toFile(), config.toGenerationConfigJson());
        } catch (IOException e) {
            throw new UncheckedIOException(outDir + ": cannot write config: " + e.getMessage(), e);
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            LinkedHashMap<String, NDArray> hf = new LinkedHashMap<>();
            for (Param p : layout) {
                NDArray t = params.get(p.name());
                if (!p.fused()) {
                    hf.put(p.name(), t);
                    continue;
                }
                long[] cuts = new long[p.parts().size() - 1];
                long row = 0;
                for (int i = 0; i < cuts.length; i++) {
                    row += p.parts().get(i).shape()[0];
                    cuts[i] = row;
                }
                NDList pieces = t.split(cuts, 0); // views, one per HF tensor
                for (int i = 0; i < pieces.size(); i++) {
                    hf.put(p.parts().get(i).hfName(), pieces.get(i));
                }
            }
            SafetensorsWriter.write(outDir.resolve(Checkpoint.SINGLE), hf, Map.of("format", "pt"));
        }
    }

    @Override
    public void close() {
        if (fused != null) {
            fused.close();
        }
        norm.close();
        swiGlu.close();
        if (decodeStep != null) {
            decodeStep.close();
            decodeInputs.close();
            stackWeights.close();
        }
        if (oneDnn != null) {
            oneDnn.close();
        }
        manager.close();
    }
}
