package dev.distill.trainer;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `distill eval`: Evaluate a model against a teacher's soft labels: KL, top-1 agreement, CE. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a model against a teacher's soft labels: KL, top-1 agreement, CE.")
public final class EvalCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("distill eval: not available in this build yet");
        return 2;
    }
}
