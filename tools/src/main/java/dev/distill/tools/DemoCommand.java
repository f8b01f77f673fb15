package dev.distill.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `distill demo`: Build a tiny teacher and student, generate, train and evaluate, end to end, offline. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Build a tiny teacher and student, generate, train and evaluate, end to end, offline.")
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("distill demo: not available in this build yet");
        return 2;
    }
}
