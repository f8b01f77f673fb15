package dev.distill.pipeline.remote;

/** A well-formed JSON response that lacks a field or holds a wrong value; names the field by its JSON path. */
public final class ResponseFormatException extends RemoteTeacherException {
    public ResponseFormatException(String field, String problem) {
        super(field + " " + problem);
    }
}
