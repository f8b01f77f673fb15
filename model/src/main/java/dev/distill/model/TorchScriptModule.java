package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A one-method TorchScript module built in memory and loaded on a manager's device: how this project calls a libtorch
 * op that DJL's JNI does not expose. The archive is the one torch.jit.save writes for a module without tensors: the
 * pickled module object, its source, no constants.
 */
final class TorchScriptModule implements AutoCloseable {
    private final PtSymbolBlock module;
    private final String method;

    /**
     * @param className the module's class name in {@code source}
     * @param source what torch.jit.script(...).code prints for the class, as a {@code class X(Module):} block
     * @param manager the manager whose device the module runs on
     */
    TorchScriptModule(String className, String source, NDManager manager) {
        this(className, "forward", source, manager);
    }

    /**
     * A module whose inference calls run {@code method} instead of forward: the name libtorch's profiler gives the
     * call (a reader of a trace, or a test counting a decode step's calls, tells the modules apart by it).
     */
    TorchScriptModule(String className, String method, String source, NDManager manager) {
        this.method = method;
        try {
            module = JniUtils.loadModule(
                    (PtNDManager) manager, new ByteArrayInputStream(archive(className, source)), true, false);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot load the TorchScript module " + className + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs forward; the result is attached to the first input's manager. Records autograd while it is
     * recorded (DJL's NDList entry point, the only one that runs outside inference mode); otherwise it
     * runs in inference mode with the inputs passed as they are.
     */
    NDArray forward(NDArray... inputs) {
        if (JniUtils.isGradMode()) {
            return forwardRecorded(inputs);
        }
        IValue[] args = new IValue[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            args[i] = IValue.from((PtNDArray) inputs[i]);
        }
        return forward(inputs[0].getManager(), args);
    }

    /**
     * Runs the module's method in inference mode on prepared arguments (tensors, lists, numbers), which it closes; the
     * result is attached to {@code manager}.
     */
    NDArray forward(NDManager manager, IValue... args) {
        return forward(manager, List.of(), args);
    }

    /** As {@link #forward(NDManager, IValue...)}, leaving the arguments in {@code kept} (made once, reused) open. */
    NDArray forward(NDManager manager, List<IValue> kept, IValue... args) {
        return run(kept, args, result -> result.toTensor((PtNDManager) manager));
    }

    /**
     * Runs the module's method in inference mode on prepared arguments, which it closes, for one that returns {@code
     * List[Tensor]}: the arrays, attached to {@code manager}.
     */
    NDArray[] forwardList(NDManager manager, IValue... args) {
        return run(List.of(), args, result -> result.toTensorArray((PtNDManager) manager));
    }

    /** Runs the method on {@code args}, reads its result with {@code read}, then closes the result and every argument not in {@code kept}. */
    private <T> T run(List<IValue> kept, IValue[] args, Function<IValue, T> read) {
        withoutExecutorOptimisation();
        try (IValue result = IValueUtils.runMethod(module, method, args)) {
            return read.apply(result);
        } finally {
            for (IValue a : args) {
                if (kept.stream().noneMatch(k -> k == a)) {
                    a.close();
                }
            }
        }
    }

    /** A TorchScript {@code List[Tensor]} argument: the arrays themselves (in-place ops on it change them). */
    static IValue tensors(List<NDArray> arrays) {
        return IValue.listFrom(arrays.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
    }

    /**
     * DJL's NDList entry point reads an input's name as a structure ("a.b" a dict entry, "a[]" a list):
     * a named input (a parameter, named by its Hugging Face name) runs unnamed, its name restored after.
     * Gradients are recorded on one thread per model (the trainer's), so the names are not raced for.
     */
    private NDArray forwardRecorded(NDArray[] inputs) {
        String[] names = new String[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            names[i] = inputs[i].getName();
            if (names[i] != null) {
                inputs[i].setName(null);
            }
        }
        withoutExecutorOptimisation();
        try {
            return IValueUtils.forward(module, new NDList(inputs), true).singletonOrThrow();
        } finally {
            for (int i = 0; i < inputs.length; i++) {
                if (names[i] != null) {
                    inputs[i].setName(names[i]);
                }
            }
        }
    }

    /**
     * Every call runs without the graph executor's optimisation (the setting is per thread). Recorded: with it,
     * libtorch replaces the ops' own backward with its autodiff graphs (DifferentiableGraphBackward), 23% of a
     * training step in TrainBench --profile, 2026-12-06 (train 16 x 512: 408 and 429 tok/s with it, 441 without).
     * Inference: the profiling executor specialises the graph on its inputs' shapes and compiles it again when they
     * change, as a decode step's key length does at every step (single calls of 5-55 ms in PipelineBench --profile,
     * generate batch 1: a third of the decode time).
     */
    private static void withoutExecutorOptimisation() {
        JniUtils.setGraphExecutorOptimize(false);
    }

    @Override
    public void close() {
        module.close();
    }

    /** The zip torch.jit.load reads: data.pkl (the object with training=False), code, constants, version. */
    private static byte[] archive(String className, String source) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        String root = "distill_" + className.toLowerCase(java.util.Locale.ROOT);
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            // pickle protocol 2: GLOBAL __torch__.<className>, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK, 'training',
            // False, SETITEMS, BUILD, STOP
            ByteArrayOutputStream pkl = new ByteArrayOutputStream();
            pkl.write(new byte[] {(byte) 0x80, 2, 'c'});
            pkl.write(("__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII));
            pkl.write(new byte[] {')', (byte) 0x81, '}', '(', 'X', 8, 0, 0, 0});
            pkl.write("training".getBytes(StandardCharsets.US_ASCII));
            pkl.write(new byte[] {(byte) 0x89, 'u', 'b', '.'});
            put(zip, root, "data.pkl", pkl.toByteArray());
            put(zip, root, "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            put(zip, root, "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            put(zip, root, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    private static void put(ZipOutputStream zip, String root, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(root + "/" + name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
