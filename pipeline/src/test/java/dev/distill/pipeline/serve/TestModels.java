package dev.distill.pipeline.serve;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.pipeline.Fixtures;
import dev.distill.pipeline.LocalTeacher;

/** The committed tiny llama as a local teacher, for the serve and remote tests. */
public final class TestModels {
    private TestModels() {}

    public static LocalTeacher llamaTeacher() {
        return new LocalTeacher(CausalLM.load(Fixtures.model("llama"), DataType.FLOAT32, Device.cpu()));
    }
}
