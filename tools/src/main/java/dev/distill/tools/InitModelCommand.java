package dev.distill.tools;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.cli.UsageException;
import dev.distill.model.CausalLM;
import dev.distill.model.ModelConfig;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.TokenizerFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `distill init-model`: a random-init Hugging Face checkpoint of a named shape with a given tokenizer. */
@Command(
        name = "init-model",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Write a random-init Hugging Face checkpoint (config.json, model.safetensors, tokenizer files)"
                + " of a named shape, for a fresh student, the demo or benchmarks.")
public final class InitModelCommand implements Callable<Integer> {
    @Option(
            names = "--preset",
            required = true,
            paramLabel = "tiny|small|bench|qwen2-0.5b",
            description = "Model shape.")
    String preset;

    @Option(
            names = "--tokenizer",
            required = true,
            paramLabel = "DIR",
            description = "Tokenizer directory (tokenizer.json, tokenizer_config.json); its files are copied.")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
    Path out;

    @Option(
            names = "--vocab-size",
            paramLabel = "N",
            description = "Embedding rows (default: the tokenizer's vocabulary rounded up to a multiple of 64).")
    Integer vocabSize;

    @Option(names = "--seed", defaultValue = "0", description = "Initialisation seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws IOException {
        ModelConfig config = write(ModelPreset.parse(preset), tokenizer, out, vocabSize, seed);
        System.out.printf("init-model: wrote %s (%s, %,d parameters)%n", out, preset, config.parameterCount());
        return 0;
    }

    /** Writes the checkpoint and copies the tokenizer files; returns the model's config. */
    public static ModelConfig write(ModelPreset preset, Path tokenizerDir, Path out, Integer vocabSize, long seed)
            throws IOException {
        ModelConfig config;
        try (HfTokenizer tok = HfTokenizer.load(tokenizerDir)) {
            int vocab = vocabSize != null ? vocabSize : (tok.vocabSize() + 63) / 64 * 64;
            if (vocab < tok.vocabSize()) {
                throw new UsageException("--vocab-size " + vocab + " is smaller than the tokenizer's vocabulary ("
                        + tok.vocabSize() + " in " + tokenizerDir + ")");
            }
            config = preset.config(
                    vocab,
                    tok.eosIds(),
                    tok.bosId().isPresent() ? tok.bosId().getAsInt() : null,
                    tok.padId().isPresent() ? tok.padId().getAsInt() : null);
        }
        try (CausalLM model = CausalLM.randomInit(config, seed, DataType.FLOAT32, Device.cpu())) {
            model.save(out);
        }
        TokenizerFiles.copy(tokenizerDir, out);
        return config;
    }
}
