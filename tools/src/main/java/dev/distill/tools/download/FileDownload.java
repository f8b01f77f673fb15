package dev.distill.tools.download;

import dev.distill.pipeline.remote.RetryPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Response;

/**
 * Fetches one repository file into {@code <out>/<name>}: bytes go to {@code <name>.part}, which survives a
 * dropped connection or a killed process and is continued with an HTTP Range request; the complete file is
 * checked (size, and the hub's sha256 for LFS files) before it is renamed into place. Never more bytes than the hub
 * lists are written: a longer body fails the file and removes its {@code .part}.
 */
final class FileDownload {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");
    private static final int BUFFER = 1 << 16;

    private final HubClient hub;
    private final String repo;
    private final String commit;
    private final String revision;

    FileDownload(HubClient hub, String repo, String commit, String revision) {
        this.hub = hub;
        this.repo = repo;
        this.commit = commit;
        this.revision = revision;
    }

    /** Whether {@code target} already holds the file (size and, for LFS files, sha256 match). */
    static boolean upToDate(Path target, RepoFile file) throws IOException {
        if (!Files.isRegularFile(target) || (file.size() != null && Files.size(target) != file.size())) {
            return false;
        }
        return file.sha256() == null || file.sha256().equalsIgnoreCase(sha256(target));
    }

    /** Downloads {@code file} (continuing a .part left by an earlier attempt); {@code progress} gets every chunk's size. */
    void fetch(RepoFile file, Path target, LongConsumer progress) throws IOException {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        Files.createDirectories(target.getParent());
        String what = "GET " + repo + "/" + file.name();
        for (int attempt = 1; ; attempt++) {
            long have = Files.exists(part) ? Files.size(part) : 0;
            if (file.size() != null && have > file.size()) {
                Files.delete(part); // longer than the file: not ours to continue
                have = 0;
            }
            if (file.size() != null && have == file.size()) {
                break; // a complete .part from an earlier run: only the checks are left
            }
            String failure;
            try (Response r = hub.file(repo, commit, file.name(), have)) {
                if (r.code() == 206 && rangeStart(r.header("Content-Range")) != have) {
                    Files.deleteIfExists(part);
                    failure = "asked for bytes from " + have + ", got Content-Range " + r.header("Content-Range");
                } else if (r.code() == 200 || r.code() == 206) {
                    boolean append = r.code() == 206; // a 200 is the whole file: the server ignored the Range
                    long offset = append ? have : 0;
                    long announced = r.body().contentLength();
                    if (file.size() != null && announced >= 0 && offset + announced > file.size()) {
                        Files.deleteIfExists(part);
                        throw oversized(file, " (" + (offset + announced) + ")");
                    }
                    long room = file.size() != null ? file.size() - offset : Long.MAX_VALUE;
                    if (!copy(r.body().byteStream(), part, append, room, progress)) {
                        Files.deleteIfExists(part);
                        throw oversized(file, "");
                    }
                    long expected = file.size() != null ? file.size() : totalLength(r, append ? have : 0);
                    if (expected < 0 || Files.size(part) == expected) {
                        break;
                    }
                    failure = "the connection ended after " + Files.size(part) + " of " + expected + " bytes";
                } else if (r.code() == 416) {
                    Files.deleteIfExists(part); // the server cannot continue this .part: start over
                    failure = "HTTP 416: cannot resume from byte " + have;
                } else if (RetryPolicy.retryableStatus(r.code())) {
                    failure = "HTTP " + r.code() + ": "
                            + HubClient.message(r, r.body().string());
                } else {
                    throw hub.refused(
                            r.code(),
                            r.header("X-Error-Code"),
                            HubClient.message(r, r.body().string()),
                            repo,
                            revision,
                            file.name());
                }
            } catch (IOException e) {
                failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                        + " after " + (Files.exists(part) ? Files.size(part) : 0) + " bytes";
            }
            hub.pause(what, failure, attempt, null);
        }
        verify(file, part);
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void verify(RepoFile file, Path part) throws IOException {
        long size = Files.size(part);
        if (file.size() != null && size != file.size()) {
            throw new DownloadException(
                    repo + "/" + file.name() + ": downloaded " + size + " bytes; the hub lists " + file.size());
        }
        if (file.sha256() != null) {
            String got = sha256(part);
            if (!got.equalsIgnoreCase(file.sha256())) {
                Files.delete(part);
                throw new DownloadException(repo + "/" + file.name() + ": sha256 mismatch: the hub lists "
                        + file.sha256()
                        + ", the downloaded bytes hash to " + got + "; the corrupt download was removed, run again to"
                        + " fetch it anew");
            }
        }
    }

    /** Copies at most {@code room} bytes; false (the part holding exactly {@code room} new bytes) when the body is longer. */
    private static boolean copy(InputStream in, Path part, boolean append, long room, LongConsumer progress)
            throws IOException {
        try (InputStream src = in;
                OutputStream out = Files.newOutputStream(
                        part,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[BUFFER];
            long left = room;
            for (int n; (n = src.read(buf)) >= 0; ) {
                if (n > left) {
                    out.write(buf, 0, (int) left);
                    return false;
                }
                out.write(buf, 0, n);
                left -= n;
                progress.accept(n);
            }
            return true;
        }
    }

    private DownloadException oversized(RepoFile file, String sent) {
        return new DownloadException(repo + "/" + file.name() + ": the server sends more than the " + file.size()
                + " bytes the hub lists" + sent + "; the download was removed");
    }

    private static long rangeStart(String contentRange) {
        if (contentRange == null) {
            return -1;
        }
        Matcher m = CONTENT_RANGE.matcher(contentRange.trim());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The whole file's length from the response (Content-Range total, or offset + Content-Length), or -1. */
    private static long totalLength(Response r, long offset) {
        Matcher m =
                CONTENT_RANGE.matcher(String.valueOf(r.header("Content-Range")).trim());
        if (m.matches() && !m.group(2).equals("*")) {
            return Long.parseLong(m.group(2));
        }
        long n = r.body().contentLength();
        return n < 0 ? -1 : offset + n;
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) >= 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
