package dev.distill.pipeline;

import dev.distill.cli.UsageException;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.pipeline.remote.ApiKeys;
import dev.distill.pipeline.remote.RemoteOptions;
import dev.distill.tokenizer.TemplateKwargs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `distill generate`: run a teacher over a prompt corpus and write its top-k soft labels into shards. */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run a teacher over a prompt corpus and write its top-k soft labels into resumable Parquet shards.",
            "Rerunning the same command resumes; a changed configuration is refused, naming the options that differ."
        })
public final class GenerateCommand implements Callable<Integer> {

    @Option(
            names = "--teacher",
            paramLabel = "DIR",
            description =
                    "Hugging Face model directory (config.json, *.safetensors, tokenizer.json); or use --teacher-url.")
    Path teacher;

    @Option(
            names = "--teacher-url",
            paramLabel = "URL",
            description =
                    "An OpenAI-compatible server's base URL instead of --teacher, e.g. http://host:8000/v1 (vLLM, distill serve).")
    String teacherUrl;

    @Option(
            names = "--teacher-model",
            paramLabel = "NAME",
            description = "The model's name on the --teacher-url server.")
    String teacherModel;

    @Option(
            names = "--concurrency",
            defaultValue = "16",
            description = "Requests in flight to the --teacher-url server. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(
            names = "--api-key-file",
            paramLabel = "FILE",
            description = "File holding the server's API key (sent as Authorization: Bearer); else DISTILL_API_KEY.")
    Path apiKeyFile;

    @Option(
            names = "--vocab-size",
            paramLabel = "N",
            description = "The remote teacher's vocabulary size, when the server does not report it (vLLM does not).")
    Integer vocabSize;

    @Option(
            names = "--context-length",
            paramLabel = "N",
            description = "The remote teacher's context length, when the server does not report max_model_len.")
    Integer contextLength;

    @Option(
            names = "--max-retries",
            defaultValue = "5",
            description =
                    "Retries of a request after a dropped connection, timeout, 429 or 5xx. Default: ${DEFAULT-VALUE}.")
    int maxRetries;

    @Option(
            names = "--request-timeout",
            defaultValue = "600",
            paramLabel = "SECONDS",
            description = "Time limit of one request to the server. Default: ${DEFAULT-VALUE}.")
    double requestTimeout;

    @Option(
            names = "--prompts",
            paramLabel = "FILE",
            description =
                    "Prompt corpus: .jsonl[.gz] ({\"prompt\"}, {\"messages\"}, {\"text\"}), .txt (a prompt a line) or .parquet.")
    Path prompts;

