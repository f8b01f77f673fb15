package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken model directories fail at load with a message naming the file and the field or tensor. */
class LoadErrorTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    NDManager m;

    @BeforeEach
    void setUp() {
        m = Engines.pytorch().newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    /** The llama fixture's tensors (fp32), editable, written back as dir/model.safetensors with its config. */
    private Path llamaWith(Consumer<Map<String, NDArray>> edit) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.model("llama").resolve("model.safetensors"))) {
            for (String name : f.tensors().keySet()) {
                tensors.put(name, f.read(name, DataType.FLOAT32, m));
            }
        }
        edit.accept(tensors);
        Files.copy(Fixtures.model("llama").resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return dir;
    }

    private String loadError(Path modelDir) {
        return assertThrows(ModelFormatException.class, () -> CausalLM.load(modelDir, DataType.FLOAT32, Device.cpu()))
                .getMessage();
    }

    @Test
    void missingTensor() throws IOException {
        Path d = llamaWith(t -> t.remove("model.layers.1.mlp.up_proj.weight"));
        assertEquals(
                d.resolve("model.safetensors") + ": missing tensor 'model.layers.1.mlp.up_proj.weight' [128, 64]",
                loadError(d));
    }

    @Test
    void unexpectedTensor() throws IOException {
        Path d = llamaWith(t -> t.put("model.layers.2.mlp.up_proj.weight", m.zeros(new Shape(128, 64))));
        assertEquals(
                d.resolve("model.safetensors") + ": unexpected tensor 'model.layers.2.mlp.up_proj.weight'",
                loadError(d));
    }

    @Test
    void shapeMismatch() throws IOException {
        Path d = llamaWith(t -> t.put("model.layers.0.self_attn.k_proj.weight", m.zeros(new Shape(16, 64))));
        assertEquals(
                d.resolve("model.safetensors") + ": tensor 'model.layers.0.self_attn.k_proj.weight' has shape "
                        + "[16, 64], expected [32, 64]",
                loadError(d));
    }

    @Test
    void nonFloatTensor() throws IOException {
        Path d = llamaWith(t -> t.put("model.norm.weight", m.zeros(new Shape(64), DataType.INT64)));
        assertEquals(
                d.resolve("model.safetensors") + ": tensor 'model.norm.weight' has dtype I64; supported: F32, "
                        + "F16, BF16",
                loadError(d));
    }

    @Test
    void missingShardOfAnIndex() throws IOException {
        for (String f : new String[] {
            "config.json",
            "model.safetensors.index.json",
            "model-00001-of-00003.safetensors",
            "model-00003-of-00003.safetensors"
        }) {
            Files.copy(Fixtures.model("llama_sharded").resolve(f), dir.resolve(f));
        }
        assertEquals(
                dir.resolve("model.safetensors.index.json")
                        + ": shard 'model-00002-of-00003.safetensors' does not exist",
                loadError(dir));
    }

    @Test
    void noWeights() throws IOException {
        Files.copy(Fixtures.model("llama").resolve("config.json"), dir.resolve("config.json"));
        assertEquals(dir + ": no model.safetensors or model.safetensors.index.json", loadError(dir));
    }

    private String configError(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode cfg = (ObjectNode)
                JSON.readTree(Fixtures.model("llama").resolve("config.json").toFile());
        edit.accept(cfg);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        return loadError(dir);
    }

    @Test
    void unsupportedConfigsNameTheFieldAndValue() throws IOException {
        String where = dir.resolve("config.json") + ": ";
        assertEquals(
                where + "model_type 'gpt2' is not supported (supported: llama, mistral, qwen2, qwen3)",
                configError(c -> c.put("model_type", "gpt2")));
        assertEquals(
                where + "rope_parameters.rope_type 'dynamic' is not supported (supported: default, linear, llama3)",
                configError(c -> c.putObject("rope_parameters")
                        .put("rope_type", "dynamic")
                        .put("factor", 2.0)));
        assertEquals(
                where + "rope_scaling.rope_type 'yarn' is not supported (supported: default, linear, llama3)",
                configError(c -> {
                    c.remove("rope_parameters");
                    c.put("rope_theta", 10000.0);
                    c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
                }));
        assertEquals(
                where + "rope_scaling.type 'longrope' is not supported (supported: default, linear, llama3)",
                configError(c -> {
                    c.remove("rope_parameters");
                    c.putObject("rope_scaling").put("type", "longrope");
                }));
        assertEquals(
                where + "missing required field 'rope_parameters.factor'",
                configError(c -> c.putObject("rope_parameters").put("rope_type", "linear")));
        assertEquals(
                where + "architectures [\"LlamaForSequenceClassification\"] is not supported (supported: "
                        + "LlamaForCausalLM)",
                configError(c -> c.putArray("architectures").add("LlamaForSequenceClassification")));
        assertEquals(
                where + "hidden_act 'gelu' is not supported (supported: silu)",
                configError(c -> c.put("hidden_act", "gelu")));
        assertEquals(
                where + "attention_bias true is not supported for llama",
                configError(c -> c.put("attention_bias", true)));
        assertEquals(where + "missing required field 'hidden_size'", configError(c -> c.remove("hidden_size")));
        assertEquals(
                where + "hidden_size must be an integer, got \"64\"", configError(c -> c.put("hidden_size", "64")));
        assertEquals(
                where + "num_attention_heads 4 is not a multiple of num_key_value_heads 3",
                configError(c -> c.put("num_key_value_heads", 3)));
        assertEquals(
                where + "eos_token_id must be an integer or a list of integers, got [2,\"x\"]",
                configError(c -> c.putArray("eos_token_id").add(2).add("x")));
    }

    @Test
    void computeDtypeMustBeFloat32OrFloat16() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CausalLM.load(Fixtures.model("llama"), DataType.BFLOAT16, Device.cpu()));
        assertEquals("compute dtype bfloat16 is not supported (supported: float32, float16)", e.getMessage());
    }

    /** The qwen3_layer_types fixture's config.json, edited, in dir (without weights: config errors come first). */
    private String qwenConfigError(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode cfg = (ObjectNode) JSON.readTree(
                Fixtures.model("qwen3_layer_types").resolve("config.json").toFile());
        edit.accept(cfg);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        return loadError(dir);
    }

    @Test
    void unknownOrInconsistentLayerTypesAreRefused() throws IOException {
        String where = dir.resolve("config.json") + ": ";
        assertEquals(
                where + "layer_types[1] 'chunked_attention' is not supported (supported: full_attention, "
                        + "sliding_attention)",
                qwenConfigError(
                        c -> c.putArray("layer_types").add("sliding_attention").add("chunked_attention")));
        assertEquals(
                where + "layer_types[0] 'global_attention' is not supported (supported: full_attention, "
                        + "sliding_attention)",
                configError(
                        c -> c.putArray("layer_types").add("global_attention").add("full_attention")));
        assertEquals(where + "layer_types has 3 entries, num_hidden_layers is 2", qwenConfigError(c -> c.putArray(
                        "layer_types")
                .add("full_attention")
                .add("full_attention")
                .add("sliding_attention")));
        assertEquals(
                where + "layer_types must be a list of strings, got [\"full_attention\",1]",
                qwenConfigError(
                        c -> c.putArray("layer_types").add("full_attention").add(1)));
        assertEquals(
                where + "layer_types[0] is 'sliding_attention' but there is no sliding window "
                        + "(use_sliding_window false or sliding_window null)",
                qwenConfigError(c -> c.put("use_sliding_window", false)));
        assertEquals(
                where + "sliding_window must be a positive integer, got 0",
                qwenConfigError(c -> c.put("sliding_window", 0)));
        assertEquals(
                where + "use_sliding_window true is not supported for llama",
                configError(c -> c.put("use_sliding_window", true)));
    }
}
