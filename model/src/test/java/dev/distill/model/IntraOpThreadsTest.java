package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

class IntraOpThreadsTest {

    @Test
    void aForwardOfAFewTokensOnACpuRunsOnOneThreadAndTheCountComesBack() {
        Engines.pytorch();
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(2);
        try {
            for (long tokens = 1; tokens <= IntraOpThreads.FEW_TOKENS; tokens++) {
                try (IntraOpThreads narrowed = IntraOpThreads.forForward(Device.cpu(), tokens)) {
                    assertEquals(1, JniUtils.getNumThreads(), tokens + " tokens");
                }
                assertEquals(2, JniUtils.getNumThreads(), "restored after " + tokens + " tokens");
            }
            try (IntraOpThreads unchanged = IntraOpThreads.forForward(Device.cpu(), IntraOpThreads.FEW_TOKENS + 1)) {
                assertEquals(2, JniUtils.getNumThreads(), "a larger forward keeps the threads");
            }
            try (IntraOpThreads unchanged = IntraOpThreads.forForward(Device.gpu(), 1)) {
                assertEquals(2, JniUtils.getNumThreads(), "a GPU forward keeps the CPU threads");
            }
            assertEquals(2, JniUtils.getNumThreads());
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    @Test
    void oneThreadStaysOneThread() {
        Engines.pytorch();
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
        try {
            try (IntraOpThreads narrowed = IntraOpThreads.forForward(Device.cpu(), 1)) {
                assertEquals(1, JniUtils.getNumThreads());
            }
            assertEquals(1, JniUtils.getNumThreads());
        } finally {
            JniUtils.setNumThreads(before);
        }
    }
}
