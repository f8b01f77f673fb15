package dev.distill.data.cli;

import dev.distill.data.CanonicalJson;
import dev.distill.data.HadoopFs;
import dev.distill.data.Manifest;
import dev.distill.data.RowChecker;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TeacherVocab;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/** Checks every invariant of the shard format in a run directory: manifest, plan, files, footers and rows. */
final class RunValidator {
    private final RunDirectory run;
    private final Violations out;
    private final boolean allowIncomplete;
    private Manifest manifest;
    private ShardMetadata firstMetadata;
    private String firstFile;
    private int shardsChecked;
    private long rows;
    private long completionTokens;
    private TeacherVocab vocab;

    RunValidator(RunDirectory run, Violations out, boolean allowIncomplete) {
        this.run = run;
        this.out = out;
        this.allowIncomplete = allowIncomplete;
    }

    int shardsChecked() {
        return shardsChecked;
    }

    long rows() {
        return rows;
    }

    long completionTokens() {
        return completionTokens;
    }

    ShardMetadata metadata() {
        return firstMetadata;
    }

    void validate() throws IOException {
        manifest = run.readManifest();
        if (run.storesText()) {
            try {
                vocab = TeacherVocab.read(run);
            } catch (IllegalArgumentException e) {
                out.add(e.getMessage());
            }
        }
        checkManifest();
        Set<Integer> onDisk = new TreeSet<>();
        for (FileStatus status : run.fileSystem().listStatus(run.path())) {
            String name = status.getPath().getName();
            int index = RunDirectory.shardIndex(name);
            if (index >= run.shardCount()) {
                out.add(name + ": shard " + index + " is outside the plan of " + run.shardCount() + " shards");
            } else if (index >= 0) {
                onDisk.add(index);
            }
        }
        for (int i = 0; i < run.shardCount(); i++) {
            Manifest.Shard entry =
                    i < manifest.shards().size() ? manifest.shards().get(i) : null;
            boolean listed = entry != null && entry.committed();
            String name = RunDirectory.shardFileName(i);
            if (onDisk.contains(i)) {
                if (!listed) {
                    out.add(
                            name
                                    + ": committed, but manifest.json lists it as pending (rerun generate with the same options to refresh it)");
                }
                checkShard(i, listed ? entry : null);
            } else if (listed) {
                out.add(name + ": missing, but manifest.json lists it as complete");
            } else if (!allowIncomplete) {
                out.add(name + ": shard " + i + " is pending: the run is incomplete");
            }
        }
    }

    private void checkManifest() {
        String where = RunDirectory.MANIFEST + ": ";
        String hash = CanonicalJson.sha256(manifest.config());
        if (!hash.equals(manifest.configHash())) {
            out.add(where + "config_hash " + manifest.configHash() + " is not the sha256 of its config (" + hash + ")");
        }
        if (manifest.shards().size() != run.shardCount()) {
            out.add(where + manifest.shards().size() + " shard entries, but prompts_total " + run.promptsTotal()
                    + " / shard_size " + run.shardSize() + " plans " + run.shardCount());
        }
        long previousEnd = 0;
        for (int i = 0; i < manifest.shards().size(); i++) {
            Manifest.Shard s = manifest.shards().get(i);
            String shard = where + "shard entry " + i + ": ";
            if (s.index() != i) {
                out.add(shard + "index is " + s.index());
            }
            if (!RunDirectory.shardFileName(i).equals(s.file())) {
                out.add(shard + "file is " + s.file() + ", expected " + RunDirectory.shardFileName(i));
            }
            if (s.promptStart() != previousEnd) {
                out.add(shard + "prompt_start " + s.promptStart()
                        + " does not continue the previous shard's prompt_end " + previousEnd);
            }
            if (i < run.shardCount()) {
                long[] plan = run.shardRange(i);
                if (s.promptStart() != plan[0] || s.promptEnd() != plan[1]) {
                    out.add(shard + "prompts [" + s.promptStart() + ", " + s.promptEnd() + ") differ from the plan ["
                            + plan[0] + ", " + plan[1] + ")");
                }
            }
            previousEnd = s.promptEnd();
            if (!Manifest.Shard.COMPLETE.equals(s.status()) && !Manifest.Shard.PENDING.equals(s.status())) {
                out.add(shard + "status \"" + s.status() + "\" is not complete or pending");
            } else if (s.committed() && (s.rows() == null || s.completionTokens() == null || s.sha256() == null)) {
                out.add(shard + "a complete shard needs rows, completion_tokens and sha256");
            }
        }
    }

