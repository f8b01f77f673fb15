package dev.distill.pipeline.remote;

/** A remote teacher failed for good: a refused request, retries exhausted, or a response that breaks the protocol. */
public class RemoteTeacherException extends RuntimeException {
    public RemoteTeacherException(String message) {
        super(message);
    }

    public RemoteTeacherException(String message, Throwable cause) {
        super(message, cause);
    }
}
