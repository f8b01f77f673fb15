package dev.distill.tools.download;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Downloads the selected files of a hub repository at one revision into a directory: resolves the revision
 * to its commit (so every file comes from the same commit), skips files already there and intact, and
 * fetches the rest resumably with a progress bar on a terminal (a line per file otherwise).
 */
public final class HubDownloader {
    /** What a download did: the commit, the files fetched and those already up to date, and the bytes transferred. */
    public record Result(String commit, List<String> fetched, List<String> upToDate, long bytes) {}

    private final HubClient hub;

    public HubDownloader(HubClient hub) {
        this.hub = hub;
    }

    /**
     * @throws DownloadException when the hub refuses, nothing matches, retries run out or a checksum differs
     */
    public Result download(String repo, String revision, FileSelection selection, Path out) throws IOException {
        RepoInfo info = hub.info(repo, revision);
        List<RepoFile> wanted = new ArrayList<>();
        for (RepoFile f : info.files()) {
            if (selection.matches(f.name())) {
                wanted.add(f);
            }
        }
        if (wanted.isEmpty()) {
            throw new DownloadException(
                    repo + "@" + revision + ": no file matches " + selection.globs() + " (the repository has "
                            + info.files().stream().map(RepoFile::name).toList() + ")");
        }
        if (selection.isDefault() && wanted.stream().noneMatch(f -> f.name().endsWith(".safetensors"))) {
            throw new DownloadException(repo + "@" + revision + ": no *.safetensors weights (the repository has "
                    + info.files().stream().map(RepoFile::name).toList() + "); distill reads safetensors only");
        }
        Path root = out.toAbsolutePath().normalize();
        List<RepoFile> todo = new ArrayList<>();
        List<String> upToDate = new ArrayList<>();
        for (RepoFile f : wanted) {
            Path target = target(root, f);
            if (FileDownload.upToDate(target, f)) {
                upToDate.add(f.name());
            } else {
                todo.add(f);
            }
        }
        long total =
                todo.stream().mapToLong(f -> f.size() == null ? 0 : f.size()).sum();
        FileDownload download = new FileDownload(hub, repo, info.commit(), revision);
        long[] bytes = {0};
        List<String> fetched = new ArrayList<>();
        try (ProgressBar bar = System.console() == null
                ? null
                : new ProgressBarBuilder()
                        .setTaskName("download")
                        .setInitialMax(total)
                        .setUnit(" MiB", 1 << 20)
                        .showSpeed()
                        .setStyle(ProgressBarStyle.ASCII)
                        .build()) {
            for (RepoFile f : todo) {
                download.fetch(f, target(root, f), n -> {
                    bytes[0] += n;
                    if (bar != null) {
                        bar.stepBy(n);
                    }
                });
                fetched.add(f.name());
                if (bar == null) {
                    System.err.printf(
                            Locale.ROOT,
                            "download: %s (%s)%n",
                            f.name(),
                            f.size() == null ? "size unknown" : human(f.size()));
                }
            }
        }
        return new Result(info.commit(), fetched, upToDate, bytes[0]);
    }

    /** {@code root/name}, refusing names that would land outside {@code root}. */
    private static Path target(Path root, RepoFile f) {
        Path p = root.resolve(f.name()).normalize();
        if (!p.startsWith(root) || p.equals(root)) {
            throw new DownloadException(
                    "the hub lists a file named '" + f.name() + "', which would be written outside " + root);
        }
        return p;
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String units = "KMGT";
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length() - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %siB", v, units.charAt(u));
    }
}
