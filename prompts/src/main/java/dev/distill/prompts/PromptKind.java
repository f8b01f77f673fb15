package dev.distill.prompts;

/** How a prompt is turned into the teacher's input. */
public enum PromptKind {
    /** A single user prompt: rendered as one user message with the teacher's chat template. */
    PROMPT,
    /** A conversation ({@code messages}): rendered with the teacher's chat template. */
    CHAT,
    /** Raw text to continue: tokenized as is, no chat template. */
    TEXT
}
