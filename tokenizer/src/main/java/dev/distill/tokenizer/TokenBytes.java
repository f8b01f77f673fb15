package dev.distill.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The UTF-8 bytes every token id contributes to decoded text, for byte-level BPE tokenizers (GPT-2 style: Llama 3,
 * Qwen2/2.5/3, Mistral Nemo, ...): a vocabulary entry such as {@code Ġthe} maps back through the byte-to-unicode table
 * of the ByteLevel decoder to {@code " the"}. A token may hold part of a UTF-8 character (an emoji is often split in
 * two or three tokens); concatenating the bytes of a sequence's tokens gives exactly the text the model saw, which is
 * what {@code tokenizer.decode(ids, skip_special_tokens=False)} returns when that text is valid UTF-8.
 *
 * <p>Added tokens (e.g. Qwen3's {@code <think>}) are spelled by their content. Special added tokens (e.g.
 * {@code <|eot_id|>}) are marked {@link #isSpecial}: they are control symbols, and callers decide whether they count as
 * text (a rendered prompt) or not (a completion's stop token).
 */
public final class TokenBytes {
    private static final byte[] EMPTY = new byte[0];
    private static final int[] UNICODE_TO_BYTE = unicodeToByte();

    private final byte[][] bytes;
    private final boolean[] special;

    private TokenBytes(byte[][] bytes, boolean[] special) {
        this.bytes = bytes;
        this.special = special;
    }

    static TokenBytes of(Vocabulary vocab, Path dir) {
        if (!vocab.decoderType().equals("ByteLevel")) {
            throw new TokenizerException(dir + "/tokenizer.json: the decoder is '" + vocab.decoderType()
                    + "', not ByteLevel;" + " token byte spans are supported for byte-level BPE tokenizers only");
        }
        int n = vocab.size();
        byte[][] out = new byte[n][];
        boolean[] special = new boolean[n];
        for (int id = 0; id < n; id++) {
            String token = vocab.token(id);
            if (token == null) {
                out[id] = EMPTY;
            } else if (vocab.isAddedToken(token)) {
                out[id] = token.getBytes(StandardCharsets.UTF_8);
                special[id] = vocab.isSpecial(id);
            } else {
                out[id] = byteLevel(token, dir, id);
            }
        }
        return new TokenBytes(out, special);
    }

    private static byte[] byteLevel(String token, Path dir, int id) {
        byte[] b = new byte[token.length()];
        int n = 0;
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int v = c < UNICODE_TO_BYTE.length ? UNICODE_TO_BYTE[c] : -1;
            if (v < 0) {
                throw new TokenizerException(dir + "/tokenizer.json: token " + id + " '" + token
                        + "' has the character U+" + Integer.toHexString(c) + ", outside the byte-level alphabet");
            }
            b[n++] = (byte) v;
        }
        return Arrays.copyOf(b, n);
    }

    /** GPT-2's bytes_to_unicode, inverted: printable bytes stand for themselves, the others for U+0100 onwards. */
    private static int[] unicodeToByte() {
        int[] inverse = new int[0x200];
        Arrays.fill(inverse, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            inverse[printable ? b : 0x100 + next++] = b;
        }
        return inverse;
    }

    /** Token ids covered (max id + 1). */
    public int size() {
        return bytes.length;
    }

    /** The token's bytes (its content for an added token); empty for an id outside the vocabulary. Do not modify. */
    public byte[] bytes(int id) {
        return id >= 0 && id < bytes.length ? bytes[id] : EMPTY;
    }

    /** Whether the id is a special added token (a control symbol such as an end-of-turn token). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /**
     * The text of a sequence: its tokens' bytes concatenated, special tokens included when {@code withSpecial}.
     *
     * @param ends when non-null (length ids.length), receives each token's end offset in the returned bytes
     */
    public byte[] concat(int[] ids, boolean withSpecial, int[] ends) {
        int total = 0;
        for (int id : ids) {
            total += withSpecial || !isSpecial(id) ? bytes(id).length : 0;
        }
        byte[] out = new byte[total];
        int at = 0;
        for (int i = 0; i < ids.length; i++) {
            if (withSpecial || !isSpecial(ids[i])) {
                byte[] b = bytes(ids[i]);
                System.arraycopy(b, 0, out, at, b.length);
                at += b.length;
            }
            if (ends != null) {
                ends[i] = at;
            }
        }
        return out;
    }
}
