package dev.distill.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;

/** Puts shards that break the format's invariants into a run directory, as a buggy writer would, for validate tests. */
public final class CorruptShards {
    private CorruptShards() {}

    /**
     * Replaces shard {@code i} with {@code rows} written without {@link ShardWriter}'s checks and has the manifest
     * describe the new file (so only the rows themselves are wrong).
     */
    public static void replaceShard(java.nio.file.Path dir, int i, List<SoftLabelRow> rows, ShardMetadata meta)
            throws IOException {
        RunDirectory run = RunDirectory.existing(dir.toString());
        Path file = run.shardPath(i);
        try (ParquetWriter<SoftLabelRow> w = new UncheckedBuilder(
                        HadoopOutputFile.fromPath(file, HadoopFs.conf()),
                        meta,
                        rows.stream().anyMatch(r -> r.text() != null))
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .withCompressionCodec(CompressionCodecName.ZSTD)
                .build()) {
            for (SoftLabelRow row : rows) {
                w.write(row);
            }
        }
        forgetShard(run, i);
        run.refreshManifest();
    }

    /** Marks shard {@code i} pending in manifest.json, as a lost update would. */
    public static void forgetShard(RunDirectory run, int i) throws IOException {
        Manifest m = run.readManifest();
        List<Manifest.Shard> shards = new ArrayList<>(m.shards());
        Manifest.Shard s = shards.get(i);
        shards.set(
                i,
                new Manifest.Shard(
                        i, s.file(), s.promptStart(), s.promptEnd(), null, null, null, Manifest.Shard.PENDING));
        java.nio.file.Files.write(
                java.nio.file.Path.of(run.path().toUri()).resolve(RunDirectory.MANIFEST),
                new Manifest(m.schemaVersion(), m.config(), m.configHash(), m.promptsTotal(), shards).toJson());
    }

    /** A ParquetWriter of rows without ShardWriter's checks. */
    private static final class UncheckedBuilder extends ParquetWriter.Builder<SoftLabelRow, UncheckedBuilder> {
        private final ShardMetadata meta;
        private final boolean text;

        UncheckedBuilder(OutputFile out, ShardMetadata meta, boolean text) {
            super(out);
            this.meta = meta;
            this.text = text;
        }

        @Override
        protected UncheckedBuilder self() {
            return this;
        }

        @Override
        protected WriteSupport<SoftLabelRow> getWriteSupport(Configuration conf) {
            return new SoftLabelWriteSupport(
                    meta,
                    () -> java.util.Map.of(
                            Fidelity.KEY, new Fidelity.Accumulator().summary().toFooterValue()),
                    text);
        }
    }
}
