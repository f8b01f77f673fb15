package dev.distill.data.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `distill validate`: Check every invariant of the shard format in a run directory; non-zero exit on the first violations. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Check every invariant of the shard format in a run directory; non-zero exit on the first violations.")
public final class ValidateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("distill validate: not available in this build yet");
        return 2;
    }
}
