package dev.distill.data;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import org.apache.hadoop.fs.FsErrors;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The local file system under the scheme {@code fulldisk://}, whose disk is full for shard files: every write to a
 * {@code part-*} file fails with "No space left on device", as an IOException or, as Hadoop's local file system
 * reports it, an FSError ({@link #fsError}). Manifest writes succeed.
 */
public final class FullDiskFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "fulldisk";
    public static volatile boolean fsError;

    static {
        HadoopFs.conf().set("fs." + SCHEME + ".impl", FullDiskFileSystem.class.getName());
    }

    /** {@code fulldisk://} + the local absolute path. */
    public static String location(java.nio.file.Path local) {
        return SCHEME + "://" + local.toAbsolutePath();
    }

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    protected OutputStream createOutputStreamWithMode(Path f, boolean append, FsPermission permission)
            throws IOException {
        OutputStream out = super.createOutputStreamWithMode(f, append, permission);
        if (!f.getName().startsWith("part-")) {
            return out;
        }
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                fail();
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                fail();
            }

            private void fail() throws IOException {
                IOException e = new IOException("No space left on device");
                if (fsError) {
                    throw FsErrors.of(e);
                }
                throw e;
            }
        };
    }
}
