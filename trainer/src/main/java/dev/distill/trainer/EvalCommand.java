package dev.distill.trainer;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.UsageException;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.gguf.GgufModel;
import dev.distill.trainer.TrainOptions.Precision;
import dev.distill.trainer.crosstok.CrossTokMetrics;
import dev.distill.trainer.crosstok.CrossTokenizer;
import dev.distill.trainer.data.SoftLabelData;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `distill eval`: Evaluate a model against a teacher's soft labels: KL, top-1 agreement, CE (per-byte CE and aligned KL for a model with another tokenizer). */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Evaluate a model against a teacher's soft labels: KL, top-1 agreement, CE.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            paramLabel = "DIR|FILE.gguf",
            description =
                    "Model directory (config.json, weights, tokenizer files): a student, a checkpoint or the teacher;"
                            + " or a GGUF file from 'distill export' (evaluated on its dequantised weights).")
    Path model;

    @Option(
            names = "--data",
            required = true,
            split = ",",
            paramLabel = "DIR",
            description = "Soft-label run directories from 'distill generate'.")
    List<String> data;

    @Option(
            names = "--batch-tokens",
            defaultValue = "4096",
            paramLabel = "N",
            description = "Prompt + completion tokens per batch. Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Option(
            names = "--device",
            defaultValue = "auto",
            paramLabel = "DEVICE",
            description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            paramLabel = "P",
            description = "fp32 or fp16. Default: ${DEFAULT-VALUE}.")
    Precision precision;

    @Option(
            names = "--max-rows",
            defaultValue = "0",
            paramLabel = "N",
            description = "Evaluate the first N rows only (0: all). Default: ${DEFAULT-VALUE}.")
    long maxRows;

    @Option(names = "--json", description = "Print the metrics as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        UsageException.require(batchTokens >= 1 && maxRows >= 0, "--batch-tokens must be positive and --max-rows >= 0");
        Precision p = precision;
        List<String> locations = TrainCommand.absolute(data);
        String sha =
                GgufModel.isGguf(model) ? GgufModel.tokenizerSha256(model) : Trainer.tokenizerSha256(model, "model");
        SoftLabelData labels = SoftLabelData.open(locations, "--data");
        boolean crossTokenizer = labels.tokenizerDiffers(sha);
        if (crossTokenizer && GgufModel.isGguf(model)) {
            throw new UsageException(
                    "--model " + model + ": the data was made with another tokenizer, and a cross-tokenizer"
                            + " eval reads the model's tokenizer.json; give the Hugging Face model directory, not a GGUF file");
        }
        if (!crossTokenizer) {
            labels.requireTokenizer(sha, model, "model");
        }
        DataType dtype = p == Precision.FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
        long rows = maxRows == 0 ? Long.MAX_VALUE : maxRows;
        ObjectNode metrics;
        String table;
        try (CausalLM lm = CausalLM.load(model, dtype, Engines.device(device))) {
            // eval never trains the model, and its evaluators only read logits: oneDNN's packed linear layers on
            // CPU float32 (docs/model.md, "Packed linear layers"; -Ddistill.linear=matmul keeps the matmul)
            lm.packForInference();
            if (crossTokenizer) {
                try (CrossTokenizer cross =
                        CrossTokenizer.open(model, lm.config(), List.of(labels), List.of("--data"))) {
                    CrossTokMetrics m = CrossTokEvaluator.evaluate(lm, cross, labels, batchTokens, rows);
                    metrics = m.toJson();
                    table = cross.describe() + "\n" + m.table();
                }
            } else {
                EvalMetrics m = Evaluator.evaluate(lm, labels, batchTokens, rows, "model");
                metrics = m.toJson();
                table = m.table();
            }
        }
        java.io.PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", model.toString());
            o.put("data", String.join(",", locations));
            o.setAll(metrics);
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o));
        } else {
            out.println("model       " + model);
            out.println("data        " + String.join(",", locations));
            out.print(table);
        }
        out.flush();
        return 0;
    }
}
