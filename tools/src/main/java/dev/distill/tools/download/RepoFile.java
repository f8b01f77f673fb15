package dev.distill.tools.download;

/** A file of a hub repository: its path in the repo, size in bytes (null if unknown) and LFS sha256 (null for plain git files). */
public record RepoFile(String name, Long size, String sha256) {}
