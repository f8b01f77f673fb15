package dev.distill.trainer.data;

import dev.distill.data.SoftLabelRow;

/** A row of the data stream, the shard it came from, and its position in the stream. */
public record PositionedRow(SoftLabelRow row, ShardRef shard, DataPosition position) {}
