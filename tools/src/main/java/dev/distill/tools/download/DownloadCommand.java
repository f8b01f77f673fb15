package dev.distill.tools.download;

import dev.distill.cli.UsageException;
import dev.distill.pipeline.remote.RetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `distill download`: fetch a Hugging Face model repository's config, tokenizer and safetensors files. */
@Command(
        name = "download",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Download a model from the Hugging Face hub: config.json, generation_config.json, the tokenizer files,",
            "the chat template and the *.safetensors weights (+ index). Interrupted downloads resume (DIR/<file>.part);",
            "LFS files are checked against the hub's sha256. HF_TOKEN (private or gated repositories) and HF_ENDPOINT",
            "(a mirror) are read from the environment."
        })
public final class DownloadCommand implements Callable<Integer> {
    /** The hub used when neither --endpoint nor HF_ENDPOINT is given. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    @Parameters(index = "0", paramLabel = "REPO_ID", description = "Repository, e.g. Qwen/Qwen2.5-0.5B-Instruct.")
    String repo;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the files into.")
    Path out;

    @Option(
            names = "--revision",
            defaultValue = "main",
            paramLabel = "REV",
            description = "Branch, tag or commit. Default: ${DEFAULT-VALUE}.")
    String revision;

    @Option(
            names = "--include",
            paramLabel = "GLOB",
            description =
                    "Fetch the files matching this glob instead of the default set (repeatable), e.g. --include '*.json'.")
    List<String> include;

    @Option(
            names = "--endpoint",
            paramLabel = "URL",
            description = "Hub URL (default: HF_ENDPOINT, else " + DEFAULT_ENDPOINT + ").")
    String endpoint;

    @Option(
            names = "--max-retries",
            defaultValue = "5",
            description = "Retries per request after a dropped connection, 429 or 5xx. Default: ${DEFAULT-VALUE}.")
    int maxRetries;

    @Override
    public Integer call() throws Exception {
        if (!repo.matches("[A-Za-z0-9][\\w.-]*(/[\\w.-]+)?")) {
            throw new UsageException("REPO_ID '" + repo + "' is not a repository id like org/name");
        }
        if (maxRetries < 0) {
            throw new UsageException("--max-retries must be >= 0, got " + maxRetries);
        }
        String hubUrl = endpoint != null
                ? endpoint
                : System.getenv("HF_ENDPOINT") != null
                                && !System.getenv("HF_ENDPOINT").isBlank()
                        ? System.getenv("HF_ENDPOINT")
                        : DEFAULT_ENDPOINT;
        RetryPolicy retry = new RetryPolicy(maxRetries + 1, Duration.ofSeconds(1), Duration.ofSeconds(30));
        try (HubClient hub = new HubClient(hubUrl, System.getenv("HF_TOKEN"), retry, Duration.ofSeconds(60))) {
            HubDownloader.Result r = new HubDownloader(hub).download(repo, revision, new FileSelection(include), out);
            System.out.printf(
                    "download: %s@%s (commit %s) -> %s%n  fetched %d file(s), %s; %d already up to date%n",
                    repo,
                    revision,
                    r.commit(),
                    out,
                    r.fetched().size(),
                    HubDownloader.human(r.bytes()),
                    r.upToDate().size());
        }
        return 0;
    }
}
