package dev.distill.trainer.crosstok;

import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.data.TeacherVocab;
import dev.distill.model.ModelConfig;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.trainer.data.DataPosition;
import dev.distill.trainer.data.RowSource;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.ShardRef;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.loss.CrossTokenizerLoss;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cross-tokenizer case of {@code distill train} and {@code distill eval}: a student whose tokenizer differs from
 * the one the soft labels were made with. Checks that the data carries text spans ({@code --store-spans}) and a
 * single teacher vocabulary, loads the student's tokenizer, and provides the re-tokenizing batcher, the vocabulary
 * twins and the loss.
 */
public final class CrossTokenizer implements AutoCloseable {
    /** The stream columns the cross-tokenizer case reads: every shard column plus the text columns. */
    public static final List<String> COLUMNS = columns();

    private final HfTokenizer student;
    private final Retokenizer retokenizer;
    private final VocabTwins twins;
    private final float[] twinPenalty;
    private final String teacherTokenizer;

    private CrossTokenizer(HfTokenizer student, Retokenizer retokenizer, VocabTwins twins, String teacherTokenizer) {
        this.student = student;
        this.retokenizer = retokenizer;
        this.twins = twins;
        this.teacherTokenizer = teacherTokenizer;
        this.twinPenalty = new float[twins.studentVocab()];
        for (int id = 0; id < twinPenalty.length; id++) {
            twinPenalty[id] = twins.studentHasTwin(id) ? -1e4f : 0f;
        }
    }

    private static List<String> columns() {
        List<String> all = new ArrayList<>(ShardSchema.COLUMNS);
        all.addAll(ShardSchema.TEXT_COLUMNS);
        return List.copyOf(all);
    }

    /**
     * Sets up a student with another tokenizer than the data's.
     *
     * @param datasets the data sets it reads (training and evaluation data), each with the option that named it
     * @throws IllegalArgumentException naming the shard and {@code --store-spans} when a shard has no text columns, the
     *     data when its labels are not top-k (top-p, sample), or
     *     naming two run directories made with different teacher tokenizers
     */
    public static CrossTokenizer open(
            Path studentDir, ModelConfig config, List<SoftLabelData> datasets, List<String> options) {
        TeacherVocab vocab = null;
        String vocabSource = null;
        try {
            for (int i = 0; i < datasets.size(); i++) {
                LogitsSpec logits = datasets.get(i).logits();
                if (logits.kind() != LogitsSpec.Kind.TOP_K) {
                    // the alignment reads top_k entries at every position
                    throw new IllegalArgumentException(options.get(i) + " "
                            + String.join(", ", datasets.get(i).locations())
                            + " holds --logits " + logits + " labels; a cross-tokenizer student trains on top-k labels"
                            + " (generate with --logits top-k:K --store-spans)");
                }
                for (String location : datasets.get(i).locations()) {
                    RunDirectory run = RunDirectory.existing(location);
                    if (!TeacherVocab.exists(run)) {
                        throw new IllegalArgumentException(noSpans(options.get(i) + " " + location, studentDir));
                    }
                    TeacherVocab v = TeacherVocab.read(run);
                    if (vocab != null && !vocab.tokenizerSha256().equals(v.tokenizerSha256())) {
                        throw new IllegalArgumentException(
                                options.get(i) + " " + location + " was made with teacher tokenizer "
                                        + v.tokenizerSha256() + ", " + vocabSource + " with " + vocab.tokenizerSha256()
                                        + "; a cross-tokenizer run reads data of one teacher tokenizer");
                    }
                    vocab = v;
                    vocabSource = location;
                }
                for (ShardRef s : datasets.get(i).shards()) {
                    try (ShardReader reader = ShardReader.open(s.file(), List.of(ShardSchema.PROMPT_INDEX))) {
                        if (!ShardSchema.hasText(reader.fileSchema())) {
                            throw new IllegalArgumentException(noSpans(s.label(), studentDir));
                        }
                    }
                    if (!s.metadata().tokenizerSha256().equals(vocab.tokenizerSha256())) {
                        throw new IllegalArgumentException(s.label() + ": tokenizer sha256 "
                                + s.metadata().tokenizerSha256() + " differs from its run's " + TeacherVocab.FILE + " ("
                                + vocab.tokenizerSha256() + ")");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        HfTokenizer tokenizer = HfTokenizer.load(studentDir);
        try {
            int eos = tokenizer.eosIds().length > 0 ? tokenizer.eosIds()[0] : config.eosTokenIds()[0];
            Retokenizer retokenizer = new Retokenizer(tokenizer, eos, config.maxPositionEmbeddings());
            VocabTwins twins = VocabTwins.of(vocab, tokenizer.tokenBytes(), config.vocabSize(), eos);
            return new CrossTokenizer(tokenizer, retokenizer, twins, vocab.tokenizerSha256());
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    private static String noSpans(String what, Path studentDir) {
        return what + " has no text spans, and the student " + studentDir + " has another tokenizer than the data's:"
                + " a cross-tokenizer student needs soft labels generated with 'distill generate --store-spans'";
    }

    /** A batcher over {@code stream} (opened with {@link #COLUMNS}). */
    public AlignedBatcher batcher(RowSource stream, int batchTokens, int topK, long rowsPerEpoch) {
        return new AlignedBatcher(stream, retokenizer, batchTokens, topK, rowsPerEpoch);
    }

    /** Micro-batches of {@code epochs} epochs of the training stream (re-tokenizing it), for {@code --epochs}. */
    public long countMicroBatches(SoftLabelData data, long seed, int shuffleBuffer, long epochs, int batchTokens) {
        long count = 0;
        try (RowStream stream = RowStream.shuffled(data, COLUMNS, seed, shuffleBuffer, epochs, DataPosition.START)) {
            AlignedBatcher b = batcher(stream, batchTokens, data.topK(), data.rows());
            while (b.next() != null) {
                count++;
            }
        }
        return count;
    }

    /** The loss {@code --loss uld|gold}, GOLD's matched weight being the teacher vocabulary's share with a twin. */
    public CrossTokenizerLoss loss(CrossTokenizerLoss.Kind kind) {
        return new CrossTokenizerLoss(kind, twins.teacherShare());
    }

    public VocabTwins twins() {
        return twins;
    }

    /** Per-id penalty masking the student ids that have a teacher twin ([V] values). */
    public float[] twinPenalty() {
        return twinPenalty;
    }

    /** One line for the run's output: the two tokenizers and the vocabulary overlap. */
    public String describe() {
        return String.format(
                java.util.Locale.ROOT,
                "cross-tokenizer: teacher tokenizer %s, student tokenizer %s; %d teacher"
                        + " ids (%.1f%% of its vocabulary) have a student twin",
                teacherTokenizer.substring(0, 12),
                student.sha256().substring(0, 12),
                twins.twins(),
                100 * twins.teacherShare());
    }

    @Override
    public void close() {
        student.close();
    }
}
