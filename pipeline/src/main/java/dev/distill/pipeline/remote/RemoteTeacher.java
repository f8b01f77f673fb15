package dev.distill.pipeline.remote;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.data.LogitsSpec;
import dev.distill.pipeline.GenerateSpec;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.LabelSelection;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A teacher behind an OpenAI-compatible completions endpoint (vLLM, `distill serve`). Each work item is
 * one request with its prompt as token ids and its own seed; up to {@code concurrency} requests are in
 * flight, and the server batches them. A batch returns only when every item succeeded: when one fails
 * for good the others are cancelled and the error names the item, so a shard is never written from a
 * partial batch.
 */
public final class RemoteTeacher implements Teacher {
    private final RemoteOptions options;
    private final RemoteSampling sampling;
    private final OpenAiClient client;
    private final ServedModel served;
    private final int vocabSize;
    private final int contextLength;
    private final ExecutorService pool;

    private RemoteTeacher(RemoteOptions options, RemoteSampling sampling, OpenAiClient client, ServedModel served) {
        this.options = options;
        this.sampling = sampling;
        this.client = client;
        this.served = served;
        this.vocabSize = resolve(
                options.vocabSize(),
                served.vocabSize(),
                "--vocab-size",
                "vocab_size",
                "the vocab_size in the teacher's config.json");
        this.contextLength = resolve(
                options.contextLength(),
                served.maxModelLen(),
                "--context-length",
                "max_model_len",
                "the server's --max-model-len");
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(options.concurrency(), r -> {
            Thread t = new Thread(r, "remote-teacher-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Asks the server for its models (GET /v1/models, retried like every request) and checks that it
     * serves {@code options.model()}.
     *
     * @throws RemoteTeacherException when the server cannot be reached, refuses, or does not serve the model
     * @throws IllegalArgumentException when neither the server nor the options give the vocabulary size or
     *     context length
     */
    public static RemoteTeacher connect(RemoteOptions options, RemoteSampling sampling) {
        OpenAiClient client = new OpenAiClient(options);
        try {
            ServedModel served = client.get("models", body -> ServedModel.find(body, options.model(), options.url()));
            return new RemoteTeacher(options, sampling, client, served);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    private int resolve(Integer option, Integer reported, String flag, String field, String hint) {
        if (option != null) {
            return option;
        }
        if (reported != null) {
            return reported;
        }
        throw new IllegalArgumentException(flag + ": the server at " + options.url() + " does not report " + field
                + " for " + options.model() + "; pass " + flag + " (" + hint + ")");
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    /** The stop ids the server reports (a `distill serve` extension); none for vLLM, which stops on its own config's. */
    @Override
    public int[] eosIds() {
        return served.eosTokenIds().clone();
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public List<TeacherOutput> generate(List<WorkItem> batch, GenerationParams params) {
        int k = width(params.logits());
        return run(
                batch,
                item -> CompletionRequests.generate(options.model(), item, k, sampling, params.eosIds()),
                item -> body -> cut(CompletionParser.generation(body, item, k), params.logits(), k));
    }

    @Override
    public List<TeacherOutput> score(List<WorkItem> batch, LogitsSpec logits) {
        int k = width(logits);
        return run(
                batch,
                item -> CompletionRequests.score(options.model(), item, k),
                item -> body -> cut(CompletionParser.score(body, item, k), logits, k));
    }

    /** How many top log-probs to ask the server for: k, or KMAX of top-p; sample is refused (no full distribution). */
    private int width(LogitsSpec logits) {
        if (logits.sampled()) {
            throw new IllegalArgumentException("--logits " + logits + ": " + GenerateSpec.SAMPLE_NEEDS_LOCAL);
        }
        return Math.min(logits.size(), vocabSize);
    }

    /**
     * The server's top-k list cut to what {@code logits} keeps (top-p: the smallest prefix reaching P), with the
     * covered mass of every position; entropy and KL stay unmeasured (NaN): the server sends no full distribution.
     */
    private static TeacherOutput cut(TeacherOutput o, LogitsSpec logits, int k) {
        int n = o.completionIds().length;
        int[] sizes = new int[n];
        float[] fidelity = new float[n * 3];
        int entries = 0;
        for (int t = 0; t < n; t++) {
            sizes[t] = logits.kind() == LogitsSpec.Kind.TOP_P
                    ? LabelSelection.topP(o.topkLogprobs(), t * k, k, logits.mass())
                    : k;
            double covered = 0;
            for (int j = 0; j < sizes[t]; j++) {
                covered += Math.exp(o.topkLogprobs()[t * k + j]);
            }
            fidelity[t * 3] = (float) Math.min(1, covered);
            fidelity[t * 3 + 1] = Float.NaN;
            fidelity[t * 3 + 2] = Float.NaN;
            entries += sizes[t];
        }
        int[] ids = new int[entries];
        float[] lp = new float[entries];
        int at = 0;
        for (int t = 0; t < n; t++) {
            System.arraycopy(o.topkIds(), t * k, ids, at, sizes[t]);
            System.arraycopy(o.topkLogprobs(), t * k, lp, at, sizes[t]);
            at += sizes[t];
        }
        return new TeacherOutput(
                o.item(), o.completionIds(), o.completionLogprobs(), ids, lp, o.finishReason(), sizes, null, fidelity);
    }

    private List<TeacherOutput> run(
            List<WorkItem> batch,
            Function<WorkItem, ObjectNode> request,
            Function<WorkItem, OpenAiClient.Reader<TeacherOutput>> reader) {
        OpenAiClient.Batch tag = new OpenAiClient.Batch();
        CompletionService<Integer> done = new ExecutorCompletionService<>(pool);
        TeacherOutput[] out = new TeacherOutput[batch.size()];
        List<Future<Integer>> futures = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            int index = i;
            WorkItem item = batch.get(i);
            futures.add(done.submit(() -> {
                try {
                    out[index] = client.post("completions", request.apply(item), reader.apply(item), tag);
                    return index;
                } catch (RemoteTeacherException e) {
                    throw new RemoteTeacherException(describe(item) + ": " + e.getMessage(), e);
                }
            }));
        }
        try {
            for (int i = 0; i < batch.size(); i++) {
                done.take().get(); // the first failure, whichever item it is, ends the batch
            }
        } catch (ExecutionException e) {
            abort(futures, tag);
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException re ? re : new RemoteTeacherException(cause.toString(), cause);
        } catch (InterruptedException e) {
            abort(futures, tag);
            Thread.currentThread().interrupt();
            throw new RemoteTeacherException("interrupted while waiting for " + options.url());
        }
        return List.of(out);
    }

    private void abort(List<Future<Integer>> futures, OpenAiClient.Batch tag) {
        client.cancel(tag);
        for (Future<Integer> f : futures) {
            f.cancel(true);
        }
    }

    private static String describe(WorkItem item) {
        return "prompt " + item.promptIndex() + " (sample " + item.sampleIndex() + ")";
    }

    @Override
    public void close() {
        pool.shutdownNow();
        client.close();
    }
}
