package dev.distill.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.trainer.data.DataPosition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Everything besides weights and optimizer moments that a resumed run needs to continue exactly:
 * the step, where the data stream is, the loss scaler, and the options the run was started with.
 * Stored as {@code trainer_state.json} in each checkpoint.
 *
 * @param step optimizer steps attempted (including fp16 steps skipped on overflow)
 * @param totalSteps the run's planned steps (the learning-rate schedule's length)
 * @param position the data stream position after this step
 * @param trainTokens completion tokens trained on so far
 * @param lossScale the fp16 loss scale, or null in fp32
 * @param scalerCleanSteps the fp16 loss scaler's consecutive clean steps, or null in fp32
 * @param tokenizerSha256 the student's tokenizer hash (the data was checked against it)
 * @param options the run's options ({@code TrainOptions.toJson()})
 */
public record TrainerState(
        long step,
        long totalSteps,
        DataPosition position,
        long trainTokens,
        Double lossScale,
        Integer scalerCleanSteps,
        String tokenizerSha256,
        ObjectNode options) {

    public static final String FILE = "trainer_state.json";
    static final String FORMAT = "distill-trainer-state/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes {@code dir/trainer_state.json}. */
    public void write(Path dir) {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("step", step);
        o.put("total_steps", totalSteps);
        ObjectNode pos = o.putObject("data_position");
        pos.put("epoch", position.epoch());
        pos.put("row", position.row());
        ObjectNode rng = o.putObject("rng");
        rng.put("seed", options.path("seed").asLong());
        rng.put(
                "shuffle",
                "epoch e is ordered by SplittableRandom(seed * 0x9E3779B97F4A7C15 + e); "
                        + "a resumed run replays epoch data_position.epoch to data_position.row");
        o.put("train_tokens", trainTokens);
        if (lossScale == null) {
            o.putNull("loss_scaler");
        } else {
            ObjectNode s = o.putObject("loss_scaler");
            s.put("scale", lossScale);
            s.put("clean_steps", scalerCleanSteps);
        }
        o.put("tokenizer_sha256", tokenizerSha256);
        o.set("options", options);
        try {
            JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(FILE).toFile(), o);
        } catch (IOException e) {
            throw new UncheckedIOException(dir.resolve(FILE) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Reads {@code dir/trainer_state.json}; errors name the file and field. */
    public static TrainerState read(Path dir) {
        Path file = dir.resolve(FILE);
        JsonNode o;
        try {
            o = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new IllegalArgumentException(
                    file + ": format is '" + o.path("format").asText() + "', expected " + FORMAT);
        }
        JsonNode scaler = o.path("loss_scaler");
        return new TrainerState(
                number(o, "step", file),
                number(o, "total_steps", file),
                new DataPosition(
                        number(o.path("data_position"), "epoch", file), number(o.path("data_position"), "row", file)),
                number(o, "train_tokens", file),
                scaler.isObject() ? scaler.path("scale").asDouble() : null,
                scaler.isObject() ? scaler.path("clean_steps").asInt() : null,
                o.path("tokenizer_sha256").asText(),
                (ObjectNode) object(o, "options", file));
    }

    private static long number(JsonNode o, String field, Path file) {
        JsonNode v = o.get(field);
        if (v == null || !v.canConvertToLong()) {
            throw new IllegalArgumentException(file + ": field " + field + " is missing or not an integer");
        }
        return v.asLong();
    }

    private static JsonNode object(JsonNode o, String field, Path file) {
        JsonNode v = o.get(field);
        if (v == null || !v.isObject()) {
            throw new IllegalArgumentException(file + ": field " + field + " is missing or not an object");
        }
        return v;
    }
}
