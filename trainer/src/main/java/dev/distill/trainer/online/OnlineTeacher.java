package dev.distill.trainer.online;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.LayerTaps;
import dev.distill.model.ModelConfig;
import dev.distill.trainer.data.BatchTensors;
import java.nio.file.Path;

/**
 * The teacher of {@code distill train --teacher DIR}: a frozen model in the training process that runs
 * on each micro-batch, without gradients, and gives the soft targets at the trained positions (its
 * log-softmax over the full vocabulary, or its top-k) and, through {@link LayerTaps}, the hidden states
 * and attention of chosen layers. Like the student's, its forward frees each layer's activations as it
 * goes; nothing is read back to the host.
 */
public final class OnlineTeacher implements AutoCloseable {
    private final CausalLM model;
    private final int studentVocab;
    private final int topK;

    private OnlineTeacher(CausalLM model, int studentVocab, int topK) {
        this.model = model;
        this.studentVocab = studentVocab;
        this.topK = topK;
    }

    /**
     * Loads the teacher on the student's device.
     *
     * @param dtype {@code auto} (fp16 on a GPU, fp32 on the CPU), {@code fp32} or {@code fp16}
     * @param topK 0 for full-vocabulary targets, else the teacher's top-k (what 'distill generate' stores)
     */
    public static OnlineTeacher load(Path dir, String dtype, Device device, ModelConfig student, int topK) {
        CausalLM model = CausalLM.load(dir, dataType(dtype, device), device);
        if (topK > Math.min(model.config().vocabSize(), student.vocabSize())) {
            model.close();
            throw new IllegalArgumentException("--teacher-top-k " + topK + " exceeds the vocabulary ("
                    + Math.min(model.config().vocabSize(), student.vocabSize()) + ")");
        }
        model.packForInference(); // the teacher never trains: oneDNN's linear where it applies (CPU, float32)
        return new OnlineTeacher(model, student.vocabSize(), topK);
    }

    /** {@code --teacher-dtype}: auto is fp16 on a GPU and fp32 on the CPU (where fp16 is slow), as generate's --dtype. */
    public static DataType dataType(String dtype, Device device) {
        try {
            return Engines.computeDtype(dtype == null ? "" : dtype, device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replaceFirst("^--dtype", "--teacher-dtype"), e);
        }
    }

    public CausalLM model() {
        return model;
    }

    /**
     * The targets at a batch's trained positions, in the loss's top-k form. Full vocabulary: ids
     * [N, V] are 0..V-1 on every row (an expanded view, not N copies) and log-probs [N, V] the
     * teacher's log-softmax over the V ids both models have (a teacher embedding padded beyond the
     * student's is cut to the student's V). Top-k: the k most likely of those, most likely first.
     */
    public record Targets(NDArray ids, NDArray logprobs) {}

    /**
     * Runs the teacher on {@code batch}. Call it outside any GradientCollector: nothing is recorded.
     *
     * @param taps what to record from the teacher's layers, or null
     */
    public Targets run(BatchTensors batch, LayerTaps taps) {
        NDArray hidden =
                model.hidden(batch.inputIds(), batch.positionIds(), batch.attentionMask(), null, taps); // [B, L, H]
        long h = hidden.getShape().get(2);
        NDArray picked = hidden.reshape(-1, h).get(new NDIndex("{}", batch.gatherIndex())); // [N, H]
        NDArray logits = model.logits(picked); // [N, Vt] float32
        long n = logits.getShape().get(0);
        if (logits.getShape().get(1) > studentVocab) {
            logits = logits.get(new NDIndex(":, :" + studentVocab)); // [N, V]
        }
        NDArray logprobs = logits.logSoftmax(1); // [N, V]
        if (topK > 0) {
            NDList top = logprobs.topK(topK, 1, true, true);
            return new Targets(top.get(1), top.get(0)); // [N, k] int64, [N, k] float32
        }
        long v = logprobs.getShape().get(1);
        NDArray ids = batch.inputIds()
                .getManager()
                .arange(0, (int) v, 1, DataType.INT64) // [V]
                .expandDims(0)
                .broadcast(new Shape(n, v)); // [N, V], stride 0 over N
        return new Targets(ids, logprobs);
    }

    @Override
    public void close() {
        model.close();
    }
}
