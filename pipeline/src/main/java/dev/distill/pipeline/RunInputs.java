package dev.distill.pipeline;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.UsageException;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.model.CategoricalDraws;
import dev.distill.prompts.Corpus;
import dev.distill.prompts.PromptSourceOptions;
import dev.distill.tokenizer.ChatTemplate;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.TemplateKwargs;
import dev.distill.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * What every shard of a run is made from, resolved once by the process that opens the run: the configuration
 * recorded in manifest.json (every option that changes the data, with the inputs' fingerprints), the prompt
 * count and the text of the --chat-template file (null without one). Serializable, so a cluster's tasks use their
 * driver's resolution instead of redoing it.
 */
public record RunInputs(
        String configJson,
        long promptsTotal,
        String teacherSha256,
        String tokenizerSha256,
        String chatTemplateSha256,
        String chatTemplateSource,
        String corpusSha256)
        implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The run-config key naming how a sample run draws its ids ({@link CategoricalDraws#METHOD}). */
    static final String SAMPLE_DRAWS_KEY = "sample_draws";

    /**
     * Counts the corpus and fingerprints the teacher, tokenizer, chat template (the --chat-template file when given)
     * and corpus. A remote teacher ({@code dtype} null) is identified by its URL and model name.
     *
     * @throws UsageException when a --chat-template-kwargs key is a variable the renderer sets (e.g. a special token)
     * @throws IllegalArgumentException when the --chat-template file is missing or does not compile
     */
    public static RunInputs resolve(GenerateSpec spec, DataType dtype, HfTokenizer tokenizer) throws IOException {
        try {
            TemplateKwargs.requireAllowed(spec.chatTemplateKwargs(), tokenizer.specialTokens());
        } catch (IllegalArgumentException e) {
            throw new UsageException("--chat-template-kwargs: " + e.getMessage(), e);
        }
        ChatTemplate override = null;
        if (spec.chatTemplateFile() != null) {
            try {
                override = ChatTemplate.load(spec.chatTemplateFile());
            } catch (TokenizerException e) {
                throw new IllegalArgumentException("--chat-template: " + e.getMessage(), e);
            }
        }
        String teacherSha =
                spec.remote() != null ? spec.remote().fingerprint() : Fingerprints.teacherSha256(spec.teacher());
        if (spec.responsesFrom() != null) {
            return responses(spec, dtype, teacherSha, tokenizer.sha256());
        }
        long promptsTotal = Corpus.count(spec.prompts(), promptOptions(spec));
        String templateSha = !spec.chatTemplate()
                ? "none"
                : override != null
                        ? override.sha256()
                        : tokenizer.chatTemplate().map(ChatTemplate::sha256).orElse("none");
        String corpusSha = Corpus.sha256(spec.prompts());
        ObjectNode config = config(spec, dtype, teacherSha, tokenizer.sha256(), templateSha, corpusSha);
        return new RunInputs(
                config.toString(),
                promptsTotal,
                teacherSha,
                tokenizer.sha256(),
                templateSha,
                override == null ? null : override.source(),
                corpusSha);
    }

    /**
     * The inputs of a run scoring another run's completions: its prompts total and shard size, its chat template and
     * corpus fingerprints (the prompt ids were made with them), and its config hash, recorded as
     * {@code responses_config_hash}.
     */
    private static RunInputs responses(GenerateSpec spec, DataType dtype, String teacherSha, String tokenizerSha)
            throws IOException {
        RunDirectory source =
                ResponsesRun.open(spec.responsesFrom(), tokenizerSha).run();
        String templateSha = source.config().path("chat_template_sha256").asText("none");
        String corpusSha = source.config().path("corpus_sha256").asText(source.configHash());
        ObjectNode c = teacher(spec, teacherSha);
        c.put("tokenizer_sha256", tokenizerSha);
        c.put("chat_template_sha256", templateSha);
        c.put("responses_from", location(spec.responsesFrom()));
        c.put("responses_config_hash", source.configHash());
        c.put("mode", spec.mode().id());
        c.put("top_k", spec.topK());
        c.put(RunDirectory.SHARD_SIZE_KEY, source.shardSize());
        if (dtype != null) {
            c.put("dtype", dtype == DataType.FLOAT16 ? "fp16" : "fp32");
        }
        return new RunInputs(
                c.toString(), source.promptsTotal(), teacherSha, tokenizerSha, templateSha, null, corpusSha);
    }

    /** A local path made absolute and normal; a URI with a scheme (hdfs://, s3a://, file://) as given. */
    private static String location(String l) {
        return l.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")
                ? l
                : java.nio.file.Path.of(l).toAbsolutePath().normalize().toString();
    }

    /** The template chat prompts are rendered with: the --chat-template file's, else the tokenizer's own (if any). */
    public Optional<ChatTemplate> chatTemplate(GenerateSpec spec, HfTokenizer tokenizer) {
        return chatTemplateSource == null
                ? tokenizer.chatTemplate()
                : Optional.of(ChatTemplate.compile(
                        chatTemplateSource, spec.chatTemplateFile().toString()));
    }

    /**
     * Creates the run directory {@code spec.out()}, or resumes it (writes manifest.json).
     *
     * @throws IllegalArgumentException when the run there was made with another configuration, naming the options
     */
    public RunDirectory open(GenerateSpec spec) throws IOException {
        return RunDirectory.open(spec.out(), config(), promptsTotal, shardSize(), spec.verify());
    }

    /** The run directory {@code spec.out()}, which another process opened, for writing shards only. */
    public RunDirectory attach(GenerateSpec spec) throws IOException {
        return RunDirectory.forShardWriters(spec.out(), config(), promptsTotal, shardSize());
    }

    /** Prompts per shard: --shard-size, or the scored run's with --responses-from. */
    public int shardSize() {
        return config().get(RunDirectory.SHARD_SIZE_KEY).asInt();
    }

    /** The run configuration as recorded in manifest.json. */
    public ObjectNode config() {
        try {
            return (ObjectNode) JSON.readTree(configJson);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The compute dtype the run was opened with. */
    public DataType dtype() {
        return "fp16".equals(config().path("dtype").asText()) ? DataType.FLOAT16 : DataType.FLOAT32;
    }

    /** How the corpus is read for {@code spec}. */
    static PromptSourceOptions promptOptions(GenerateSpec spec) {
        return new PromptSourceOptions(null, spec.promptField(), spec.responseField(), spec.mode() == Mode.SCORE);
    }

    /** The config's first entries: the teacher (its URL and model name, or its directory and fingerprint). */
    private static ObjectNode teacher(GenerateSpec spec, String teacherSha) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        if (spec.remote() != null) {
            c.put("teacher_url", spec.remote().url());
            c.put("teacher_model", spec.remote().model());
        } else {
            c.put("teacher", spec.teacher().toAbsolutePath().normalize().toString());
            c.put("teacher_sha256", teacherSha);
        }
        return c;
    }

    /** Every option that changes the data, as recorded in manifest.json (its hash guards resume). */
    private static ObjectNode config(
            GenerateSpec spec,
            DataType dtype,
            String teacherSha,
            String tokenizerSha,
            String templateSha,
            String corpusSha) {
        ObjectNode c = teacher(spec, teacherSha);
        c.put("tokenizer_sha256", tokenizerSha);
        c.put("chat_template", spec.chatTemplate());
        c.put("chat_template_sha256", templateSha);
        // recorded only when given, so runs made before these options existed still resume
        if (spec.chatTemplateFile() != null) {
            c.put(
                    "chat_template_file",
                    spec.chatTemplateFile().toAbsolutePath().normalize().toString());
        }
        if (!spec.chatTemplateKwargs().isEmpty()) {
            c.set("chat_template_kwargs", JSON.valueToTree(spec.chatTemplateKwargs()));
        }
        c.put("corpus", spec.prompts().toAbsolutePath().normalize().toString());
        c.put("corpus_sha256", corpusSha);
        c.put("prompt_field", spec.promptField());
        c.put("response_field", spec.responseField());
        c.put("mode", spec.mode().id());
        // top-k plain runs keep the key they always had, so runs made before --logits existed still resume
        if (spec.logits().kind() == LogitsSpec.Kind.TOP_K) {
            c.put("top_k", spec.topK());
        } else {
            c.put("logits", spec.logits().toString());
        }
        if (spec.logits().kind() == LogitsSpec.Kind.SAMPLE) {
            // how ids are drawn from the uniforms: a sample run begun by a build that drew otherwise (before this
            // key, on the host in doubles) is refused on resume rather than finished with other draws
            c.put(SAMPLE_DRAWS_KEY, CategoricalDraws.METHOD);
        }
        if (spec.encoding() != LabelEncoding.PLAIN) {
            c.put("encoding", spec.encoding().spelling());
        }
        c.put("max_new_tokens", spec.maxNewTokens());
        c.put("temperature", spec.temperature());
        c.put("top_p", spec.topP());
        c.put("samples_per_prompt", spec.samplesPerPrompt());
        c.put("seed", spec.seed());
        c.put("shard_size", spec.shardSize());
        if (spec.storeSpans()) {
            c.put(RunDirectory.STORE_SPANS_KEY, true); // only when given: runs without it keep their config hash
        }
        if (dtype != null) {
            c.put("dtype", dtype == DataType.FLOAT16 ? "fp16" : "fp32");
        }
        return c;
    }
}
