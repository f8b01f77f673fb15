package dev.distill.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch's fused {@code scaled_dot_product_attention} (flash / memory-efficient kernels: no
 * [B, H, T, S] scores in memory, softmax in float32 inside the kernel), which DJL's JNI does not
 * expose as an op. DJL does run TorchScript modules, so this builds, in memory, the TorchScript
 * archive of a one-line module calling it (the archive torch.jit.save writes for it: pickled
 * module object, its source, no tensors) and loads it once per manager's device.
 */
final class FusedAttention implements AutoCloseable {
    private static final String NAME = "distill_sdpa";
    /** TorchScript source: what torch.jit.script(...).code prints for the module. */
    private static final String SOURCE =
            """
            class Sdpa(Module):
              __parameters__ = []
              __buffers__ = []
              training : bool
              def forward(self: __torch__.Sdpa,
                q: Tensor,
                k: Tensor,
                v: Tensor,
                mask: Tensor) -> Tensor:
                return torch.scaled_dot_product_attention(q, k, v, mask, 0., False, scale=None, enable_gqa=False)
            """;

    private final PtSymbolBlock module;

    FusedAttention(PtNDManager manager) {
        try {
            module = JniUtils.loadModule(manager, new ByteArrayInputStream(archive()), true, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the fused attention module: " + e.getMessage(), e);
        }
    }

    /**
     * softmax(q k^T / sqrt(D) + mask) v. q [B, N, L, D], k and v [B, N, S, D], mask [B, 1, L, S] in
     * q's dtype (additive) -> [B, N, L, D]. Records autograd while gradients are recorded.
     */
    NDArray apply(NDArray q, NDArray k, NDArray v, NDArray mask) {
        // the result is attached to q's manager
        return IValueUtils.forward(module, new NDList(q, k, v, mask), JniUtils.isGradMode())
                .singletonOrThrow();
    }

    @Override
    public void close() {
        module.close();
    }

    /** The zip torch.jit.load reads: data.pkl (a Sdpa object with training=False), code, constants, version. */
    private static byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            // pickle protocol 2: GLOBAL __torch__.Sdpa, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK, 'training', False,
            // SETITEMS, BUILD, STOP
            ByteArrayOutputStream pkl = new ByteArrayOutputStream();
            pkl.write(new byte[] {(byte) 0x80, 2, 'c'});
            pkl.write("__torch__\nSdpa\n".getBytes(StandardCharsets.US_ASCII));
            pkl.write(new byte[] {')', (byte) 0x81, '}', '(', 'X', 8, 0, 0, 0});
            pkl.write("training".getBytes(StandardCharsets.US_ASCII));
            pkl.write(new byte[] {(byte) 0x89, 'u', 'b', '.'});
            put(zip, "data.pkl", pkl.toByteArray());
            put(zip, "code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            put(zip, "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            put(zip, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(NAME + "/" + name);
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
