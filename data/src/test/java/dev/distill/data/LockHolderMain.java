package dev.distill.data;

/** Holds worker 0's lock on the run directory args[0] until killed (for the kill -9 test). */
public final class LockHolderMain {
    private LockHolderMain() {}

    public static void main(String[] args) throws Exception {
        RunDirectory run = RunDirectory.existing(args[0]);
        WorkerLock lock = run.lockWorker(0);
        System.out.println("locked " + lock);
        System.out.flush();
        Thread.sleep(600_000);
    }
}
