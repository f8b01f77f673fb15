package org.apache.hadoop.fs;

/** Makes the Error that Hadoop's local file system throws for a failed write (its constructor is package-private). */
public final class FsErrors {
    private FsErrors() {}

    public static FSError of(Throwable cause) {
        return new FSError(cause);
    }
}
