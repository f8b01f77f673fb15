package dev.distill.pipeline;

import dev.distill.data.Fidelity;
import dev.distill.data.Manifest;
import dev.distill.data.RunDirectory;
import dev.distill.prompts.SkipReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What a `distill generate` process did, printed at its end. */
public record GenerateSummary(
        String out,
        int shardsDone,
        int shardsTotal,
        long prompts,
        String skipped,
        long tokens,
        double seconds,
        double bytesPerToken,
        Fidelity fidelity) {

    /** Reads the committed shards' sizes and token counts from the refreshed manifest. */
    public static GenerateSummary of(RunDirectory run, SkipReport skips, long prompts, long tokens, double seconds)
            throws IOException {
        Manifest manifest = run.refreshManifest();
        long bytes = 0;
        long runTokens = 0;
        int done = 0;
        List<Fidelity> fidelities = new ArrayList<>();
        for (Manifest.Shard s : manifest.shards()) {
            if (s.committed()) {
                done++;
                if (s.fidelity() != null) {
                    fidelities.add(Fidelity.fromJson(s.fidelity(), run.location() + "/manifest.json"));
                }
                runTokens += s.completionTokens();
                bytes +=
                        run.fileSystem().getFileStatus(run.shardPath(s.index())).getLen();
            }
        }
        return new GenerateSummary(
                run.location(),
                done,
                manifest.shards().size(),
                prompts,
                skips.format(),
                tokens,
                seconds,
                runTokens == 0 ? 0 : (double) bytes / runTokens,
                Fidelity.merge(fidelities));
    }

    public boolean complete() {
        return shardsDone == shardsTotal;
    }

    public String format() {
        return String.format(
                        Locale.ROOT,
                        "generate: %s%n  shards: %d/%d committed%s%n  this process: %d prompts, %d completion tokens in %.1f s"
                                + " (%.1f tok/s)%n  %s%n  bytes per completion token on disk: %.1f",
                        out,
                        shardsDone,
                        shardsTotal,
                        complete() ? " (run complete)" : "",
                        prompts,
                        tokens,
                        seconds,
                        seconds > 0 ? tokens / seconds : 0.0,
                        skipped,
                        bytesPerToken)
                + (fidelity == null ? "" : String.format(Locale.ROOT, "%n  fidelity: %s", fidelity.describe()));
    }
}
