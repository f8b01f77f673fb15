package dev.distill.spark;

import ai.djl.Device;
import dev.distill.model.Engines;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/** Where a task runs its teacher: the GPU Spark assigned to the task (spark.task.resource.gpu.amount=1), else --device. */
final class TaskDevice {
    static final String GPU_AMOUNT = "spark.task.resource.gpu.amount";

    private TaskDevice() {}

    /** The task's GPU when it was given one, else the {@code --device} option resolved on this executor. */
    static Device of(TaskContext task, String requested) {
        ResourceInformation gpu = task.resourcesJMap().get("gpu");
        if (gpu != null && gpu.addresses().length > 0) {
            return Engines.device("gpu:" + gpu.addresses()[0]);
        }
        return Engines.device(requested);
    }

    /**
     * The kind of device the driver expects its tasks to run on, which resolves {@code --dtype auto} once for the
     * whole run: a GPU when tasks are given GPUs or {@code --device} names one, else {@code --device} resolved here
     * (in local mode the tasks run in this JVM).
     */
    static Device expected(String requested, SparkConf conf) {
        String d = requested.trim().toLowerCase(Locale.ROOT);
        if (conf.getDouble(GPU_AMOUNT, 0) > 0 || d.startsWith("gpu") || d.startsWith("cuda")) {
            return Device.gpu();
        }
        return Engines.device(d);
    }
}
