package dev.distill.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** The two atomic file operations a run directory relies on, on any Hadoop file system. */
final class AtomicFiles {
    private AtomicFiles() {}

    /** A file name part no other attempt, in this or another process, will use. */
    static String uniqueId() {
        return ProcessHandle.current().pid() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Replaces {@code target} with {@code bytes}: written to a temporary file in {@code tmpDir}, then renamed over
     * the target. Where rename does not replace an existing file (HDFS, S3A), the target is deleted first; a reader
     * in that instant sees no file rather than half a file.
     */
    static void replace(FileSystem fs, Path target, byte[] bytes, Path tmpDir) throws IOException {
        FileNotFoundException last = null;
        // The temporary directory may be removed by a worker that saw the run complete; then try again.
        for (int attempt = 0; attempt < 3; attempt++) {
            Path tmp = new Path(tmpDir, target.getName() + "." + uniqueId());
            try {
                fs.mkdirs(tmpDir);
                try (OutputStream out = fs.create(tmp, true)) {
                    out.write(bytes);
                }
                if (!fs.rename(tmp, target)) {
                    fs.delete(target, false);
                    if (!fs.rename(tmp, target)) {
                        throw new IOException("cannot rename " + tmp + " to " + target);
                    }
                }
                return;
            } catch (FileNotFoundException e) {
                last = e;
                fs.delete(tmp, false);
            } catch (org.apache.hadoop.fs.FSError e) {
                // Hadoop's local file system reports a full disk as an Error: make it the IOException it is.
                fs.delete(tmp, false);
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new IOException("cannot write " + target + ": " + cause.getMessage(), e);
            }
        }
        throw last;
    }

    /**
     * Moves {@code finished} to {@code target} unless the target exists: the first finisher wins.
     *
     * @return false (and {@code finished} deleted) when the target already existed
     */
    static boolean publishIfAbsent(FileSystem fs, Path finished, Path target) throws IOException {
        if (HadoopFs.isLocal(fs)) {
            java.nio.file.Path from = Paths.get(finished.toUri());
            java.nio.file.Path to = Paths.get(target.toUri());
            try {
                // link(2) fails if the target exists, atomically; a plain rename would replace it.
                Files.createLink(to, from);
                Files.delete(from);
                return true;
            } catch (FileAlreadyExistsException e) {
                Files.deleteIfExists(from);
                return false;
            } catch (FileSystemException | UnsupportedOperationException e) {
                // No hard links on this file system: fall through to exists-then-rename.
            }
        }
        if (!fs.exists(target) && fs.rename(finished, target)) {
            return true;
        }
        if (fs.exists(target)) {
            fs.delete(finished, false);
            return false;
        }
        throw new IOException("cannot rename " + finished + " to " + target);
    }
}
