package dev.distill.pipeline.remote;

/** The token choice a remote teacher is asked for: greedy (temperature 0) or sampled with temperature and top-p. */
public record RemoteSampling(boolean greedy, float temperature, float topP) {

    public RemoteSampling {
        if (!greedy && !(temperature > 0)) {
            throw new IllegalArgumentException("--temperature must be > 0 in sample mode, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        }
    }
}
