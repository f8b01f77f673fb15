package dev.distill.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A resumable run: {@code manifest.json}, the committed shards {@code part-NNNNN.parquet} and {@code _tmp/} for
 * shards being written, on any Hadoop file system.
 *
 * <p>Shard {@code i} holds prompts {@code [i*shardSize, min((i+1)*shardSize, N))}. Several worker processes may
 * share a run directory with no coordination service: worker {@code I} of {@code W} writes the shards with
 * {@code i % W == I}. The committed part files are the truth; manifest.json is a view rebuilt from them by
 * {@link #refreshManifest()}, so an update lost to racing writers is repaired by the next refresh.
 *
 * <p>Temporary files: every refresh deletes the files in {@code _tmp/} of shards that are committed (any attempt
 * at a committed shard is a loser whose data is not needed, so this never harms a live writer), and the first
 * refresh that sees the run complete deletes {@code _tmp/}. A crashed attempt's leftover therefore stays until its
 * shard is committed by the resumed run, and no clock or liveness guess is needed.
 */
public final class RunDirectory {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RunDirectory.class);
    public static final String MANIFEST = "manifest.json";
    public static final String TMP_DIR = "_tmp";
    /** The config key holding the shard size; {@link #open} adds it when the config lacks it. */
    public static final String SHARD_SIZE_KEY = "shard_size";
    /** The config key of {@code --store-spans}: present and true when shards carry the text columns. */
    public static final String STORE_SPANS_KEY = "store_spans";

    private static final Pattern PART = Pattern.compile("part-(\\d{5,9})\\.parquet");
    private static final Pattern TMP_PART = Pattern.compile("part-(\\d{5,9})\\..+\\.parquet");

    private final String location;
    private final Path dir;
    private final FileSystem fs;
    private final ObjectNode config;
    private final String configHash;
    private final long promptsTotal;
    private final int shardSize;
    /** Whether commits refresh manifest.json (false in a {@link #forShardWriters} view). */
    private final boolean ownsManifest;
    /** Entries of committed shards already computed or read by this process (a committed file never changes). */
    private final Map<Integer, Manifest.Shard> known = new HashMap<>();
    /** Warnings about damaged shards moved aside by {@link #open}. */
    private final List<String> repaired = new ArrayList<>();

    private RunDirectory(
            String location,
            Path dir,
            FileSystem fs,
            ObjectNode config,
            long promptsTotal,
            int shardSize,
            boolean ownsManifest) {
        this.location = location;
        this.dir = dir;
        this.fs = fs;
        this.config = config;
        this.configHash = CanonicalJson.sha256(config);
        this.promptsTotal = promptsTotal;
        this.shardSize = shardSize;
        this.ownsManifest = ownsManifest;
    }

    /**
     * Creates a run directory, or resumes the one at {@code location}.
     *
     * @param config every option that changes the data; {@code shard_size} is added when absent
     * @throws IllegalArgumentException when an existing run was made with another configuration or corpus size,
     *     naming every differing option with both values
     */
    public static RunDirectory open(String location, ObjectNode config, long promptsTotal, int shardSize)
            throws IOException {
        return open(location, config, promptsTotal, shardSize, false);
    }

    /**
     * As {@link #open(String, ObjectNode, long, int)}. The first process to open a new run fixes its configuration
     * atomically (manifest.json is created only if absent; a process that loses the race compares its configuration
     * with the winner's). On resume every committed shard's footer is read and checked against the manifest (row
     * count, config_hash), and with {@code verifyHashes} its sha256 too; a damaged shard is moved aside into
     * {@code _tmp/} to be written again, with a warning naming it ({@link #repairedShards()}). A lost manifest.json is
     * rebuilt from the shards' footers when they all carry this configuration's hash.
     */
    public static RunDirectory open(
            String location, ObjectNode config, long promptsTotal, int shardSize, boolean verifyHashes)
            throws IOException {
        RunDirectory run = create(location, config, promptsTotal, shardSize, true);
        Path manifestPath = new Path(run.dir, MANIFEST);
        if (run.fs.exists(manifestPath)) {
            Manifest recorded = Manifest.read(run.fs, manifestPath);
            run.checkSameRun(recorded);
            run.repairDamaged(recorded, verifyHashes);
        } else {
            run.requireFootersOfThisRun();
            run.fs.mkdirs(run.dir);
            run.fixConfiguration(manifestPath);
        }
        run.refreshManifest();
        return run;
    }

    /** Writes the first manifest only if none exists; when another process wrote one first, it must be this run's. */
    private void fixConfiguration(Path manifestPath) throws IOException {
        Path tmpDir = new Path(dir, TMP_DIR);
        fs.mkdirs(tmpDir);
        Path tmp = new Path(tmpDir, MANIFEST + "." + AtomicFiles.uniqueId());
        try (java.io.OutputStream out = fs.create(tmp, false)) {
            out.write(plannedManifest().toJson());
        }
        if (!AtomicFiles.publishIfAbsent(fs, tmp, manifestPath)) {
            checkSameRun(Manifest.read(fs, manifestPath));
        }
    }

    private Manifest plannedManifest() {
        List<Manifest.Shard> shards = new ArrayList<>();
        for (int i = 0; i < shardCount(); i++) {
            shards.add(pendingEntry(i));
        }
        return new Manifest(Manifest.SCHEMA_VERSION, config, configHash, promptsTotal, shards);
    }

    /** With no manifest.json, committed shards are kept only when every footer carries this run's config_hash. */
    private void requireFootersOfThisRun() throws IOException {
        for (FileStatus status : listCommitted().values()) {
            String hash;
            try (ShardReader reader = ShardReader.open(status.getPath(), List.of(ShardSchema.COMPLETION_IDS))) {
                hash = reader.metadata().configHash();
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(
                        "run directory " + location + " has no " + MANIFEST + " and its shard "
                                + status.getPath().getName() + " is unreadable (" + e.getMessage()
                                + "); use a new --out directory",
                        e);
            }
            if (!hash.equals(configHash)) {
                throw new IllegalArgumentException("run directory " + location + " has no " + MANIFEST
                        + " and its shard "
                        + status.getPath().getName() + " was made with another configuration (config_hash " + hash
                        + ", now " + configHash + "); use a new --out directory, or rerun with the original options");
            }
        }
    }

    /**
     * Moves aside every committed shard whose footer is unreadable or disagrees with {@code recorded} (rows,
     * config_hash), or, with {@code verifyHashes}, whose sha256 differs: it is pending again.
     */
    private void repairDamaged(Manifest recorded, boolean verifyHashes) throws IOException {
        for (Map.Entry<Integer, FileStatus> e : listCommitted().entrySet()) {
            int i = e.getKey();
            Manifest.Shard entry =
                    i < recorded.shards().size() ? recorded.shards().get(i) : null;
            String problem = damage(e.getValue().getPath(), entry, verifyHashes);
            if (problem != null) {
                Path aside = new Path(
                        new Path(dir, TMP_DIR),
                        String.format(java.util.Locale.ROOT, "part-%05d.", i) + "damaged-" + AtomicFiles.uniqueId()
                                + ".parquet");
                fs.mkdirs(aside.getParent());
                if (!fs.rename(e.getValue().getPath(), aside)) {
                    throw new IOException(
                            "cannot move the damaged shard " + e.getValue().getPath() + " to " + aside);
                }
                String message = "shard " + i + " (" + shardFileName(i) + ") in " + location + " is damaged (" + problem
                        + "): it will be written again";
                LOG.warn(message);
                repaired.add(message);
            }
        }
    }

    /** What is wrong with a committed shard file, or null when it matches its manifest entry. */
    private String damage(Path file, Manifest.Shard entry, boolean verifyHashes) throws IOException {
        try (ShardReader reader = ShardReader.open(file, List.of(ShardSchema.COMPLETION_IDS))) {
            if (!reader.metadata().configHash().equals(configHash)) {
                return "its config_hash " + reader.metadata().configHash() + " is not the run's " + configHash;
            }
            if (entry != null && entry.committed() && entry.rows() != null && entry.rows() != reader.rowCount()) {
                return "its footer has " + reader.rowCount() + " rows, the manifest " + entry.rows();
            }
        } catch (IOException | RuntimeException e) {
            return "unreadable: " + e.getMessage();
        }
        if (verifyHashes && entry != null && entry.committed() && entry.sha256() != null) {
            String sha = HadoopFs.sha256(fs, file);
            if (!sha.equals(entry.sha256())) {
                return "sha256 " + sha + ", the manifest records " + entry.sha256();
            }
        }
        return null;
    }

    /**
     * Claims worker {@code workerIndex} of this run for this process until the lock is closed.
     *
     * @throws IllegalStateException naming the holder (pid, host) when another process has claimed it
     */
    public WorkerLock lockWorker(int workerIndex) throws IOException {
        return WorkerLock.acquire(fs, dir, location, workerIndex);
    }

    /** The warnings about damaged shards that {@link #open} moved aside to be written again (empty when none). */
    public List<String> repairedShards() {
        return List.copyOf(repaired);
    }

    /**
     * The run directory at {@code location}, which {@link #open} opened in another process (a cluster's driver), for
     * writing shards only: manifest.json is neither read nor written, and a commit only moves the shard into place
     * (first finisher wins) and deletes the attempt's temporary file. The process that opened the run rebuilds the
     * manifest from the committed files with {@link #refreshManifest()}.
     *
     * @param config the configuration the run was opened with, so that shard metadata is checked against its hash
     */
    public static RunDirectory forShardWriters(String location, ObjectNode config, long promptsTotal, int shardSize)
            throws IOException {
        return create(location, config, promptsTotal, shardSize, false);
    }

    private static RunDirectory create(
            String location, ObjectNode config, long promptsTotal, int shardSize, boolean ownsManifest)
            throws IOException {
        if (promptsTotal < 0) {
            throw new IllegalArgumentException("prompts_total must be >= 0, got " + promptsTotal);
        }
        if (shardSize < 1) {
            throw new IllegalArgumentException("shard size must be >= 1, got " + shardSize);
        }
        ObjectNode cfg = CanonicalJson.reparsed(config);
        JsonNode declared = cfg.get(SHARD_SIZE_KEY);
        if (declared == null) {
            cfg.put(SHARD_SIZE_KEY, shardSize);
        } else if (!declared.canConvertToInt() || declared.asInt() != shardSize) {
            throw new IllegalArgumentException(
                    "config shard_size " + declared + " differs from the shard size " + shardSize);
        }
        Path dir = HadoopFs.path(location);
        return new RunDirectory(location, dir, HadoopFs.fileSystem(dir), cfg, promptsTotal, shardSize, ownsManifest);
    }

    /**
     * Opens an existing run directory with the configuration recorded in its manifest (for reading, inspecting or
     * validating it; nothing is written).
     *
     * @throws IllegalArgumentException when the directory or its manifest is missing, naming which
     */
    public static RunDirectory existing(String location) throws IOException {
        Path dir = HadoopFs.path(location);
        FileSystem fs = HadoopFs.fileSystem(dir);
        if (!fs.exists(dir)) {
            throw new IllegalArgumentException("run directory " + location + " does not exist");
        }
        Path manifestPath = new Path(dir, MANIFEST);
        if (!fs.exists(manifestPath)) {
            throw new IllegalArgumentException(
                    "run directory " + location + " has no " + MANIFEST + " (not a distill run directory?)");
        }
        Manifest m = Manifest.read(fs, manifestPath);
        if (m.schemaVersion() != Manifest.SCHEMA_VERSION) {
            throw new IllegalArgumentException(manifestPath + ": schema_version " + m.schemaVersion()
                    + " is not supported; this build reads version " + Manifest.SCHEMA_VERSION);
        }
        JsonNode size = m.config().get(SHARD_SIZE_KEY);
        if (size == null || !size.canConvertToInt() || size.asInt() < 1) {
            throw new IllegalArgumentException(
                    manifestPath + ": config.shard_size is missing or not a positive integer");
        }
        return new RunDirectory(location, dir, fs, m.config(), m.promptsTotal(), size.asInt(), true);
    }

    private void checkSameRun(Manifest existing) {
        List<String> diffs = new ArrayList<>();
        if (existing.schemaVersion() != Manifest.SCHEMA_VERSION) {
            diffs.add(
                    "schema_version: " + existing.schemaVersion() + " (run) vs " + Manifest.SCHEMA_VERSION + " (now)");
        }
        if (!existing.configHash().equals(configHash)) {
            diffs.addAll(ConfigDiff.differences(existing.config(), config));
            if (diffs.isEmpty()) {
                diffs.add("config_hash: " + existing.configHash() + " (run) vs " + configHash + " (now)");
            }
        }
        if (existing.promptsTotal() != promptsTotal) {
            diffs.add("prompts_total: " + existing.promptsTotal() + " (run) vs " + promptsTotal + " (now)");
        }
        if (!diffs.isEmpty()) {
            throw new IllegalArgumentException("run directory " + location
                    + " was made with a different configuration: " + String.join("; ", diffs)
                    + ". Use a new --out directory, or rerun with the original options.");
        }
    }

    /** manifest.json as it is on disk now. */
    public Manifest readManifest() throws IOException {
        return Manifest.read(fs, new Path(dir, MANIFEST));
    }

    /** The file system the run directory lives on. */
    public FileSystem fileSystem() {
        return fs;
    }

    /** The directory as the user gave it (for messages). */
    public String location() {
        return location;
    }

    /** The directory, fully qualified. */
    public Path path() {
        return dir;
    }

    /** The run configuration (including shard_size). */
    public ObjectNode config() {
        return config.deepCopy();
    }

    /** SHA-256 of the canonical configuration JSON. */
    public String configHash() {
        return configHash;
    }

    /** Prompts in the corpus. */
    public long promptsTotal() {
        return promptsTotal;
    }

    /** Prompts per shard. */
    public int shardSize() {
        return shardSize;
    }

    /** Shards in the plan: ceil(prompts_total / shard_size). */
    public int shardCount() {
        return Math.toIntExact((promptsTotal + shardSize - 1) / shardSize);
    }

    /** Shard {@code i}'s prompt range {@code {start, end}} (end exclusive). */
    public long[] shardRange(int i) {
        checkIndex(i);
        long start = (long) i * shardSize;
        return new long[] {start, Math.min(start + shardSize, promptsTotal)};
    }

    /** {@code part-NNNNN.parquet}. */
    public static String shardFileName(int i) {
        return String.format(Locale.ROOT, "part-%05d.parquet", i);
    }

    /** The shard index of a committed shard's file name ({@code part-NNNNN.parquet}), or -1 for any other name. */
    public static int shardIndex(String fileName) {
        Matcher m = PART.matcher(fileName);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Where shard {@code i} lives once committed. */
    public Path shardPath(int i) {
        checkIndex(i);
        return new Path(dir, shardFileName(i));
    }

    /** Whether shard {@code i}'s file is in place. */
    public boolean isCommitted(int i) throws IOException {
        return fs.exists(shardPath(i));
    }

    /** Whether every shard is committed. */
    public boolean isComplete() throws IOException {
        return listCommitted().size() == shardCount();
    }

    /** The committed shards' files, in shard order. */
    public List<Path> committedShards() throws IOException {
        List<Path> out = new ArrayList<>();
        listCommitted().values().forEach(status -> out.add(status.getPath()));
        return out;
    }

    /**
     * The format version of the run's committed shards (of the first one), or empty when none is committed: a run
     * resumed by a newer build keeps writing the version it started with, so its shards stay alike.
     */
    public java.util.Optional<Integer> committedShardVersion() throws IOException {
        List<Path> committed = committedShards();
        if (committed.isEmpty()) {
            return java.util.Optional.empty();
        }
        try (ShardReader reader = ShardReader.open(committed.get(0), List.of(ShardSchema.PROMPT_INDEX))) {
            return java.util.Optional.of(reader.metadata().schemaVersion());
        }
    }

    /** The shards worker {@code workerIndex} of {@code numWorkers} still has to write: {@code i % numWorkers == workerIndex}, not committed. */
    public List<Integer> pendingShards(int numWorkers, int workerIndex) throws IOException {
        if (numWorkers < 1 || workerIndex < 0 || workerIndex >= numWorkers) {
            throw new IllegalArgumentException("worker index " + workerIndex + " is not in [0, " + numWorkers + ")");
        }
        Map<Integer, FileStatus> committed = listCommitted();
        List<Integer> out = new ArrayList<>();
        for (int i = workerIndex; i < shardCount(); i += numWorkers) {
            if (!committed.containsKey(i)) {
                out.add(i);
            }
        }
        return out;
    }

    /**
     * Whether the run's shards carry the optional text columns: its config has {@code "store_spans": true}
     * ({@code distill generate --store-spans}); then {@link TeacherVocab#FILE} is in the directory too.
     */
    public boolean storesText() {
        return config.path(STORE_SPANS_KEY).asBoolean(false);
    }

    /** {@link #openShard(int, ShardMetadata, long)} with the default row group size. */
    public ShardWriter openShard(int i, ShardMetadata metadata) throws IOException {
        return openShard(i, metadata, ShardWriter.DEFAULT_ROW_GROUP_BYTES);
    }

    /**
     * Starts writing shard {@code i} into {@code _tmp/part-NNNNN.<attempt>.parquet}. {@link ShardWriter#commit()}
     * moves it into place (unless another attempt committed it first), records it and refreshes the manifest (except
     * in a {@link #forShardWriters} view).
     */
    public ShardWriter openShard(int i, ShardMetadata metadata, long rowGroupBytes) throws IOException {
        checkIndex(i);
        if (!metadata.configHash().equals(configHash)) {
            throw new IllegalArgumentException(
                    "shard metadata config_hash " + metadata.configHash() + " differs from the run's " + configHash);
        }
        if (isCommitted(i)) {
            throw new IllegalStateException(
                    "shard " + i + " (" + shardFileName(i) + ") is already committed in " + location);
        }
        Path tmpDir = new Path(dir, TMP_DIR);
        fs.mkdirs(tmpDir);
        Path tmp = new Path(tmpDir, String.format(Locale.ROOT, "part-%05d.", i) + AtomicFiles.uniqueId() + ".parquet");
        long[] range = shardRange(i);
        return new ShardWriter(
                tmp,
                "shard " + i + " (" + shardFileName(i) + ")",
                metadata,
                rowGroupBytes,
                range[0],
                range[1],
                storesText(),
                new ShardWriter.Publisher() {
                    @Override
                    public boolean publish(ShardWriter writer, Path finished) throws IOException {
                        return commit(i, writer, finished);
                    }

                    @Override
                    public boolean isPublished() throws IOException {
                        return isCommitted(i);
                    }
                });
    }

    private boolean commit(int i, ShardWriter writer, Path finished) throws IOException {
        Path target = shardPath(i);
        requireFixedConfiguration(finished);
        boolean won = AtomicFiles.publishIfAbsent(fs, finished, target);
        if (!ownsManifest) {
            return won;
        }
        if (won) {
            long[] range = shardRange(i);
            synchronized (this) {
                known.put(
                        i,
                        new Manifest.Shard(
                                i,
                                shardFileName(i),
                                range[0],
                                range[1],
                                writer.rows(),
                                writer.completionTokens(),
                                HadoopFs.sha256(fs, target),
                                Manifest.Shard.COMPLETE,
                                writer.fidelity() == null
                                        ? null
                                        : writer.fidelity().toJson()));
            }
        }
        refreshManifest();
        return won;
    }

    /**
     * Refuses to commit when manifest.json (the configuration fixed by the run's first process) has another
     * config_hash than this process's: a worker started with other options must not add its shards to the run.
     */
    private void requireFixedConfiguration(Path finished) throws IOException {
        Path manifestPath = new Path(dir, MANIFEST);
        if (!fs.exists(manifestPath)) {
            return;
        }
        Manifest fixed = Manifest.read(fs, manifestPath);
        if (!fixed.configHash().equals(configHash)) {
            fs.delete(finished, false);
            List<String> diffs = ConfigDiff.differences(fixed.config(), config);
            throw new IllegalStateException("run directory " + location + " was fixed to another configuration by the"
                    + " process that created it: "
                    + (diffs.isEmpty()
                            ? "config_hash " + fixed.configHash() + " (run) vs " + configHash + " (now)"
                            : String.join("; ", diffs))
                    + "; this process's shard was not committed");
        }
    }

    /**
     * Rebuilds manifest.json from the committed part files and rewrites it when it differs; repeats while the
     * directory shows more committed shards than the manifest just written (another worker committed meanwhile).
     * Entries of shards committed by other processes come from the manifest on disk or, when missing there, from
     * the file itself (row count from the footer, completion tokens and sha256 by reading it). Deletes the
     * temporary files of committed shards, and {@code _tmp/} once the run is complete.
     *
     * @return the manifest as written
     */
    public synchronized Manifest refreshManifest() throws IOException {
        Path manifestPath = new Path(dir, MANIFEST);
        Map<Integer, FileStatus> committed = listCommitted();
        for (int round = 0; ; round++) {
            Manifest onDisk = fs.exists(manifestPath) ? Manifest.read(fs, manifestPath) : null;
            List<Manifest.Shard> shards = new ArrayList<>();
            for (int i = 0; i < shardCount(); i++) {
                shards.add(committed.containsKey(i) ? committedEntry(i, onDisk) : pendingEntry(i));
            }
            Manifest m = new Manifest(Manifest.SCHEMA_VERSION, config, configHash, promptsTotal, shards);
            if (onDisk == null || !Arrays.equals(m.toJson(), onDisk.toJson())) {
                AtomicFiles.replace(fs, manifestPath, m.toJson(), new Path(dir, TMP_DIR));
            }
            Map<Integer, FileStatus> now = listCommitted();
            if (now.keySet().equals(committed.keySet()) || round > shardCount()) {
                deleteLosers(now);
                return m;
            }
            committed = now;
        }
    }

    private void deleteLosers(Map<Integer, FileStatus> committed) throws IOException {
        Path tmpDir = new Path(dir, TMP_DIR);
        if (committed.size() == shardCount()) {
            fs.delete(tmpDir, true);
        } else if (fs.exists(tmpDir)) {
            for (FileStatus tmp : fs.listStatus(tmpDir)) {
                Matcher m = TMP_PART.matcher(tmp.getPath().getName());
                if (m.matches() && committed.containsKey(Integer.parseInt(m.group(1)))) {
                    fs.delete(tmp.getPath(), false);
                }
            }
        }
    }

    private Manifest.Shard committedEntry(int i, Manifest onDisk) throws IOException {
        Manifest.Shard entry = known.get(i);
        if (entry == null && onDisk != null && i < onDisk.shards().size()) {
            Manifest.Shard recorded = onDisk.shards().get(i);
            long[] range = shardRange(i);
            if (recorded.committed()
                    && recorded.index() == i
                    && shardFileName(i).equals(recorded.file())
                    && recorded.promptStart() == range[0]
                    && recorded.promptEnd() == range[1]
                    && recorded.rows() != null
                    && recorded.completionTokens() != null
                    && recorded.sha256() != null) {
                entry = recorded;
            }
        }
        if (entry == null) {
            entry = describeFile(i);
        }
        known.put(i, entry);
        return entry;
    }

    /** A committed shard's entry computed from the file alone. */
    private Manifest.Shard describeFile(int i) throws IOException {
        long rows;
        long tokens = 0;
        Fidelity fidelity;
        try (ShardReader reader = ShardReader.open(shardPath(i), List.of(ShardSchema.COMPLETION_IDS))) {
            rows = reader.rowCount();
            fidelity = reader.fidelity();
            for (SoftLabelRow row : reader) {
                tokens += row.completionIds().length;
            }
        }
        long[] range = shardRange(i);
        return new Manifest.Shard(
                i,
                shardFileName(i),
                range[0],
                range[1],
                rows,
                tokens,
                HadoopFs.sha256(fs, shardPath(i)),
                Manifest.Shard.COMPLETE,
                fidelity == null ? null : fidelity.toJson());
    }

    private Manifest.Shard pendingEntry(int i) {
        long[] range = shardRange(i);
        return new Manifest.Shard(i, shardFileName(i), range[0], range[1], null, null, null, Manifest.Shard.PENDING);
    }

    /** Committed shard files of the plan, by index. */
    private Map<Integer, FileStatus> listCommitted() throws IOException {
        Map<Integer, FileStatus> out = new TreeMap<>();
        if (!fs.exists(dir)) {
            return out;
        }
        for (FileStatus status : fs.listStatus(dir)) {
            int index = shardIndex(status.getPath().getName());
            if (status.isFile() && index >= 0 && index < shardCount()) {
                out.put(index, status);
            }
        }
        return out;
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= shardCount()) {
            throw new IndexOutOfBoundsException("shard " + i + " is not in [0, " + shardCount() + ")");
        }
    }
}