    @Option(
            names = "--responses-from",
            paramLabel = "RUN_DIR",
            description = "Score mode: score the completions of another run (e.g. a student's samples) row by row, with"
                    + " the same prompt and completion ids, instead of reading --prompts.")
    String responsesFrom;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "DIR",
            description = "Run directory (a local path or any Hadoop FileSystem URI).")
    String out;

    @Option(
            names = "--mode",
            defaultValue = "sample",
            paramLabel = "sample|greedy|score",
            description =
                    "sample or greedy: the teacher writes completions; score: teacher forcing over given responses. Default: ${DEFAULT-VALUE}.")
    Mode mode;

    @Option(
            names = "--logits",
            paramLabel = "SPEC",
            converter = LogitsConverter.class,
            description = "What is stored of the teacher's distribution at each position: top-k:K, top-p:P[:KMAX]"
                    + " (the smallest top set with mass >= P, at most KMAX, default 64) or sample:N[:T] (N draws at"
                    + " proposal temperature T, default 1, stored as distinct ids with counts). Default: top-k:20.")
    LogitsSpec logits;

    @Option(names = "--top-k", paramLabel = "K", description = "Same as --logits top-k:K.")
    Integer topK;

    @Option(
            names = "--encoding",
            defaultValue = "plain",
            paramLabel = "plain|compact",
            converter = EncodingConverter.class,
            description = "How label entries are stored (docs/shard-format.md). Default: ${DEFAULT-VALUE}.")
    LabelEncoding encoding;

    @Option(
            names = "--max-new-tokens",
            defaultValue = "512",
            description = "Generation length cap. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(
            names = "--temperature",
            defaultValue = "1.0",
            description = "Sampling temperature (shapes the choice only). Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(
            names = "--top-p",
            defaultValue = "1.0",
            description = "Nucleus sampling mass (shapes the choice only). Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(
            names = "--samples-per-prompt",
            defaultValue = "1",
            description = "Completions per prompt. Default: ${DEFAULT-VALUE}.")
    int samplesPerPrompt;

    @Option(
            names = "--seed",
            defaultValue = "0",
            description = "Seed; sampling is seeded per (seed, prompt, sample). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(
            names = "--shard-size",
            defaultValue = "1000",
            description = "Prompts per shard. Default: ${DEFAULT-VALUE}.")
    int shardSize;

    @Option(
            names = "--max-batch-tokens",
            paramLabel = "N",
            description =
                    "Token budget of one batch (batch size x longest prompt+completion). Default: 16384 on CPU, derived from free memory on GPU.")
    Integer maxBatchTokens;

    @Option(
            names = "--dtype",
            defaultValue = "auto",
            paramLabel = "auto|fp32|fp16",
            description = "Compute dtype: fp16 on GPU, fp32 on CPU when auto. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(
            names = "--device",
            defaultValue = "auto",
            paramLabel = "auto|cpu|gpu[:N]",
            description = "Device: GPU when DJL sees one. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(
            names = "--no-chat-template",
            negatable = false,
            description = "Feed {\"prompt\"} lines raw instead of through the teacher's chat template.")
    boolean noChatTemplate;

    @Option(
            names = "--chat-template",
            paramLabel = "FILE",
            description = "A Jinja chat template file to use instead of the tokenizer's own (vLLM's --chat-template).")
    Path chatTemplateFile;

    @Option(
            names = "--chat-template-kwargs",
            paramLabel = "JSON",
            converter = KwargsConverter.class,
            description = "A JSON object of extra chat template variables (vLLM's chat_template_kwargs), e.g."
                    + " '{\"enable_thinking\": false}' to turn off Qwen3's thinking.")
    Kwargs chatTemplateKwargs;

    @Option(
            names = "--tokenizer",
            paramLabel = "DIR",
            description = "Tokenizer directory, when not the teacher's (required with --teacher-url).")
    Path tokenizer;

    @Option(
            names = "--prompt-field",
            defaultValue = "prompt",
            description = "Field holding the prompt (JSONL/Parquet). Default: ${DEFAULT-VALUE}.")
    String promptField;

    @Option(
            names = "--response-field",
            defaultValue = "response",
            description = "Field holding the response (score mode). Default: ${DEFAULT-VALUE}.")
    String responseField;

    @Option(
            names = "--num-workers",
            defaultValue = "1",
            description = "Processes splitting the shards (shard i goes to worker i mod W). Default: ${DEFAULT-VALUE}.")
    int numWorkers;

    @Option(
            names = "--worker-index",
            defaultValue = "0",
            description = "This process's worker index, 0..W-1. Default: ${DEFAULT-VALUE}.")
    int workerIndex;

    @Option(
            names = "--skip-invalid",
            negatable = false,
            description =
                    "Skip malformed corpus lines (counted by reason and reported) instead of stopping at the first.")
    boolean skipInvalid;

    @Option(
            names = "--verify",
            negatable = false,
            description = "On resume, check every committed shard's sha256 against the manifest (its footer is always"
                    + " checked); a damaged shard is written again.")
    boolean verify;

    @Option(
            names = "--store-spans",
            negatable = false,
            description =
                    "Also store the rendered prompt text, the completion's bytes and each completion token's byte span,"
                            + " plus teacher_vocab.json: what a student with another tokenizer needs (cross-tokenizer distillation).")
    boolean storeSpans;

    @Spec
    CommandSpec commandSpec;

    @Override
    public Integer call() throws java.io.IOException {
        GenerateSummary summary = GenerateRun.run(spec());
        System.out.println(summary.format());
        return 0;
    }

    /** The parsed options, validated. */
    public GenerateSpec spec() {
        return new GenerateSpec(
                teacher,
                tokenizer == null ? teacher : tokenizer,
                prompts,
                out,
                mode,
                LogitsSpec.fromOptions(logits, topK),
                encoding == null ? LabelEncoding.PLAIN : encoding,
                maxNewTokens,
                temperature,
                topP,
                samplesPerPrompt,
                seed,
                shardSize,
                maxBatchTokens,
                dtype,
                device,
                !noChatTemplate,
                chatTemplateFile,
                chatTemplateKwargs == null ? Map.of() : chatTemplateKwargs.values(),
                promptField,
                responseField,
                numWorkers,
                workerIndex,
                skipInvalid,
                verify,
                storeSpans,
                remote(),
                responsesFrom);
    }

    /** Parses --logits; a bad spec is a usage error naming the option and the accepted forms. */
    public static final class LogitsConverter implements CommandLine.ITypeConverter<LogitsSpec> {
        @Override
        public LogitsSpec convert(String value) {
            try {
                return LogitsSpec.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Parses --encoding plain|compact. */
    public static final class EncodingConverter implements CommandLine.ITypeConverter<LabelEncoding> {
        @Override
        public LabelEncoding convert(String value) {
            try {
                return LabelEncoding.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** --chat-template-kwargs as template values (a type of its own: picocli would read a Map option as key=value pairs). */
    record Kwargs(Map<String, Object> values) {}

    /** Parses --chat-template-kwargs; bad JSON or a non-object is a usage error naming the option and the problem. */
    static final class KwargsConverter implements CommandLine.ITypeConverter<Kwargs> {
        @Override
        public Kwargs convert(String json) {
            try {
                return new Kwargs(TemplateKwargs.parse(json));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The --teacher-url options, or null for a local teacher. */
    private RemoteOptions remote() {
        if (teacherUrl == null) {
            if (teacherModel != null) {
                throw new UsageException("--teacher-model names a model on a --teacher-url server; give --teacher-url");
            }
            return null;
        }
        if (!(requestTimeout > 0)) {
            throw new UsageException("--request-timeout must be > 0, got " + requestTimeout);
        }
        return RemoteOptions.of(
                teacherUrl,
                teacherModel,
                ApiKeys.resolve(apiKeyFile, System.getenv()),
                concurrency,
                maxRetries,
                Duration.ofMillis(Math.round(requestTimeout * 1000)),
                vocabSize,
                contextLength);
    }
}
