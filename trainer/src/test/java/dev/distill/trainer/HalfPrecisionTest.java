package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --precision fp16 runs the student's forward and backward on a half-precision copy. A run checks on
 * its first step that the backward pass reached every parameter: CausalLM's fp16 forward casts around
 * RMSNorm and the attention softmax with DJL's toType, which detaches, so today only the final norm
 * and the LM head would train. The run must stop with the reason instead of training 2 of 9 tensors.
 */
class HalfPrecisionTest {
    @TempDir Path tmp;

    @Test
    void aHalfPrecisionForwardThatCutsTheGraphIsRefusedOnTheFirstStep() {
        Path student = TestModels.student(tmp.resolve("student"), 13);
        Path out = tmp.resolve("out");
        Cli r = Cli.train("--student", student.toString(), "--data", SharedData.train().toString(), "--out", out.toString(),
                "--steps", "3", "--batch-tokens", "256", "--precision", "fp16", "--device", "cpu");
        assertEquals(1, r.exitCode());
        assertEquals("distill train: --precision fp16: no gradient reached 7 of 9 parameters (model.embed_tokens.weight,"
                + " model.layers.0.input_layernorm.weight, model.layers.0.self_attn.qkv_proj.weight, ...): the model's"
                + " forward pass in this precision is not differentiable end to end; use --precision fp32\n", r.err());
        assertFalse(Files.exists(out.resolve("checkpoint-1")), "no step was taken");
    }
}
