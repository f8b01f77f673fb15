package dev.distill.pipeline;

/** Recognises a device or host out-of-memory failure reported through DJL's engine. */
final class OutOfMemory {
    private OutOfMemory() {}

    static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
            String m = t.getMessage();
            if (m != null && (m.contains("CUDA out of memory") || m.contains("out of memory")
                    || m.contains("DefaultCPUAllocator: can't allocate memory"))) {
                return true;
            }
        }
        return false;
    }
}
