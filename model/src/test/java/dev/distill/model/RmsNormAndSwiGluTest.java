package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * The one-call RMSNorm and silu(gate) * up against the same formulas written as DJL ops, forward and
 * backward (the gradients autograd records through the TorchScript modules), in float32 and float16.
 */
class RmsNormAndSwiGluTest {
    private static final Engine ENGINE = Engines.pytorch();

    @Test
    void rmsNormMatchesExplicitOpsForwardAndBackward() {
        try (NDManager m = ENGINE.newBaseManager()) {
            ENGINE.setRandomSeed(5);
            NDArray eps = m.create(1e-6f);
            try (RmsNorm norm = new RmsNorm(m, eps)) {
                for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
                    NDArray x = m.randomNormal(new Shape(2, 3, 16)).toType(type, false);
                    NDArray w = m.randomNormal(new Shape(16)).toType(type, false);
                    w.setName("model.layers.0.input_layernorm.weight"); // a parameter's name: not read as a dict
                    NDList fused = valueAndGradients(x, w, () -> norm.apply(x, w));
                    NDList explicit = valueAndGradients(x, w, () -> {
                        NDArray xf = Ops.cast(x, DataType.FLOAT32);
                        NDArray variance = xf.square().mean(new int[] {-1}, true);
                        NDArray normed = xf.mul(variance.add(eps).sqrt().pow(-1));
                        return w.mul(Ops.cast(normed, type));
                    });
                    assertEquals("model.layers.0.input_layernorm.weight", w.getName(), "the name is restored");
                    assertClose(type + " RMSNorm", fused, explicit, type == DataType.FLOAT32 ? 1e-5 : 2e-2);
                }
            }
        }
    }

    @Test
    void swiGluMatchesExplicitOpsForwardAndBackward() {
        try (NDManager m = ENGINE.newBaseManager()) {
            ENGINE.setRandomSeed(6);
            try (SwiGlu swiGlu = new SwiGlu(m)) {
                for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
                    NDArray gateAndUp = m.randomNormal(new Shape(2, 3, 2 * 12)).toType(type, false);
                    NDList fused = valueAndGradients(gateAndUp, null, () -> swiGlu.apply(gateAndUp));
                    NDList explicit = valueAndGradients(gateAndUp, null, () -> {
                        NDList parts = gateAndUp.split(2, 2);
                        NDArray gate = parts.get(0);
                        return gate.mul(gate.neg().exp().add(1).pow(-1)).mul(parts.get(1));
                    });
                    assertEquals(new Shape(2, 3, 12), fused.get(0).getShape());
                    assertClose(type + " SwiGLU", fused, explicit, type == DataType.FLOAT32 ? 1e-5 : 2e-2);
                }
            }
        }
    }

    /** [f(), d sum(f() * r) / dx, and / dw when w is given] for a fixed random r, as float32 */
    private static NDList valueAndGradients(NDArray x, NDArray w, java.util.function.Supplier<NDArray> f) {
        x.setRequiresGradient(true);
        if (w != null) {
            w.setRequiresGradient(true);
        }
        NDList out = new NDList();
        try (GradientCollector gc = ENGINE.newGradientCollector()) {
            NDArray y = f.get();
            NDArray r = y.getManager().arange(y.size()).reshape(y.getShape()).toType(y.getDataType(), false);
            gc.backward(y.mul(r.mul(0.01f).sin()).sum());
            out.add(y.toType(DataType.FLOAT32, false));
        }
        for (NDArray input : w == null ? new NDArray[] {x} : new NDArray[] {x, w}) {
            out.add(Ops.gradient(input).duplicate().toType(DataType.FLOAT32, false)); // a copy: zeroed next
            Ops.zeroGradient(input); // the next pass starts from zero
        }
        return out;
    }

    private static void assertClose(String what, NDList actual, NDList expected, double relative) {
        String[] names = {"value", "input gradient", "weight gradient"};
        for (int i = 0; i < expected.size(); i++) {
            float scale = expected.get(i).abs().max().getFloat();
            float diff = actual.get(i).sub(expected.get(i)).abs().max().getFloat();
            assertTrue(scale > 0, what + " " + names[i] + " is all zero");
            assertTrue(diff <= relative * scale, what + " " + names[i] + ": max difference " + diff + " of " + scale);
        }
    }
}
