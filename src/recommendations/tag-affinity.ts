import type { InterestGraph } from '../../graph/interest-graph.ts';
import { HAS_TAG } from '../../graph/model.ts';
import { TopKSelector } from '../top-k.ts';
import type { Seed, SubjectProfile } from './subject-profile.ts';

/**
 * How much a subject likes each tag, from the tags of its seeds, and how well an item's tags match:
 *
 *   affinity(t) = Σ_{seeds s tagged t} w_s / |tags(s)|  −  the same over negative seeds
 *   tags(i)     = Σ_{t ∈ tags(i)} affinity⁺(t) · idf(t) / √|tags(i)|,    idf(t) = ln(1 + items / items tagged t)
 *
 * Each (seed, tag) term is kept, so an item's score can be split into the paths seed → tag ← item.
 */
export interface TagProfile {
  /** Tag node → affinity (may be negative). */
  readonly affinity: ReadonlyMap<number, number>;
  /** Tag node → the positive seeds tagged with it and each one's share w_s / |tags(s)|. */
  readonly contributors: ReadonlyMap<number, ReadonlyArray<{ readonly seed: Seed; readonly share: number }>>;
}

export function tagProfile(graph: InterestGraph, profile: SubjectProfile): TagProfile {
  const affinity = new Map<number, number>();
  const contributors = new Map<number, Array<{ seed: Seed; share: number }>>();
  const visit = (seed: Seed, sign: number) => {
    const tags = tagsOf(graph, seed.item);
    if (tags.length === 0) return;
    const share = seed.weight / tags.length;
    for (const { tag } of tags) {
      affinity.set(tag, (affinity.get(tag) ?? 0) + sign * share);
      if (sign > 0) {
        let list = contributors.get(tag);
        if (!list) contributors.set(tag, (list = []));
        list.push({ seed, share });
      }
    }
  };
  for (const seed of profile.seeds) visit(seed, 1);
  for (const seed of profile.negatives) visit(seed, -1);
  return { affinity, contributors };
}

/** An item's tag edges: the tag node and the item → tag edge id. */
export function tagsOf(graph: InterestGraph, item: number): Array<{ tag: number; edge: number }> {
  const out: Array<{ tag: number; edge: number }> = [];
  if (!graph.hasNode(item)) return out;
  graph.forEachOutEdge(item, (edge, tag) => void out.push({ tag, edge }), 1 << HAS_TAG);
  return out;
}

export class TagScorer {
  private readonly itemCount: number;
  private readonly idfs = new Map<number, number>();
  /** affinity⁺(t) · idf(t) for each liked tag: one lookup per item tag. */
  private readonly weights = new Map<number, number>();
  /** Scores already worked out in this request (candidates, ranking and paths ask for the same items). */
  private readonly scores = new Map<number, number>();

  constructor(private readonly graph: InterestGraph, readonly profile: TagProfile) {
    this.itemCount = Math.max(1, graph.counts().items);
    for (const [tag, a] of profile.affinity) if (a > 0) this.weights.set(tag, a * this.idf(tag));
  }

  idf(tag: number): number {
    let value = this.idfs.get(tag);
    if (value === undefined) {
      value = Math.log(1 + this.itemCount / Math.max(1, this.graph.inDegreeOf(tag)));
      this.idfs.set(tag, value);
    }
    return value;
  }

  /** tags(i) as above; 0 for an item without liked tags. */
  score(item: number): number {
    if (this.weights.size === 0) return 0;
    let score = this.scores.get(item);
    if (score === undefined) {
      score = this.compute(item);
      this.scores.set(item, score);
    }
    return score;
  }

  private compute(item: number): number {
    if (!this.graph.hasNode(item)) return 0;
    let sum = 0;
    let count = 0;
    this.graph.forEachOutEdge(
      item,
      (_e, tag) => {
        count++;
        sum += this.weights.get(tag) ?? 0;
      },
      1 << HAS_TAG,
    );
    return count > 0 ? sum / Math.sqrt(count) : 0;
  }

  /**
   * Candidate items: those tagged with the subject's strongest tags (`tagLimit` of them, up to
   * `perTag` items each, most recently tagged first), best score first.
   */
  candidates(tagLimit: number, perTag: number, limit: number, skip: (item: number) => boolean): number[] {
    const strongest = [...this.weights]
      .map(([tag, weight]) => ({ tag, weight }))
      .sort((x, y) => y.weight - x.weight || x.tag - y.tag)
      .slice(0, tagLimit);
    if (limit <= 0) return [];
    const seen = new Set<number>();
    // Ties go to the lower node, so the candidates do not depend on the order the tags list their items.
    const selector = new TopKSelector(limit);
    for (const { tag } of strongest) {
      let taken = 0;
      this.graph.forEachInEdge(
        tag,
        (_e, item) => {
          if (taken++ >= perTag) return false;
          if (seen.has(item) || skip(item)) return;
          seen.add(item);
          selector.offer(this.score(item), item);
        },
        1 << HAS_TAG,
      );
    }
    const out = new Uint32Array(limit);
    return Array.from(out.subarray(0, selector.drain(out)));
  }
}
