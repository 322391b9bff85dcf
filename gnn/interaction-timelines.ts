import { emptyNeighbourhoods, type NeighbourhoodBatch, neighbourhoodIndexes, recencyBucket } from './edge-features.ts';

/**
 * Each subject's interactions in time order (CSR): what training samples neighbourhoods from, and what
 * evaluation and start-up embedding runs read. Items are rows of the model's item vocabulary.
 */
export interface InteractionTimelines {
  readonly subjects: number;
  /** [subjects + 1] offsets into the columns below. */
  readonly start: Int32Array;
  readonly item: Int32Array;
  readonly typeCode: Uint8Array;
  readonly weight: Float32Array;
  readonly ts: Float64Array;
  /** 1 where the interaction is a positive (a training target). */
  readonly positive: Uint8Array;
}

export interface TimelineColumns {
  readonly length: number;
  readonly subject: ArrayLike<number>;
  readonly item: ArrayLike<number>;
  readonly typeCode: ArrayLike<number>;
  readonly weight: ArrayLike<number>;
  readonly ts: ArrayLike<number>;
  readonly positive: ArrayLike<number>;
}

/** Groups rows by subject and orders each subject's rows by time (stable: ties keep input order). */
export function buildTimelines(subjects: number, rows: TimelineColumns): InteractionTimelines {
  const n = rows.length;
  const start = new Int32Array(subjects + 1);
  for (let r = 0; r < n; r++) start[rows.subject[r]! + 1]!++;
  for (let s = 0; s < subjects; s++) start[s + 1]! += start[s]!;
  const order = new Int32Array(n);
  const cursor = start.slice(0, subjects);
  for (let r = 0; r < n; r++) order[cursor[rows.subject[r]!]!++] = r;
  for (let s = 0; s < subjects; s++) {
    const slice = Array.from(order.subarray(start[s], start[s + 1]));
    slice.sort((a, b) => rows.ts[a]! - rows.ts[b]! || a - b);
    order.set(slice, start[s]);
  }
  const pick = <T extends Int32Array | Uint8Array | Float32Array | Float64Array>(make: new (n: number) => T, col: ArrayLike<number>): T => {
    const out = new make(n);
    for (let i = 0; i < n; i++) out[i] = col[order[i]!]!;
    return out;
  };
  return {
    subjects,
    start,
    item: pick(Int32Array, rows.item),
    typeCode: pick(Uint8Array, rows.typeCode),
    weight: pick(Float32Array, rows.weight),
    ts: pick(Float64Array, rows.ts),
    positive: pick(Uint8Array, rows.positive),
  };
}

/**
 * Neighbourhoods of `subjects` as of position `ends[b]` (exclusive; the whole timeline when `ends` is
 * absent): the interactions `neighbourhoodIndexes` selects, most recent first, in `fanout + history`
 * slots. Recency is measured from the latest of the subject's interactions before the end.
 */
export function timelineNeighbourhoods(
  timelines: InteractionTimelines,
  subjects: ArrayLike<number>,
  fanout: number,
  padRow: number,
  ends?: ArrayLike<number>,
  history = 0,
): NeighbourhoodBatch {
  const width = fanout + history;
  const batch = emptyNeighbourhoods(subjects.length, width, padRow);
  for (let b = 0; b < subjects.length; b++) {
    const s = subjects[b]!;
    const first = timelines.start[s]!;
    const end = ends ? ends[b]! : timelines.start[s + 1]!;
    if (end <= first) continue;
    const reference = timelines.ts[end - 1]!;
    let slot = b * width;
    for (const i of neighbourhoodIndexes(end - first, fanout, history)) {
      const j = end - 1 - i;
      batch.neighbour[slot] = timelines.item[j]!;
      batch.typeCode[slot] = timelines.typeCode[j]!;
      batch.recency[slot] = recencyBucket(reference, timelines.ts[j]!);
      batch.weight[slot] = timelines.weight[j]!;
      batch.mask[slot] = 1;
      slot++;
    }
  }
  return batch;
}
