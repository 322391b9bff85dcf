/**
 * What the attention layers see of an edge besides the neighbour's features: its type, how recent it is
 * relative to the centre node's own latest activity, and its base weight (stars for ratings, sign for
 * dislikes). Recency is relative to the centre node, not to the wall clock, so an embedding changes only
 * when its own neighbourhood changes: that is what makes incremental updates exact.
 */

export const EDGE_TYPE_CLASSES = 8;
export const RECENCY_BUCKETS = 16;
const DAY_MS = 86_400_000;

/** Bucket of log2(1 + age in days), 0 = same day as the centre node's latest activity. */
export function recencyBucket(referenceTs: number, edgeTs: number): number {
  const days = Math.max(0, referenceTs - edgeTs) / DAY_MS;
  return Math.min(RECENCY_BUCKETS - 1, Math.floor(Math.log2(1 + days)));
}

/**
 * A batch of centre nodes with their neighbours, padded to `fanout`: the form both training and
 * serving hand to the layers.
 */
export interface NeighbourhoodBatch {
  readonly size: number;
  readonly fanout: number;
  /** [size × fanout] rows into the item feature table; `padRow` where there is no neighbour. */
  readonly neighbour: Int32Array;
  /** [size × fanout] edge type codes (0 for padding). */
  readonly typeCode: Int32Array;
  /** [size × fanout] recency buckets. */
  readonly recency: Int32Array;
  /** [size × fanout] base weights (0 for padding). */
  readonly weight: Float32Array;
  /** [size × fanout] 1 for a real neighbour, 0 for padding. */
  readonly mask: Float32Array;
}

export function emptyNeighbourhoods(size: number, fanout: number, padRow: number): NeighbourhoodBatch {
  return {
    size,
    fanout,
    neighbour: new Int32Array(size * fanout).fill(padRow),
    typeCode: new Int32Array(size * fanout),
    recency: new Int32Array(size * fanout),
    weight: new Float32Array(size * fanout),
    mask: new Float32Array(size * fanout),
  };
}

/**
 * Which of a subject's `count` interactions (index 0 = most recent) form its neighbourhood: the `fanout`
 * most recent, then up to `history` older ones spread evenly over the rest of its history, so long-standing
 * tastes are seen too while the cost per node stays bounded. Training and serving both select with this.
 */
export function neighbourhoodIndexes(count: number, fanout: number, history: number): number[] {
  const picked: number[] = [];
  const recent = Math.min(count, fanout);
  for (let i = 0; i < recent; i++) picked.push(i);
  const older = count - recent;
  if (older <= 0 || history <= 0) return picked;
  if (older <= history) {
    for (let i = recent; i < count; i++) picked.push(i);
    return picked;
  }
  for (let h = 0; h < history; h++) picked.push(recent + Math.floor(((h + 0.5) * older) / history));
  return picked;
}
