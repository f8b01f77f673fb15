package dev.distill.spark;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.pipeline.GenerateRun;
import dev.distill.pipeline.GenerateSpec;
import dev.distill.pipeline.Teacher;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The teachers loaded in this executor JVM, by (model directory, dtype, device): the first task that needs one loads
 * it, every later task on the executor reuses it. Teachers live as long as the executor.
 */
final class TeacherCache {
    private static final Logger LOG = LoggerFactory.getLogger(TeacherCache.class);
    private static final Map<Key, Teacher> TEACHERS = new HashMap<>();

    private record Key(Path dir, DataType dtype, Device device) {}

    private TeacherCache() {}

    /** The local teacher of {@code spec} as {@code dtype} on {@code device}, loaded on first use. */
    static synchronized Teacher get(GenerateSpec spec, DataType dtype, Device device) {
        Key key = new Key(spec.teacher().toAbsolutePath().normalize(), dtype, device);
        Teacher teacher = TEACHERS.get(key);
        if (teacher == null) {
            long start = System.nanoTime();
            teacher = GenerateRun.openTeacher(spec, dtype, device);
            LOG.info(
                    "loaded teacher {} as {} on {} in {} ms",
                    key.dir(),
                    dtype,
                    device,
                    (System.nanoTime() - start) / 1_000_000);
            TEACHERS.put(key, teacher);
        }
        return teacher;
    }

    /** Teachers loaded in this JVM. */
    static synchronized int size() {
        return TEACHERS.size();
    }
}
