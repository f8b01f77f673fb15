package dev.distill.model.safetensors;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Releases a memory-mapped chunk as soon as its data has been copied, instead of when the garbage
 * collector gets to it: otherwise every mapped page of a checkpoint stays in the process's resident
 * set until the next GC, doubling the apparent memory of a load. Uses the JDK's
 * {@code Unsafe.invokeCleaner} when present; without it, chunks are released by the GC as usual.
 */
final class MappedChunks {
    private static final MethodHandle INVOKE_CLEANER = findCleaner();

    private MappedChunks() {}

    private static MethodHandle findCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            return MethodHandles.lookup()
                    .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                    .bindTo(theUnsafe.get(null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** Unmaps {@code chunk}; it must not be used (or referenced by a tensor) afterwards. */
    static void release(MappedByteBuffer chunk) {
        if (INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact((ByteBuffer) chunk);
        } catch (Throwable e) {
            throw new IllegalStateException("cannot unmap a safetensors chunk", e);
        }
    }
}
