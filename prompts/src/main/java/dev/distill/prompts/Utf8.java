package dev.distill.prompts;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding: invalid input is reported with its byte offset, never replaced. */
final class Utf8 {
    private Utf8() {}

    /** Thrown for bytes that are not UTF-8. */
    static final class InvalidUtf8 extends Exception {
        InvalidUtf8(String message) {
            super(message, null, false, false);
        }
    }

    static String decode(byte[] bytes, int offset, int length) throws InvalidUtf8 {
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw new InvalidUtf8("invalid UTF-8 at byte " + (in.position() - offset));
        }
        decoder.flush(out);
        return out.flip().toString();
    }
}
