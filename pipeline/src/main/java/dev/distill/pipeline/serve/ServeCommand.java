package dev.distill.pipeline.serve;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.cli.UsageException;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.pipeline.LocalTeacher;
import dev.distill.pipeline.remote.ApiKeys;
import dev.distill.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `distill serve`: a local model behind an OpenAI-compatible completions endpoint (the subset vLLM users script against). */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Serve a local model over HTTP with an OpenAI-compatible API (GET /v1/models, POST /v1/completions with",
            "token-id prompts, top-k logprobs and prompt_logprobs in vLLM's format). Concurrent requests are batched.",
            "Another machine's `distill generate --teacher-url http://HOST:PORT/v1` can then use it as its teacher."
        })
public final class ServeCommand implements Callable<Integer> {

    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, *.safetensors).")
    Path model;

    @Option(
            names = "--tokenizer",
            paramLabel = "DIR",
            description =
                    "Tokenizer directory for text prompts and the text fields (default: --model when it has tokenizer.json).")
    Path tokenizer;

    @Option(
            names = "--served-model-name",
            paramLabel = "NAME",
            description = "The model's name in the API (default: the --model argument as given, like vLLM).")
    String servedModelName;

    @Option(
            names = "--host",
            defaultValue = "127.0.0.1",
            description = "Address to bind; 0.0.0.0 serves every interface. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(
            names = "--port",
            defaultValue = "8000",
            description = "Port (0 picks a free one). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(
            names = "--device",
            defaultValue = "auto",
            paramLabel = "auto|cpu|gpu[:N]",
            description = "Device: GPU when DJL sees one. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(
            names = "--dtype",
            defaultValue = "auto",
            paramLabel = "auto|fp32|fp16",
            description = "Compute dtype: fp16 on GPU, fp32 on CPU when auto. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(
            names = "--max-batch-tokens",
            defaultValue = "16384",
            paramLabel = "N",
            description =
                    "Token budget of one model batch (rows x longest prompt+completion). Default: ${DEFAULT-VALUE}.")
    int maxBatchTokens;

    @Option(
            names = "--max-logprobs",
            defaultValue = "20",
            paramLabel = "K",
            description =
                    "Most logprobs / prompt_logprobs a request may ask (vLLM's option); above is a 400. Default: ${DEFAULT-VALUE}.")
    int maxLogprobs;

    @Option(
            names = "--request-timeout",
            defaultValue = "600",
            paramLabel = "SECONDS",
            description =
                    "A request not answered by then gets 504 and its rows are dropped. Default: ${DEFAULT-VALUE}.")
    int requestTimeout;

    @Option(
            names = "--idle-timeout",
            defaultValue = "30",
            paramLabel = "SECONDS",
            description =
                    "A connection that sends or takes nothing for this long is closed. Default: ${DEFAULT-VALUE}.")
    int idleTimeout;

    @Option(
            names = "--api-key-file",
            paramLabel = "FILE",
            description = "Require this key (Authorization: Bearer KEY) from clients; DISTILL_API_KEY does the same.")
    Path apiKeyFile;

    @Override
    public Integer call() throws Exception {
        UsageException.require(maxBatchTokens >= 1, "--max-batch-tokens must be >= 1, got " + maxBatchTokens);
        UsageException.require(port >= 0 && port <= 65535, "--port must be in [0, 65535], got " + port);
        UsageException.require(maxLogprobs >= 1, "--max-logprobs must be >= 1, got " + maxLogprobs);
        UsageException.require(requestTimeout >= 1, "--request-timeout must be >= 1, got " + requestTimeout);
        UsageException.require(idleTimeout >= 1, "--idle-timeout must be >= 1, got " + idleTimeout);
        String apiKey = ApiKeys.resolve(apiKeyFile, System.getenv());
        Device dev = UsageException.wrap(() -> Engines.device(device));
        DataType dt = UsageException.wrap(() -> Engines.computeDtype(dtype, dev));
        Path tokenizerDir =
                tokenizer != null ? tokenizer : Files.isRegularFile(model.resolve("tokenizer.json")) ? model : null;
        String name = servedModelName != null ? servedModelName : model.toString();
        CompletionServer.Limits limits = new CompletionServer.Limits(
                maxLogprobs,
                CompletionServer.Limits.DEFAULT.maxPrompts(),
                CompletionServer.Limits.DEFAULT.maxBodyBytes(),
                Duration.ofSeconds(requestTimeout),
                Duration.ofSeconds(idleTimeout),
                CompletionServer.Limits.DEFAULT.maxConnections(),
                CompletionServer.Limits.DEFAULT.drain());
        HfTokenizer tok = tokenizerDir == null ? null : HfTokenizer.load(tokenizerDir);
        LocalTeacher teacher = null;
        CountDownLatch done = new CountDownLatch(1);
        try {
            teacher = new LocalTeacher(CausalLM.load(model, dt, dev));
            CompletionServer server = CompletionServer.start(
                    teacher, tok, new CompletionServer.Settings(name, host, port, maxBatchTokens, apiKey, limits));
            System.out.printf(
                    Locale.ROOT,
                    "distill serve: %s at %s (%s on %s, max_model_len %d, vocab_size %d%s%s)%n",
                    name,
                    server.baseUrl(),
                    dt == DataType.FLOAT16 ? "fp16" : "fp32",
                    dev,
                    teacher.contextLength(),
                    teacher.vocabSize(),
                    tok == null ? ", no tokenizer: token-id prompts only" : "",
                    apiKey == null ? "" : ", API key required");
            System.out.flush();
            if (!awaitShutdown(server, done)) {
                teacher = null; // a batch still runs on it: the process exit frees it, not close() under it
            }
        } finally {
            try {
                if (teacher != null) {
                    teacher.close();
                }
                if (tok != null) {
                    tok.close();
                }
            } finally {
                done.countDown();
            }
        }
        return 0;
    }

    /**
     * Blocks until SIGTERM/SIGINT. The shutdown hook closes {@code server} in order (stop accepting, refuse the
     * queue, drain the running batch, answer) and then waits, a bounded time, for the caller to close the model
     * and count {@code done} down: the JVM halts as soon as its hooks return.
     *
     * @return {@link CompletionServer#modelFree()}: whether the model may be closed
     */
    static boolean awaitShutdown(CompletionServer server, CountDownLatch done) throws InterruptedException {
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            System.err.println("distill serve: shutting down");
                            server.close();
                            closed.countDown();
                            try {
                                done.await(10, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "serve-shutdown"));
        closed.await();
        return server.modelFree();
    }
}