    private void checkShard(int i, Manifest.Shard entry) throws IOException {
        String name = RunDirectory.shardFileName(i);
        Path path = run.shardPath(i);
        shardsChecked++;
        if (entry != null && entry.sha256() != null) {
            String sha = HadoopFs.sha256(run.fileSystem(), path);
            if (!sha.equals(entry.sha256())) {
                out.add(name + ": sha256 is " + sha + ", manifest.json says " + entry.sha256());
            }
        }
        ShardReader reader;
        try {
            reader = openWithText(path, name);
        } catch (IOException | IllegalArgumentException e) {
            out.add(e.getMessage());
            return;
        }
        try (reader) {
            ShardMetadata meta;
            try {
                meta = reader.metadata();
            } catch (IllegalArgumentException e) {
                out.add(e.getMessage());
                return;
            }
            checkMetadata(name, meta);
            if (meta.schemaVersion() >= 2) {
                try {
                    if (reader.fidelity() == null) {
                        out.add(name + ": footer metadata " + dev.distill.data.Fidelity.KEY + " is missing");
                    }
                } catch (IllegalArgumentException e) {
                    out.add(e.getMessage());
                }
            }
            if (entry != null && entry.rows() != null && entry.rows() != reader.rowCount()) {
                out.add(name + ": " + reader.rowCount() + " rows, manifest.json says " + entry.rows());
            }
            long[] range = run.shardRange(i);
            RowChecker checker = new RowChecker(name, meta, range[0], range[1], out::add, teacherVocab())
                    .decodedWithStep(reader.compactStep());
            long row = 0;
            try {
                for (Iterator<SoftLabelRow> it = reader.iterator(); it.hasNext(); row++) {
                    checker.check(row, it.next());
                }
            } catch (UncheckedIOException e) {
                out.add(e.getCause().getMessage());
                return;
            }
            rows += row;
            completionTokens += checker.completionTokens();
            if (entry != null
                    && entry.completionTokens() != null
                    && entry.completionTokens() != checker.completionTokens()) {
                out.add(name + ": " + checker.completionTokens() + " completion tokens, manifest.json says "
                        + entry.completionTokens());
            }
        }
    }

    /** A reader of every column, the optional text columns included when the shard has them. */
    private ShardReader openWithText(Path path, String name) throws IOException {
        ShardReader reader = ShardReader.open(path, ShardSchema.COLUMNS);
        if (!ShardSchema.hasText(reader.fileSchema())) {
            if (run.storesText()) {
                out.add(name + ": the run stores text spans (store_spans in manifest.json) but the shard has no "
                        + String.join("/", ShardSchema.TEXT_COLUMNS) + " columns");
            }
            return reader;
        }
        reader.close();
        List<String> all = new ArrayList<>(ShardSchema.COLUMNS);
        all.addAll(ShardSchema.TEXT_COLUMNS);
        return ShardReader.open(path, all);
    }

    /** The run's teacher_vocab.json, or null (not a --store-spans run, or unreadable: reported once). */
    private TeacherVocab teacherVocab() {
        return vocab;
    }

    private void checkMetadata(String name, ShardMetadata meta) {
        if (vocab != null && !vocab.tokenizerSha256().equals(meta.tokenizerSha256())) {
            out.add(name + ": " + ShardMetadata.KEY_TOKENIZER_SHA256 + " " + meta.tokenizerSha256() + " differs from "
                    + TeacherVocab.FILE + "'s " + vocab.tokenizerSha256());
        }
        if (!meta.configHash().equals(manifest.configHash())) {
            out.add(name + ": " + ShardMetadata.KEY_CONFIG_HASH + " " + meta.configHash()
                    + " differs from manifest.json's " + manifest.configHash());
        }
        if (firstMetadata == null) {
            firstMetadata = meta;
            firstFile = name;
            return;
        }
        Map<String, String> mine = meta.toKeyValues();
        Map<String, String> first = firstMetadata.toKeyValues();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(first.keySet());
        keys.addAll(mine.keySet());
        for (String key : keys) {
            if (!Objects.equals(mine.get(key), first.get(key))) {
                out.add(name + ": " + key + " is " + mine.get(key) + ", " + firstFile + " has " + first.get(key));
            }
        }
    }
}
