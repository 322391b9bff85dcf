import { decayFactor } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { INTERACTION_MASK } from '../../graph/model.ts';

/**
 * What a request starts from: the items a subject showed interest in (seeds, each with the real edge that
 * says so and a weight: its base weight decayed to now), the items it turned down, and everything it has
 * already interacted with. For "similar items" and "more like these" the seeds are the given items and
 * there is no subject.
 */
export interface Seed {
  readonly item: number;
  /** The subject's strongest interaction edge with the item; -1 when the seed was given, not interacted with. */
  readonly edge: number;
  readonly weight: number;
}

export interface SubjectProfile {
  /** The subject node, or -1 for item-based requests. */
  readonly subject: number;
  /** Strongest first. */
  readonly seeds: readonly Seed[];
  /** Items whose latest word from the subject is negative (dislike, dismiss, low rating): never recommended. */
  readonly rejected: ReadonlySet<number>;
  /** Every item the subject interacted with, or the given items. */
  readonly consumed: ReadonlySet<number>;
  /** Negative seeds: they pull the tag profile down. */
  readonly negatives: readonly Seed[];
}

/** Interactions read per profile: enough for any realistic recent history, bounded for latency. */
const HISTORY_LIMIT = 500;

export function subjectProfile(graph: InterestGraph, subject: number, seedLimit: number, now: number, halfLifeMs: number): SubjectProfile {
  const byItem = new Map<number, { positive: number; bestEdge: number; bestWeight: number; latestNegative: boolean; negative: number; negativeEdge: number }>();
  for (const e of graph.recentOutEdges(subject, HISTORY_LIMIT, INTERACTION_MASK)) {
    const item = graph.edgeTarget(e);
    const base = graph.edgeBaseWeight(e);
    const ts = graph.edgeTimestamp(e);
    const weight = base * decayFactor(ts, now, halfLifeMs);
    let entry = byItem.get(item);
    if (!entry) {
      // Edges come newest first: the first one seen is the latest word on the item.
      entry = { positive: 0, bestEdge: -1, bestWeight: 0, latestNegative: base < 0, negative: 0, negativeEdge: -1 };
      byItem.set(item, entry);
    }
    if (weight > 0) {
      entry.positive += weight;
      if (weight > entry.bestWeight) {
        entry.bestWeight = weight;
        entry.bestEdge = e;
      }
    } else if (weight < 0) {
      entry.negative -= weight;
      if (entry.negativeEdge < 0) entry.negativeEdge = e;
    }
  }
  const seeds: Seed[] = [];
  const negatives: Seed[] = [];
  const rejected = new Set<number>();
  for (const [item, entry] of byItem) {
    if (entry.latestNegative) {
      rejected.add(item);
      negatives.push({ item, edge: entry.negativeEdge, weight: entry.negative });
    } else if (entry.bestEdge >= 0) {
      seeds.push({ item, edge: entry.bestEdge, weight: entry.positive });
    }
  }
  seeds.sort((a, b) => b.weight - a.weight || a.item - b.item);
  negatives.sort((a, b) => b.weight - a.weight || a.item - b.item);
  return { subject, seeds: seeds.slice(0, seedLimit), rejected, consumed: new Set(byItem.keys()), negatives: negatives.slice(0, seedLimit) };
}

/** A profile made of given items, each a seed of weight 1. */
export function itemsProfile(items: readonly number[]): SubjectProfile {
  const unique = [...new Set(items)];
  return {
    subject: -1,
    seeds: unique.map((item) => ({ item, edge: -1, weight: 1 })),
    rejected: new Set(),
    consumed: new Set(unique),
    negatives: [],
  };
}
