package dev.distill.tools.export;

import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.ModelConfig;
import dev.distill.model.gguf.GgmlType;
import dev.distill.model.gguf.GgufArchitecture;
import dev.distill.model.gguf.GgufException;
import dev.distill.model.gguf.GgufExport;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.trainer.EvalMetrics;
import dev.distill.trainer.Evaluator;
import dev.distill.trainer.TrainCommand;
import dev.distill.trainer.data.SoftLabelData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `distill export`: a model directory as a GGUF file for llama.cpp, Ollama and LM Studio, optionally with its KL cost. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Write a model directory as a GGUF file (llama.cpp, Ollama, LM Studio), optionally quantised,"
                + " and report what the quantisation costs against the teacher's soft labels.")
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR",
            description =
                    "Hugging Face model directory (config.json, safetensors, tokenizer files), e.g. a trained student.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The GGUF file to write.")
    Path out;

    @Option(
            names = "--quant",
            required = true,
            paramLabel = "TYPE",
            description = "Type of the weight matrices: f32, f16, q8_0 or q4_0 (norms and biases stay f32).")
    String quant;

    @Option(
            names = "--fallback",
            paramLabel = "TYPE",
            description =
                    "Store matrices whose rows are not a multiple of the block size (32) as this type (f16 or f32),"
                            + " as llama.cpp's converter does, instead of failing.")
    String fallback;

    @Option(names = "--force", description = "Replace --out if it exists.")
    boolean force;

    @Option(
            names = "--name",
            paramLabel = "NAME",
            description = "general.name in the file. Default: the model directory's name.")
    String name;

    @Option(
            names = "--eval-data",
            split = ",",
            paramLabel = "RUN",
            description = "Soft-label runs from 'distill generate': print KL to the teacher, top-1 and CE of the model"
                    + " directory and of the GGUF file (dequantised) beside their sizes.")
    List<String> evalData;

    @Option(
            names = "--max-rows",
            defaultValue = "0",
            paramLabel = "N",
            description = "With --eval-data: evaluate the first N rows only (0: all). Default: ${DEFAULT-VALUE}.")
    long maxRows;

    @Option(
            names = "--batch-tokens",
            defaultValue = "4096",
            paramLabel = "N",
            description = "With --eval-data: tokens per batch. Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Override
    public Integer call() {
        GgmlType type;
        try {
            type = GgufExport.parseType(quant.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--quant " + e.getMessage(), e);
        }
        GgmlType fallbackType = null;
        if (fallback != null) {
            try {
                fallbackType = GgufExport.parseType(fallback.toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--fallback " + e.getMessage(), e);
            }
            if (fallbackType.blockSize != 1) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--fallback " + fallback + " has blocks itself (supported: f16, f32)");
            }
        }
        if (Files.exists(out) && !force) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--out " + out + " already exists; pass --force to replace it");
        }
        if (Files.isDirectory(out)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--out " + out + " is a directory");
        }
        if (batchTokens < 1 || maxRows < 0) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--batch-tokens must be positive and --max-rows >= 0");
        }
        ModelConfig config = ModelConfig.load(model);
        GgufArchitecture.ofModelType(config.modelType()); // refuse before loading the weights
        SoftLabelData labels =
                evalData == null ? null : SoftLabelData.open(TrainCommand.absolute(evalData), "--eval-data");
        PrintWriter log = spec.commandLine().getOut();
        long size;
        try (HfTokenizer tokenizer = HfTokenizer.load(model);
                CausalLM lm = CausalLM.load(model, DataType.FLOAT32, Engines.device("cpu"))) {
            if (labels != null) {
                labels.requireTokenizer(tokenizer.sha256(), model, "model");
            }
            try {
                Path parent = out.toAbsolutePath().getParent();
                Files.createDirectories(parent);
            } catch (IOException e) {
                throw new UncheckedIOException("--out " + out + ": cannot create its directory: " + e.getMessage(), e);
            }
            String n = name != null
                    ? name
                    : model.toAbsolutePath().normalize().getFileName().toString();
            GgufExport.Result r;
            try {
                r = GgufExport.write(
                        lm, type, fallbackType, n, w -> GgufVocab.write(model, tokenizer, config.vocabSize(), w), out);
            } catch (GgufException e) {
                throw new GgufException(
                        model + ": " + e.getMessage()
                                + (e.getMessage().contains("block size")
                                        ? " (--fallback f16 stores such tensors as f16)"
                                        : ""),
                        e);
            }
            size = r.bytes();
            log.printf(Locale.ROOT, "wrote %s (%s, %s)%n", out, type.name().toLowerCase(Locale.ROOT), mb(size));
            if (!r.fellBack().isEmpty()) {
                log.printf(
                        Locale.ROOT,
                        "%d tensors stored as %s (rows not a multiple of %d): %s%n",
                        r.fellBack().size(),
                        fallback,
                        type.blockSize,
                        String.join(", ", r.fellBack()));
            }
            if (labels != null) {
                long rows = maxRows == 0 ? Long.MAX_VALUE : maxRows;
                // the file is written (GgufExport read the weights): from here the models only run forward, on
                // oneDNN's packed linear layers (docs/model.md, "Packed linear layers")
                lm.packForInference();
                EvalMetrics hf = Evaluator.evaluate(lm, labels, batchTokens, rows, "model");
                EvalMetrics gg;
                try (CausalLM q = CausalLM.load(out, DataType.FLOAT32, Engines.device("cpu"))) {
                    q.packForInference();
                    gg = Evaluator.evaluate(q, labels, batchTokens, rows, "model");
                }
                log.printf(
                        Locale.ROOT,
                        "against the teacher's soft labels (%d rows, %d tokens)%n",
                        hf.rows(),
                        hf.tokens());
                log.println("| model | size on disk | KL(teacher || model) | top-1 agreement | CE of teacher tokens |");
                log.println("| --- | --- | --- | --- | --- |");
                log.println(row(model.toString(), safetensorsSize(model), hf));
                log.println(row(out + " (" + type.name().toLowerCase(Locale.ROOT) + ")", size, gg));
            }
        }
        log.flush();
        return 0;
    }

    private static String row(String what, long bytes, EvalMetrics m) {
        return String.format(
                Locale.ROOT, "| %s | %s | %.4f | %.3f | %.4f |", what, mb(bytes), m.kl(), m.top1(), m.ce());
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.2f MB", bytes / 1e6);
    }

    private static long safetensorsSize(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".safetensors"))
                    .mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .sum();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }
}
