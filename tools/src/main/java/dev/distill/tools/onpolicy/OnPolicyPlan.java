package dev.distill.tools.onpolicy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;

/**
 * What `distill onpolicy` runs, resolved from its options: the rounds, and for each stage the options passed on to
 * `distill generate` and `distill train` (those that do not depend on the round).
 *
 * @param teacherArgs the scoring teacher: {@code --teacher DIR} or {@code --teacher-url URL ...}
 * @param sampleArgs the student's sampling options (temperature, top-p, max new tokens, ...)
 * @param scoreArgs the teacher's scoring options (top-k, ...)
 * @param trainArgs the training options (lr, loss, batch tokens, ...)
 * @param offline an offline run mixed into every round's training with {@code offlineWeight}, or null
 * @param evalData held-out run directories for the forward KL of each round's student (may be empty)
 * @param config every option that shapes the results, recorded in {@code onpolicy.json}: a resumed run must match
 */
record OnPolicyPlan(
        Path out,
        Path student,
        Path prompts,
        int rounds,
        int promptsPerRound,
        int stepsPerRound,
        long seed,
        String device,
        int evalBatchTokens,
        List<String> teacherArgs,
        List<String> sampleArgs,
        List<String> scoreArgs,
        List<String> trainArgs,
        String offline,
        double offlineWeight,
        List<String> evalData,
        ObjectNode config) {}
