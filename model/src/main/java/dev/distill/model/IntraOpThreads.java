package dev.distill.model;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;

/**
 * libtorch's intra-op thread count narrowed for a while, restored on close: a CPU forward of a few tokens (a decode
 * step of up to {@link #FEW_TOKENS} rows) runs on one thread, where OpenMP's fork and barrier around each of its small
 * ops cost more than a second thread gains. The count is libtorch's, for the process: a forward on another thread of the
 * same JVM during such a step may run on one thread too.
 */
public final class IntraOpThreads implements AutoCloseable {
    /** The largest forward, in tokens, that runs on one thread on a CPU. */
    public static final int FEW_TOKENS = 4;

    private final int restore;

    private IntraOpThreads(int restore) {
        this.restore = restore;
    }

    /**
     * One thread while a forward of {@code tokens} tokens (rows x positions) runs on {@code device}, if that is at most
     * {@link #FEW_TOKENS} on a CPU; otherwise nothing changes. Measured 2026-12-06 on the 2-core development machine,
     * bench preset, greedy generation of 128 tokens (PipelineBench, tok/s, two runs each, one thread against two):
     * batch 1 105.4, 99.1 against 85.3, 84.6; batch 2 111.4, 112.9 against 106.8, 104.2; batch 4 226.7, 229.2
     * against 217.6, 193.3; batch 8 322.5, 267.8 against 348.0, 335.1 (two threads win from 8 rows).
     */
    public static IntraOpThreads forForward(Device device, long tokens) {
        if (device.isGpu() || tokens > FEW_TOKENS) {
            return new IntraOpThreads(0);
        }
        int threads = JniUtils.getNumThreads();
        if (threads <= 1) {
            return new IntraOpThreads(0);
        }
        JniUtils.setNumThreads(1);
        return new IntraOpThreads(threads);
    }

    @Override
    public void close() {
        if (restore > 0) {
            JniUtils.setNumThreads(restore);
        }
    }
}
