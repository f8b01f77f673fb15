package dev.distill.trainer;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.model.ModelConfig;
import dev.distill.testing.RepoRoot;
import dev.distill.tokenizer.TokenizerFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Tiny model directories for the trainer tests: the committed llama fixture as teacher, random students. */
final class TestModels {
    static final int VOCAB = 512;

    private TestModels() {}

    /** fixtures/tokenizers/tiny: vocab 512, ChatML. */
    static Path tinyTokenizer() {
        return RepoRoot.path().resolve("fixtures/tokenizers/tiny");
    }

    /** The llama fixture (hidden 64, 2 layers, llama3 rope, vocab 512) with the tiny tokenizer beside it. */
    static Path fixtureTeacher(Path dir) {
        copyTree(RepoRoot.path().resolve("fixtures/models/llama"), dir);
        copyTokenizer(dir);
        return dir;
    }

    /**
     * A random teacher a small student can learn from little data: the student's architecture
     * (random init, seed 99) with token embeddings and LM head scaled by 20, so the residual stream is
     * dominated by the current token and the next-token distributions are peaked (entropy about 2 nats)
     * and mostly a function of it.
     */
    static Path randomTeacher(Path dir) {
        try (CausalLM lm = CausalLM.randomInit(studentConfig(VOCAB, false), 99, DataType.FLOAT32, Device.cpu())) {
            lm.parameters().get("model.embed_tokens.weight").muli(20f);
            lm.parameters().get("lm_head.weight").muli(20f);
            lm.save(dir);
        }
        copyTokenizer(dir);
        return dir;
    }

    /** A small llama: hidden 32, 1 layer, 2 heads, 1 KV head, intermediate 64, vocab {@code vocab}. */
    static ModelConfig studentConfig(int vocab, boolean tied) {
        return ModelConfig.builder("llama")
                .vocabSize(vocab)
                .hiddenSize(32)
                .intermediateSize(64)
                .numLayers(1)
                .numHeads(2)
                .numKvHeads(1)
                .maxPositionEmbeddings(256)
                .tieWordEmbeddings(tied)
                .eosTokenIds(2)
                .bosTokenId(1)
                .padTokenId(0)
                .build();
    }

    /** A random-init student directory with the tiny tokenizer files. */
    static Path student(Path dir, ModelConfig config, long seed) {
        try (CausalLM lm = CausalLM.randomInit(config, seed, DataType.FLOAT32, Device.cpu())) {
            lm.save(dir);
        }
        copyTokenizer(dir);
        return dir;
    }

    static Path student(Path dir, long seed) {
        return student(dir, studentConfig(VOCAB, false), seed);
    }

    /** A random-init student with the tiny_variant tokenizer (same vocabulary, adds a bos): another tokenizer. */
    static Path variantStudent(Path dir) {
        try (CausalLM lm = CausalLM.randomInit(studentConfig(VOCAB, false), 1, DataType.FLOAT32, Device.cpu())) {
            lm.save(dir);
        }
        TokenizerFiles.copy(tinyTokenizer().resolveSibling("tiny_variant"), dir);
        return dir;
    }

    static void copyTokenizer(Path dir) {
        TokenizerFiles.copy(tinyTokenizer(), dir);
    }

    static void copyTree(Path from, Path to) {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(Path from, Path to) {
        try {
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
