package dev.distill.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The key-value metadata every shard carries in its Parquet footer (keys {@code distill.*}). */
public record ShardMetadata(
        int schemaVersion,
        int topK,
        int vocabSize,
        String configHash,
        String teacher,
        String teacherSha256,
        String tokenizerSha256,
        String chatTemplateSha256,
        String corpusSha256) {

    /** The shard format version this build writes and reads. */
    public static final int SCHEMA_VERSION = 1;

    public static final String KEY_SCHEMA_VERSION = "distill.schema_version";
    public static final String KEY_TOP_K = "distill.top_k";
    public static final String KEY_VOCAB_SIZE = "distill.vocab_size";
    public static final String KEY_CONFIG_HASH = "distill.config_hash";
    public static final String KEY_TEACHER = "distill.teacher";
    public static final String KEY_TEACHER_SHA256 = "distill.teacher_sha256";
    public static final String KEY_TOKENIZER_SHA256 = "distill.tokenizer_sha256";
    public static final String KEY_CHAT_TEMPLATE_SHA256 = "distill.chat_template_sha256";
    public static final String KEY_CORPUS_SHA256 = "distill.corpus_sha256";

    /** Every key, in the order they are written. */
    public static final List<String> KEYS = List.of(
            KEY_SCHEMA_VERSION, KEY_TOP_K, KEY_VOCAB_SIZE, KEY_CONFIG_HASH, KEY_TEACHER,
            KEY_TEACHER_SHA256, KEY_TOKENIZER_SHA256, KEY_CHAT_TEMPLATE_SHA256, KEY_CORPUS_SHA256);

    /** The value of {@code distill.chat_template_sha256} when no chat template was applied. */
    public static final String NO_CHAT_TEMPLATE = "none";

    public ShardMetadata {
        if (topK < 1) {
            throw new IllegalArgumentException("top_k must be >= 1, got " + topK);
        }
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocab_size must be >= 1, got " + vocabSize);
        }
        String[] names = {"config_hash", "teacher", "teacher_sha256", "tokenizer_sha256", "chat_template_sha256", "corpus_sha256"};
        String[] values = {configHash, teacher, teacherSha256, tokenizerSha256, chatTemplateSha256, corpusSha256};
        for (int i = 0; i < names.length; i++) {
            if (values[i] == null || values[i].isEmpty()) {
                throw new IllegalArgumentException("shard metadata " + names[i] + " is missing");
            }
        }
    }

    /** Metadata of the current schema version. */
    public static ShardMetadata of(
            int topK, int vocabSize, String configHash, String teacher, String teacherSha256,
            String tokenizerSha256, String chatTemplateSha256, String corpusSha256) {
        return new ShardMetadata(SCHEMA_VERSION, topK, vocabSize, configHash, teacher, teacherSha256,
                tokenizerSha256, chatTemplateSha256, corpusSha256);
    }

    /** The footer key-value pairs, in {@link #KEYS} order. */
    public Map<String, String> toKeyValues() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_SCHEMA_VERSION, Integer.toString(schemaVersion));
        m.put(KEY_TOP_K, Integer.toString(topK));
        m.put(KEY_VOCAB_SIZE, Integer.toString(vocabSize));
        m.put(KEY_CONFIG_HASH, configHash);
        m.put(KEY_TEACHER, teacher);
        m.put(KEY_TEACHER_SHA256, teacherSha256);
        m.put(KEY_TOKENIZER_SHA256, tokenizerSha256);
        m.put(KEY_CHAT_TEMPLATE_SHA256, chatTemplateSha256);
        m.put(KEY_CORPUS_SHA256, corpusSha256);
        return m;
    }

    /**
     * Parses footer key-value pairs.
     *
     * @param source names the file in error messages
     * @throws IllegalArgumentException naming the file and the missing or malformed key
     */
    public static ShardMetadata fromKeyValues(Map<String, String> kv, String source) {
        for (String key : KEYS) {
            String v = kv.get(key);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException(source + ": footer metadata " + key + " is missing");
            }
        }
        int version = parseInt(kv, KEY_SCHEMA_VERSION, source);
        if (version != SCHEMA_VERSION) {
            throw new IllegalArgumentException(source + ": " + KEY_SCHEMA_VERSION + " is " + version
                    + "; this build reads version " + SCHEMA_VERSION);
        }
        int topK = parseInt(kv, KEY_TOP_K, source);
        int vocabSize = parseInt(kv, KEY_VOCAB_SIZE, source);
        try {
            return new ShardMetadata(version, topK, vocabSize,
                    kv.get(KEY_CONFIG_HASH), kv.get(KEY_TEACHER), kv.get(KEY_TEACHER_SHA256),
                    kv.get(KEY_TOKENIZER_SHA256), kv.get(KEY_CHAT_TEMPLATE_SHA256), kv.get(KEY_CORPUS_SHA256));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static int parseInt(Map<String, String> kv, String key, String source) {
        try {
            return Integer.parseInt(kv.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": footer metadata " + key + " is not an integer: '" + kv.get(key) + "'");
        }
    }
}
