package dev.distill.spark;

import dev.distill.data.LogitsSpec;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkEnv;

/**
 * Test hook for the retry and resume tests: with the Spark setting {@value #CONF} = a comma-separated list of shard
 * indices, the first attempt at each listed shard fails right after its teacher's first batch. Unset, it does
 * nothing.
 */
final class InjectedFailure {
    static final String CONF = "spark.distill.test.failFirstAttemptOf";

    private InjectedFailure() {}

    /** {@code teacher}, or a teacher that fails after one batch when this attempt is to fail. */
    static Teacher wrap(Teacher teacher, int shard, int attempt) {
        SparkEnv env = SparkEnv.get();
        String shards = env == null ? "" : env.conf().get(CONF, "");
        if (attempt > 0 || !Arrays.asList(shards.split(",")).contains(Integer.toString(shard))) {
            return teacher;
        }
        return new FailingTeacher(teacher, shard);
    }

    /** Delegates one batch, then throws; never closes the shared teacher. */
    private record FailingTeacher(Teacher teacher, int shard) implements Teacher {
        @Override
        public int vocabSize() {
            return teacher.vocabSize();
        }

        @Override
        public int[] eosIds() {
            return teacher.eosIds();
        }

        @Override
        public int contextLength() {
            return teacher.contextLength();
        }

        @Override
        public List<TeacherOutput> generate(List<WorkItem> batch, GenerationParams params) {
            teacher.generate(batch, params);
            throw failure();
        }

        @Override
        public List<TeacherOutput> score(List<WorkItem> batch, LogitsSpec logits) {
            teacher.score(batch, logits);
            throw failure();
        }

        private IllegalStateException failure() {
            return new IllegalStateException("injected failure (" + CONF + "): first attempt at shard " + shard);
        }

        @Override
        public void close() {}
    }
}
