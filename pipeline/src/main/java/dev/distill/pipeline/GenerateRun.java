package dev.distill.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.prompts.Corpus;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.PromptSourceOptions;
import dev.distill.prompts.SkipReport;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One `distill generate` process: resolves the inputs, opens or resumes the run, produces this worker's shards. */
public final class GenerateRun {
    private static final Logger LOG = LoggerFactory.getLogger(GenerateRun.class);
    /** Default token budget of a batch on CPU. */
    static final int CPU_BATCH_TOKENS = 16384;
    static final int MAX_BATCH_SIZE = 256;

    private GenerateRun() {}

    public static GenerateSummary run(GenerateSpec spec) throws IOException {
        Device device = Engines.device(spec.device());
        DataType dtype = computeDtype(spec.dtype(), device);
        PromptSourceOptions sourceOptions =
                new PromptSourceOptions(null, spec.promptField(), spec.responseField(), spec.mode() == Mode.SCORE);
        long promptsTotal = Corpus.count(spec.prompts(), sourceOptions);
        try (HfTokenizer tokenizer = HfTokenizer.load(spec.tokenizer())) {
            String teacherSha = Fingerprints.teacherSha256(spec.teacher());
            String templateSha = spec.chatTemplate()
                    ? tokenizer.chatTemplate().map(t -> t.sha256()).orElse("none")
                    : "none";
            String corpusSha = Corpus.sha256(spec.prompts());
            ObjectNode config = configJson(spec, dtype, teacherSha, tokenizer.sha256(), templateSha, corpusSha);
            RunDirectory run = RunDirectory.open(spec.out(), config, promptsTotal, spec.shardSize());
            List<Integer> pending = run.pendingShards(spec.numWorkers(), spec.workerIndex());
            if (pending.isEmpty()) {
                LOG.info("{}: every shard of worker {}/{} is already complete", spec.out(), spec.workerIndex(),
                        spec.numWorkers());
                return GenerateSummary.of(run, new SkipReport(), 0, 0, 0);
            }
            try (Teacher teacher = new LocalTeacher(CausalLM.load(spec.teacher(), dtype, device))) {
                int[] eos = IntStream.concat(Arrays.stream(teacher.eosIds()), Arrays.stream(tokenizer.eosIds()))
                        .distinct().toArray();
                ShardMetadata meta = new ShardMetadata(1, spec.topK(), teacher.vocabSize(), run.configHash(),
                        spec.teacher().toString(), teacherSha, tokenizer.sha256(), templateSha, corpusSha);
                PromptEncoder encoder = new PromptEncoder(tokenizer, spec.chatTemplate(), spec.mode() == Mode.SCORE,
                        teacher.contextLength(), eos);
                int budget = spec.maxBatchTokens() != null ? spec.maxBatchTokens() : CPU_BATCH_TOKENS;
                GenerationParams params = new GenerationParams(spec.topK(),
                        new TokenSampler(spec.mode() != Mode.SAMPLE, spec.temperature(), spec.topP()), eos);
                ShardGenerator shards = new ShardGenerator(spec, teacher, encoder,
                        new BatchPlanner(budget, MAX_BATCH_SIZE), params);
                long prompts = pending.stream().mapToLong(i -> run.shardRange(i)[1] - run.shardRange(i)[0]).sum();
                SkipReport skips = new SkipReport();
                long tokens = 0;
                long start = System.nanoTime();
                try (Progress progress = new Progress("generate", prompts, "prompts", Duration.ofSeconds(30));
                        PromptSource source = PromptSource.open(spec.prompts(), sourceOptions)) {
                    for (int shard : pending) {
                        tokens += shards.generate(run, shard, source, meta, skips, progress);
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                return GenerateSummary.of(run, skips, prompts, tokens, seconds);
            }
        }
    }

    /** auto: fp16 on a GPU, fp32 on CPU. */
    static DataType computeDtype(String spec, Device device) {
        switch (spec.trim().toLowerCase(java.util.Locale.ROOT)) {
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
                throw new IllegalArgumentException("--dtype bf16: DJL's PyTorch engine has no bfloat16; bf16 checkpoints"
                        + " are widened on load, compute in fp16 (GPU) or fp32");
            default:
                throw new IllegalArgumentException("--dtype: expected auto, fp32 or fp16, got '" + spec + "'");
        }
    }

    /** Every option that changes the data, as recorded in manifest.json (its hash guards resume). */
    static ObjectNode configJson(GenerateSpec spec, DataType dtype, String teacherSha, String tokenizerSha,
            String templateSha, String corpusSha) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("teacher", spec.teacher().toAbsolutePath().normalize().toString());
        c.put("teacher_sha256", teacherSha);
        c.put("tokenizer_sha256", tokenizerSha);
        c.put("chat_template", spec.chatTemplate());
        c.put("chat_template_sha256", templateSha);
        c.put("corpus", spec.prompts().toAbsolutePath().normalize().toString());
        c.put("corpus_sha256", corpusSha);
        c.put("prompt_field", spec.promptField());
        c.put("response_field", spec.responseField());
        c.put("mode", spec.mode().id());
        c.put("top_k", spec.topK());
        c.put("max_new_tokens", spec.maxNewTokens());
        c.put("temperature", spec.temperature());
        c.put("top_p", spec.topP());
        c.put("samples_per_prompt", spec.samplesPerPrompt());
        c.put("seed", spec.seed());
        c.put("shard_size", spec.shardSize());
        c.put("dtype", dtype == DataType.FLOAT16 ? "fp16" : "fp32");
        return c;
    }
}
