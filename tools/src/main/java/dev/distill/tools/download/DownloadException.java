package dev.distill.tools.download;

/** A download that cannot go on: the hub refused, the file is not there, retries ran out, or a checksum differs. */
public final class DownloadException extends RuntimeException {
    public DownloadException(String message) {
        super(message);
    }

    public DownloadException(String message, Throwable cause) {
        super(message, cause);
    }
}
