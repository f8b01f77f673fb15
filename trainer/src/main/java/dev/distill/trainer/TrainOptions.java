package dev.distill.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.UsageException;
import dev.distill.trainer.data.DataMix;
import dev.distill.trainer.loss.CrossTokenizerLoss;
import dev.distill.trainer.loss.DistillLoss;
import dev.distill.trainer.loss.DistillObjective;
import dev.distill.trainer.loss.SampledReverseKl;
import dev.distill.trainer.optim.LrSchedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Every setting of a training run (what {@code distill train} parses), validated; saved in each checkpoint's
 * trainer_state.json so a resumed run can be checked against the one it continues.
 *
 * @param steps optimizer steps, or 0 when {@code epochs} decides
 * @param epochs passes over the data, or 0 when {@code steps} decides
 * @param evalEvery evaluate every N steps (0: only at the start and the end); needs evalData
 * @param saveEvery checkpoint every N steps (0: only at the end)
 * @param shuffleBuffer rows held in the shuffle buffer (1: no row shuffling, shards still shuffled)
 * @param online the online teacher ({@code --teacher}), or null when the targets come from the data
 */
public record TrainOptions(
        Path student,
        List<String> data,
        Path out,
        long steps,
        int epochs,
        int batchTokens,
        int gradAccum,
        double lr,
        long warmupSteps,
        String schedule,
        double minLrRatio,
        double weightDecay,
        double maxGradNorm,
        String loss,
        double jsdBeta,
        double kdTemperature,
        double ceWeight,
        double kdWeight,
        String tail,
        List<String> evalData,
        long evalEvery,
        long saveEvery,
        long seed,
        String device,
        Precision precision,
        int shuffleBuffer,
        boolean resume,
        TeacherOptions online) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Options that may differ between a checkpointed run and the run resuming it: they do not change the weights. */
    static final Set<String> MAY_CHANGE_ON_RESUME =
            Set.of("out", "device", "eval_data", "eval_every", "save_every", "resume");

    /** Compute precision of the student's forward and backward passes. */
    public enum Precision {
        FP32,
        FP16;

        /** The CLI spelling. */
        public String cliName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public TrainOptions {
        Objects.requireNonNull(student, "--student");
        Objects.requireNonNull(out, "--out");
        data = List.copyOf(data);
        evalData = evalData == null ? List.of() : List.copyOf(evalData);
        Objects.requireNonNull(precision, "--precision");
    }

    /**
     * Checks every value and combination; the message names the option.
     *
     * @throws IllegalArgumentException for the first bad value or combination
     */
    public TrainOptions validate() {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("--data: give at least one soft-label run directory");
        }
        if ((steps > 0) == (epochs > 0)) {
            throw new IllegalArgumentException(
                    steps > 0
                            ? "--steps and --epochs: give one of them, not both"
                            : "--steps or --epochs: give one of them (a positive number)");
        }
        if (steps < 0 || epochs < 0) {
            throw new IllegalArgumentException("--steps/--epochs: expected a positive number");
        }
        if (DataMix.parse(data).weighted() && epochs > 0) {
            throw new IllegalArgumentException(
                    "--data with weights mixes the runs by sampling, without epochs: give" + " --steps, not --epochs");
        }
        positive(batchTokens, "--batch-tokens");
        positive(gradAccum, "--grad-accum");
        positive(shuffleBuffer, "--shuffle-buffer");
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("--warmup-steps: expected a number >= 0, got " + warmupSteps);
        }
        if (evalEvery < 0 || saveEvery < 0) {
            throw new IllegalArgumentException(
                    "--eval-every/--save-every: expected a number >= 0 (0 = only at the end)");
        }
        if (evalEvery > 0 && evalData.isEmpty()) {
            throw new IllegalArgumentException("--eval-every needs --eval-data");
        }
        // The math classes validate their own parameters with messages naming the option.
        schedule(1);
        if (CrossTokenizerLoss.Kind.parse(loss) == null) {
            objective();
        } else {
            if (!(kdWeight >= 0)
                    || !(ceWeight >= 0)
                    || kdWeight + ceWeight == 0
                    || Double.isInfinite(kdWeight + ceWeight)) {
                throw new IllegalArgumentException(
                        "--kd-weight/--ce-weight: expected finite weights >= 0, not both 0; got " + kdWeight + ", "
                                + ceWeight);
            }
        }
        if (!(maxGradNorm > 0)) {
            throw new IllegalArgumentException("--max-grad-norm: expected a positive number, got " + maxGradNorm);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("--weight-decay: expected a number >= 0, got " + weightDecay);
        }
        if (online != null) {
            online.validate();
        }
        return this;
    }

    private static void positive(long v, String name) {
        if (v < 1) {
            throw new IllegalArgumentException(name + ": expected a positive number, got " + v);
        }
    }

    /** The learning-rate schedule of a run of {@code totalSteps} optimizer steps. */
    public LrSchedule schedule(long totalSteps) {
        return new LrSchedule(LrSchedule.Kind.parse(schedule), lr, warmupSteps, totalSteps, minLrRatio);
    }

    /**
     * These options for the data they train on: {@code --loss} resolved (forward-kl by default; gold by default when
     * the student's tokenizer differs from the data's) and checked against the case.
     *
     * @param notes receives a line for the run's output when an option does not apply
     * @throws UsageException for a same-tokenizer loss or a temperature with a cross-tokenizer student
     */
    public TrainOptions forData(boolean crossTokenizer, List<String> notes) {
        CrossTokenizerLoss.Kind kind = CrossTokenizerLoss.Kind.parse(loss);
        String resolved;
        if (crossTokenizer) {
            if (loss != null && kind == null) {
                throw new UsageException(
                        "--loss " + loss + " compares distributions over the same token ids, but the"
                                + " student's tokenizer differs from the data's; use --loss gold (the default then) or --loss uld");
            }
            if (kdTemperature != 1.0) {
                throw new UsageException("--kd-temperature " + kdTemperature
                        + ": the cross-tokenizer losses (uld, gold)" + " run at temperature 1");
            }
            resolved = kind == null ? "gold" : loss.toLowerCase(java.util.Locale.ROOT);
        } else {
            if (kind != null) {
                notes.add("--loss " + loss
                        + " is for a student whose tokenizer differs from the data's; this student shares"
                        + " the data's tokenizer, so it trains with forward-kl over the teacher's top-k ids");
            }
            resolved = kind != null || loss == null ? "forward-kl" : loss;
        }
        return new TrainOptions(
                student,
                data,
                out,
                steps,
                epochs,
                batchTokens,
                gradAccum,
                lr,
                warmupSteps,
                schedule,
                minLrRatio,
                weightDecay,
                maxGradNorm,
                resolved,
                jsdBeta,
                kdTemperature,
                ceWeight,
                kdWeight,
                tail,
                evalData,
                evalEvery,
                saveEvery,
                seed,
                device,
                precision,
                shuffleBuffer,
                resume,
                online);
    }

    /** The training objective: kdWeight * KD(loss, tail, T) + ceWeight * CE. */
    public DistillObjective objective() {
        return objective(loss, tail, kdTemperature, jsdBeta, kdWeight, ceWeight);
    }

    /**
     * The training objective of these {@code distill train} options ({@code --loss} null is forward-kl): what
     * `distill onpolicy` checks against its labels before its first round.
     */
    public static DistillObjective objective(
            String loss, String tail, double kdTemperature, double jsdBeta, double kdWeight, double ceWeight) {
        if (SampledReverseKl.NAME.equals(loss)) {
            if (kdTemperature != 1.0) {
                throw new IllegalArgumentException("--kd-temperature: " + SampledReverseKl.NAME + " uses the sampled"
                        + " tokens' log-probs at temperature 1; got " + kdTemperature);
            }
            return DistillObjective.sampled(new SampledReverseKl(), kdWeight, ceWeight);
        }
        DistillLoss kd =
                kdWeight == 0 ? null : DistillLoss.of(loss == null ? "forward-kl" : loss, tail, kdTemperature, jsdBeta);
        return new DistillObjective(kd, kdWeight, ceWeight);
    }

    /** The options as JSON (snake_case keys), as saved in trainer_state.json. */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("student", student.toString());
        strings(o.putArray("data"), data);
        o.put("out", out.toString());
        o.put("steps", steps);
        o.put("epochs", epochs);
        o.put("batch_tokens", batchTokens);
        o.put("grad_accum", gradAccum);
        o.put("lr", lr);
        o.put("warmup_steps", warmupSteps);
        o.put("schedule", schedule);
        o.put("min_lr_ratio", minLrRatio);
        o.put("weight_decay", weightDecay);
        o.put("max_grad_norm", maxGradNorm);
        o.put("loss", loss);
        o.put("jsd_beta", jsdBeta);
        o.put("kd_temperature", kdTemperature);
        o.put("ce_weight", ceWeight);
        o.put("kd_weight", kdWeight);
        o.put("tail", tail);
        strings(o.putArray("eval_data"), evalData);
        o.put("eval_every", evalEvery);
        o.put("save_every", saveEvery);
        o.put("seed", seed);
        o.put("device", device);
        o.put("precision", precision.cliName());
        o.put("shuffle_buffer", shuffleBuffer);
        o.put("resume", resume);
        if (online != null) {
            online.toJson(o.putObject("teacher"));
        }
        return o;
    }

    private static JsonNode reparsed(ObjectNode node) {
        try {
            return JSON.readTree(JSON.writeValueAsString(node));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot re-read the options' own JSON", e);
        }
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    /**
     * The options that differ from a checkpoint's and would change the training trajectory, as
     * {@code "name: saved (checkpoint) vs now (now)"}; empty when the run may resume.
     */
    public List<String> trajectoryDifferences(JsonNode saved) {
        List<String> diffs = new ArrayList<>();
        JsonNode now = reparsed(toJson()); // numbers typed as they read back from a file
        Iterator<Map.Entry<String, JsonNode>> it = now.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (MAY_CHANGE_ON_RESUME.contains(e.getKey()) || e.getKey().equals("student")) {
                continue; // the student of a resumed run is the checkpoint's own weights
            }
            JsonNode old = saved.get(e.getKey());
            if (e.getKey().equals("loss")
                    && loss == null
                    && old != null
                    && (old.asText().equals("forward-kl") || old.asText().equals("gold"))) {
                continue; // --loss not given: the data's default, which the checkpoint recorded resolved
            }
            if (old == null || !old.equals(e.getValue())) {
                diffs.add(e.getKey() + ": " + (old == null ? "(absent)" : old) + " (checkpoint) vs " + e.getValue()
                        + " (now)");
            }
        }
        if (saved.has("teacher") && !now.has("teacher")) {
            diffs.add("teacher: " + saved.get("teacher") + " (checkpoint) vs (absent) (now)");
        }
        return diffs;
    }
}
