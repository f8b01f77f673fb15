package dev.distill.trainer;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `distill train`: Fine-tune a student on top-k soft targets written by 'distill generate'. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Fine-tune a student on top-k soft targets written by 'distill generate'.")
public final class TrainCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("distill train: not available in this build yet");
        return 2;
    }
}
