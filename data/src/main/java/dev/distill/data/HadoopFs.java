package dev.distill.data;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The Hadoop FileSystem access every reader and writer goes through: plain local paths and {@code file://} by default,
 * {@code hdfs://} and {@code s3a://} when the user adds the connector (and its core-site.xml) to the classpath. Local
 * files get no {@code .crc} side files, and Hadoop's "native-hadoop library" warning is silenced.
 */
public final class HadoopFs {
    /**
     * Library loggers too chatty for a command line: the native-library warning, codec pool notices, and
     * parquet-mr's multi-kilobyte buffer dump when a row group outgrows its target size.
     */
    private static final Map<String, String> QUIET_LOGGERS = Map.of(
            "org.apache.hadoop.util.NativeCodeLoader", "error",
            "org.apache.hadoop.io.compress.CodecPool", "warn",
            "org.apache.parquet.hadoop.InternalParquetRecordWriter", "error");

    private static final Configuration CONF;

    static {
        // slf4j-simple reads a logger's level when the logger is created; a user's own setting wins.
        QUIET_LOGGERS.forEach((logger, level) -> {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, level);
            }
        });
        CONF = new Configuration();
        // The raw local file system writes no .crc checksum files beside the data.
        CONF.set("fs.file.impl", RawLocalFileSystem.class.getName());
    }

    private HadoopFs() {}

    /** The shared configuration (core-site.xml etc. from the classpath); do not modify it. */
    public static Configuration conf() {
        return CONF;
    }

    /** A fully qualified path for a user-given location: a plain (possibly relative) local path or any URI. */
    public static Path path(String location) throws IOException {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException("empty path");
        }
        Path p = new Path(location);
        return fileSystem(p).makeQualified(p);
    }

    /** The file system of {@code path}, with checksum files off whatever implementation the configuration chose. */
    public static FileSystem fileSystem(Path path) throws IOException {
        FileSystem fs = path.getFileSystem(CONF);
        fs.setWriteChecksum(false);
        fs.setVerifyChecksum(false);
        return fs;
    }

    /** Whether {@code fs} is this machine's file system (then java.nio operations apply to its paths). */
    public static boolean isLocal(FileSystem fs) {
        return "file".equals(fs.getUri().getScheme());
    }

    /** The lowercase hex SHA-256 of a file's bytes. */
    public static String sha256(FileSystem fs, Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = fs.open(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
