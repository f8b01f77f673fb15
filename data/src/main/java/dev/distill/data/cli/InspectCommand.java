package dev.distill.data.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `distill inspect`: Summarise a run directory: rows, tokens, bytes per token, top-k mass, finish reasons, config. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Summarise a run directory: rows, tokens, bytes per token, top-k mass, finish reasons, config.")
public final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("distill inspect: not available in this build yet");
        return 2;
    }
}
