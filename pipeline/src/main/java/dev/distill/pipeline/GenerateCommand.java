package dev.distill.pipeline;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `distill generate`: Run a teacher over a prompt corpus and write its top-k soft labels into resumable Parquet shards. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Run a teacher over a prompt corpus and write its top-k soft labels into resumable Parquet shards.")
public final class GenerateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("distill generate: not available in this build yet");
        return 2;
    }
}
