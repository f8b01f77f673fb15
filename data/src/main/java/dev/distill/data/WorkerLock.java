package dev.distill.data;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The exclusive claim of one worker index on a run directory: {@code _locks/worker-<I>.lock}, held with an OS file lock
 * (so a process killed with kill -9 releases it) and holding the holder's pid and host for the message that refuses a
 * second process. On file systems without OS locks (HDFS, S3A) there is no lock: two attempts at a shard stay harmless
 * (the first to finish commits it).
 */
public final class WorkerLock implements AutoCloseable {
    public static final String LOCK_DIR = "_locks";

    private final FileChannel channel;
    private final FileLock lock;

    private WorkerLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes worker {@code workerIndex}'s lock on the run directory {@code dir}.
     *
     * @throws IllegalStateException naming the holder (pid, host) when another live process holds it
     */
    static WorkerLock acquire(FileSystem fs, Path dir, String location, int workerIndex) throws IOException {
        if (!HadoopFs.isLocal(fs)) {
            return new WorkerLock(null, null);
        }
        java.nio.file.Path lockDir = Paths.get(new Path(dir, LOCK_DIR).toUri());
        Files.createDirectories(lockDir);
        java.nio.file.Path file = lockDir.resolve("worker-" + workerIndex + ".lock");
        FileChannel channel =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
            channel.close();
            throw new IllegalStateException(
                    "run directory " + location + " is being written by another process as worker "
                            + workerIndex + " (" + (holder.isEmpty() ? "holder unknown" : holder) + ", lock " + file
                            + "); wait for it to finish, or stop it first");
        }
        String me = "pid " + ProcessHandle.current().pid() + " on host " + host();
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(false);
        return new WorkerLock(channel, lock);
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Releases the lock (the file stays; the next holder overwrites it). */
    @Override
    public void close() throws IOException {
        if (channel != null) {
            try {
                lock.release();
            } finally {
                channel.close();
            }
        }
    }
}
