package dev.distill.pipeline.serve;

/** A request the server refuses: an HTTP status (400, 401, 404...) and a message naming the parameter. */
final class BadRequestException extends RuntimeException {
    final int status;
    final String param;

    BadRequestException(int status, String param, String message) {
        super(message);
        this.status = status;
        this.param = param;
    }

    BadRequestException(String param, String message) {
        this(400, param, message);
    }
}
