package dev.distill.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The key-value metadata every shard carries in its Parquet footer (keys {@code distill.*}). Version 1 shards hold
 * top-k labels only; version 2 adds {@code distill.logits} and {@code distill.encoding}, names the teacher hash
 * {@code distill.teacher_fingerprint}, and carries the shard's {@link Fidelity} (written after its rows).
 *
 * @param topK the most entries a position holds (k, KMAX of top-p, N of sample)
 * @param teacherFingerprint hash of the teacher's config.json and safetensors headers (not of the weights), or of
 *     the remote teacher's identity; v1 calls it {@code distill.teacher_sha256}
 */
public record ShardMetadata(
        int schemaVersion,
        int topK,
        int vocabSize,
        String configHash,
        String teacher,
        String teacherFingerprint,
        String tokenizerSha256,
        String chatTemplateSha256,
        String corpusSha256,
        LogitsSpec logits,
        LabelEncoding encoding) {

    /** The shard format version this build writes. */
    public static final int SCHEMA_VERSION = 2;
    /** Every version this build reads. */
    public static final List<Integer> READABLE_VERSIONS = List.of(1, 2);

    public static final String KEY_SCHEMA_VERSION = "distill.schema_version";
    public static final String KEY_TOP_K = "distill.top_k";
    public static final String KEY_VOCAB_SIZE = "distill.vocab_size";
    public static final String KEY_CONFIG_HASH = "distill.config_hash";
    public static final String KEY_TEACHER = "distill.teacher";
    /** Version 1's name of the teacher fingerprint. */
    public static final String KEY_TEACHER_SHA256 = "distill.teacher_sha256";

    public static final String KEY_TEACHER_FINGERPRINT = "distill.teacher_fingerprint";
    public static final String KEY_TOKENIZER_SHA256 = "distill.tokenizer_sha256";
    public static final String KEY_CHAT_TEMPLATE_SHA256 = "distill.chat_template_sha256";
    public static final String KEY_CORPUS_SHA256 = "distill.corpus_sha256";
    public static final String KEY_LOGITS = "distill.logits";
    public static final String KEY_ENCODING = "distill.encoding";

    /** Every key of version 1, in the order they are written. */
    public static final List<String> KEYS_V1 = List.of(
            KEY_SCHEMA_VERSION,
            KEY_TOP_K,
            KEY_VOCAB_SIZE,
            KEY_CONFIG_HASH,
            KEY_TEACHER,
            KEY_TEACHER_SHA256,
            KEY_TOKENIZER_SHA256,
            KEY_CHAT_TEMPLATE_SHA256,
            KEY_CORPUS_SHA256);
    /** Every key of version 2 written before the rows, in the order they are written ({@link Fidelity#KEY} follows). */
    public static final List<String> KEYS_V2 = List.of(
            KEY_SCHEMA_VERSION,
            KEY_TOP_K,
            KEY_VOCAB_SIZE,
            KEY_CONFIG_HASH,
            KEY_TEACHER,
            KEY_TEACHER_FINGERPRINT,
            KEY_TOKENIZER_SHA256,
            KEY_CHAT_TEMPLATE_SHA256,
            KEY_CORPUS_SHA256,
            KEY_LOGITS,
            KEY_ENCODING);

    /** The value of {@code distill.chat_template_sha256} when no chat template was applied. */
    public static final String NO_CHAT_TEMPLATE = "none";

    public ShardMetadata {
        if (!READABLE_VERSIONS.contains(schemaVersion)) {
            throw new IllegalArgumentException(
                    "schema_version must be one of " + READABLE_VERSIONS + ", got " + schemaVersion);
        }
        if (topK < 1) {
            throw new IllegalArgumentException("top_k must be >= 1, got " + topK);
        }
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocab_size must be >= 1, got " + vocabSize);
        }
        String[] names = {
            "config_hash", "teacher", "teacher_fingerprint", "tokenizer_sha256", "chat_template_sha256", "corpus_sha256"
        };
        String[] values = {configHash, teacher, teacherFingerprint, tokenizerSha256, chatTemplateSha256, corpusSha256};
        for (int i = 0; i < names.length; i++) {
            if (values[i] == null || values[i].isEmpty()) {
                throw new IllegalArgumentException("shard metadata " + names[i] + " is missing");
            }
        }
        if (logits == null || encoding == null) {
            throw new IllegalArgumentException("shard metadata logits and encoding are required");
        }
        if (schemaVersion == 1 && (logits.kind() != LogitsSpec.Kind.TOP_K || encoding != LabelEncoding.PLAIN)) {
            throw new IllegalArgumentException(
                    "format version 1 holds plain top-k labels only, not " + logits + " " + encoding);
        }
        if (logits.kind() == LogitsSpec.Kind.TOP_K && logits.size() != topK) {
            throw new IllegalArgumentException("logits " + logits + " disagrees with top_k " + topK);
        }
    }

    /** Metadata of the current version for plain top-k labels. */
    public static ShardMetadata of(
            int topK,
            int vocabSize,
            String configHash,
            String teacher,
            String teacherFingerprint,
            String tokenizerSha256,
            String chatTemplateSha256,
            String corpusSha256) {
        return new ShardMetadata(
                SCHEMA_VERSION,
                topK,
                vocabSize,
                configHash,
                teacher,
                teacherFingerprint,
                tokenizerSha256,
                chatTemplateSha256,
                corpusSha256,
                LogitsSpec.topK(topK),
                LabelEncoding.PLAIN);
    }

    /** The same metadata in another version (1 only for plain top-k), e.g. to write a version-1 shard. */
    public ShardMetadata withVersion(int version) {
        return new ShardMetadata(
                version,
                topK,
                vocabSize,
                configHash,
                teacher,
                teacherFingerprint,
                tokenizerSha256,
                chatTemplateSha256,
                corpusSha256,
                logits,
                encoding);
    }

    /** The footer key-value pairs written before the rows, in {@link #KEYS_V1} or {@link #KEYS_V2} order. */
    public Map<String, String> toKeyValues() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_SCHEMA_VERSION, Integer.toString(schemaVersion));
        m.put(KEY_TOP_K, Integer.toString(topK));
        m.put(KEY_VOCAB_SIZE, Integer.toString(vocabSize));
        m.put(KEY_CONFIG_HASH, configHash);
        m.put(KEY_TEACHER, teacher);
        m.put(schemaVersion == 1 ? KEY_TEACHER_SHA256 : KEY_TEACHER_FINGERPRINT, teacherFingerprint);
        m.put(KEY_TOKENIZER_SHA256, tokenizerSha256);
        m.put(KEY_CHAT_TEMPLATE_SHA256, chatTemplateSha256);
        m.put(KEY_CORPUS_SHA256, corpusSha256);
        if (schemaVersion >= 2) {
            m.put(KEY_LOGITS, logits.toString());
            m.put(KEY_ENCODING, encoding.spelling());
        }
        return m;
    }

    /**
     * Parses footer key-value pairs of version 1 or 2.
     *
     * @param source names the file in error messages
     * @throws IllegalArgumentException naming the file and the missing or malformed key, or an unknown version
     */
    public static ShardMetadata fromKeyValues(Map<String, String> kv, String source) {
        String rawVersion = kv.get(KEY_SCHEMA_VERSION);
        if (rawVersion == null || rawVersion.isEmpty()) {
            throw new IllegalArgumentException(source + ": footer metadata " + KEY_SCHEMA_VERSION + " is missing");
        }
        int version = parseInt(kv, KEY_SCHEMA_VERSION, source);
        if (!READABLE_VERSIONS.contains(version)) {
            throw new IllegalArgumentException(source + ": " + KEY_SCHEMA_VERSION + " is " + version
                    + "; this build reads shard format versions 1 and 2 (a newer distill wrote this file?)");
        }
        for (String key : version == 1 ? KEYS_V1 : KEYS_V2) {
            String v = kv.get(key);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException(source + ": footer metadata " + key + " is missing");
            }
        }
        int topK = parseInt(kv, KEY_TOP_K, source);
        int vocabSize = parseInt(kv, KEY_VOCAB_SIZE, source);
        try {
            LogitsSpec logits =
                    version == 1 ? LogitsSpec.topK(Math.max(1, topK)) : LogitsSpec.parse(kv.get(KEY_LOGITS));
            LabelEncoding encoding = version == 1 ? LabelEncoding.PLAIN : LabelEncoding.parse(kv.get(KEY_ENCODING));
            return new ShardMetadata(
                    version,
                    topK,
                    vocabSize,
                    kv.get(KEY_CONFIG_HASH),
                    kv.get(KEY_TEACHER),
                    kv.get(version == 1 ? KEY_TEACHER_SHA256 : KEY_TEACHER_FINGERPRINT),
                    kv.get(KEY_TOKENIZER_SHA256),
                    kv.get(KEY_CHAT_TEMPLATE_SHA256),
                    kv.get(KEY_CORPUS_SHA256),
                    logits,
                    encoding);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static int parseInt(Map<String, String> kv, String key, String source) {
        try {
            return Integer.parseInt(kv.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    source + ": footer metadata " + key + " is not an integer: '" + kv.get(key) + "'");
        }
    }
}
