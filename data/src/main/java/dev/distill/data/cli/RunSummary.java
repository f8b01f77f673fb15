package dev.distill.data.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.data.Fidelity;
import dev.distill.data.Manifest;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.data.SoftLabelRow;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;

/** What {@code distill inspect} reports about a run directory, computed by streaming its committed shards. */
record RunSummary(
        String location,
        int shardsTotal,
        int shardsComplete,
        long rows,
        long prompts,
        long promptsTotal,
        long promptTokens,
        long completionTokens,
        long bytes,
        Integer topK,
        Integer vocabSize,
        double massMean,
        double massMin,
        Map<String, Long> finishReasons,
        String configHash,
        ObjectNode config,
        String logits,
        String encoding,
        Fidelity fidelity) {

    private static final List<String> COLUMNS = List.of(
            ShardSchema.PROMPT_INDEX,
            ShardSchema.PROMPT_IDS,
            ShardSchema.COMPLETION_IDS,
            ShardSchema.TOPK_LOGPROBS,
            ShardSchema.FINISH_REASON,
            ShardSchema.LABEL_SIZES);

    static RunSummary of(RunDirectory run) throws IOException {
        long rows = 0, prompts = 0, promptTokens = 0, completionTokens = 0, bytes = 0, positions = 0;
        long lastPrompt = -1;
        double massSum = 0, massMin = Double.NaN;
        Integer topK = null, vocab = null;
        String logits = null, encoding = null;
        List<Fidelity> fidelities = new java.util.ArrayList<>();
        Map<String, Long> finish = new TreeMap<>();
        List<Path> shards = run.committedShards();
        for (Path shard : shards) {
            bytes += run.fileSystem().getFileStatus(shard).getLen();
            try (ShardReader reader = ShardReader.open(shard, COLUMNS)) {
                ShardMetadata meta = reader.metadata();
                topK = meta.topK();
                vocab = meta.vocabSize();
                logits = meta.logits().toString();
                encoding = meta.encoding().spelling();
                if (reader.fidelity() != null) {
                    fidelities.add(reader.fidelity());
                }
                int k = meta.topK();
                for (SoftLabelRow row : reader) {
                    rows++;
                    if (row.promptIndex() != lastPrompt) {
                        prompts++;
                        lastPrompt = row.promptIndex();
                    }
                    promptTokens += row.promptIds().length;
                    completionTokens += row.completionIds().length;
                    finish.merge(row.finishReason(), 1L, Long::sum);
                    float[] lp = row.topkLogprobs();
                    int[] offsets = row.labelOffsets(k);
                    for (int t = 0; t + 1 < offsets.length && offsets[t + 1] <= lp.length; t++) {
                        double mass = 0;
                        for (int j = offsets[t]; j < offsets[t + 1]; j++) {
                            mass += Math.exp(lp[j]);
                        }
                        massSum += mass;
                        massMin = positions == 0 ? mass : Math.min(massMin, mass);
                        positions++;
                    }
                }
            }
        }
        return new RunSummary(
                run.location(),
                run.shardCount(),
                shards.size(),
                rows,
                prompts,
                run.promptsTotal(),
                promptTokens,
                completionTokens,
                bytes,
                topK,
                vocab,
                positions == 0 ? Double.NaN : massSum / positions,
                massMin,
                finish,
                run.configHash(),
                run.config(),
                logits,
                encoding,
                Fidelity.merge(fidelities));
    }

    String toText() {
        StringBuilder s = new StringBuilder();
        line(s, "run directory", location);
        line(s, "shards", shardsComplete + " of " + shardsTotal + " complete");
        line(s, "rows", count(rows));
        line(s, "prompts", count(prompts) + " of " + count(promptsTotal) + " in the corpus");
        line(s, "prompt tokens", count(promptTokens));
        line(s, "completion tokens", count(completionTokens));
        line(
                s,
                "bytes on disk",
                count(bytes)
                        + (completionTokens > 0
                                ? String.format(Locale.ROOT, " (%.2f per completion token)", bytesPerToken())
                                : ""));
        line(
                s,
                "logits",
                logits == null
                        ? "n/a"
                        : logits + " (" + encoding + " encoding), at most " + topK
                                + " entries per position, vocabulary " + count(vocabSize));
        line(
                s,
                "stored mass",
                Double.isNaN(massMean)
                        ? "n/a"
                        : String.format(
                                Locale.ROOT,
                                "mean %.4f, min %.4f over %s positions",
                                massMean,
                                massMin,
                                count(completionTokens)));
        line(s, "fidelity", fidelity == null ? "n/a (format version 1 shards)" : fidelity.describe());
        StringBuilder reasons = new StringBuilder();
        finishReasons.forEach((reason, n) -> reasons.append(reasons.length() == 0 ? "" : ", ")
                .append(reason)
                .append(' ')
                .append(count(n)));
        line(s, "finish reasons", reasons.length() == 0 ? "n/a" : reasons.toString());
        line(s, "config_hash", configHash);
        s.append("config\n");
        for (String configLine : Manifest.pretty(config).split("\n")) {
            s.append("  ").append(configLine).append('\n');
        }
        return s.toString();
    }

    ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("run_directory", location);
        o.put("shards_total", shardsTotal);
        o.put("shards_complete", shardsComplete);
        o.put("rows", rows);
        o.put("prompts", prompts);
        o.put("prompts_total", promptsTotal);
        o.put("prompt_tokens", promptTokens);
        o.put("completion_tokens", completionTokens);
        o.put("bytes", bytes);
        putNumber(o, "bytes_per_completion_token", completionTokens > 0 ? bytesPerToken() : Double.NaN);
        o.put("top_k", topK);
        o.put("vocab_size", vocabSize);
        putNumber(o, "topk_mass_mean", massMean);
        putNumber(o, "topk_mass_min", massMin);
        o.put("logits", logits);
        o.put("encoding", encoding);
        if (fidelity != null) {
            o.set("fidelity", fidelity.toJson());
        } else {
            o.putNull("fidelity");
        }
        ObjectNode reasons = o.putObject("finish_reasons");
        finishReasons.forEach(reasons::put);
        o.put("config_hash", configHash);
        o.set("config", config);
        return o;
    }

    private double bytesPerToken() {
        return (double) bytes / completionTokens;
    }

    private static void putNumber(ObjectNode o, String key, double value) {
        if (Double.isNaN(value)) {
            o.putNull(key);
        } else {
            o.put(key, value);
        }
    }

    private static void line(StringBuilder s, String label, String value) {
        s.append(String.format(Locale.ROOT, "%-19s%s\n", label, value));
    }

    private static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
