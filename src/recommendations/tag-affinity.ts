import type { InterestGraph } from '../../graph/interest-graph.ts';
import { HAS_TAG } from '../../graph/model.ts';
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

  constructor(private readonly graph: InterestGraph, readonly profile: TagProfile) {
    this.itemCount = Math.max(1, graph.counts().items);
  }

  private readonly idfs = new Map<number, number>();

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
    if (this.profile.affinity.size === 0 || !this.graph.hasNode(item)) return 0;
    let sum = 0;
    let count = 0;
    this.graph.forEachOutEdge(
      item,
      (_e, tag) => {
        count++;
        const a = this.profile.affinity.get(tag) ?? 0;
        if (a > 0) sum += a * this.idf(tag);
      },
      1 << HAS_TAG,
    );
    return count > 0 ? sum / Math.sqrt(count) : 0;
  }

  /**
   * Candidate items: those tagged with the subject's strongest tags (`tagLimit` of them, up to
   * `perTag` items each, most recently tagged first), best score first.
   */
  candidates(tagLimit: number, perTag: number, limit: number, skip: (item: number) => boolean): Array<{ node: number; score: number }> {
    const strongest = [...this.profile.affinity.entries()]
      .filter(([, a]) => a > 0)
      .map(([tag, a]) => ({ tag, weight: a * this.idf(tag) }))
      .sort((x, y) => y.weight - x.weight || x.tag - y.tag)
      .slice(0, tagLimit);
    const seen = new Set<number>();
    const scored: Array<{ node: number; score: number }> = [];
    for (const { tag } of strongest) {
      let taken = 0;
      this.graph.forEachInEdge(
        tag,
        (_e, item) => {
          if (taken++ >= perTag) return false;
          if (seen.has(item) || skip(item)) return;
          seen.add(item);
          scored.push({ node: item, score: this.score(item) });
        },
        1 << HAS_TAG,
      );
    }
    return scored.sort((a, b) => b.score - a.score || a.node - b.node).slice(0, limit);
  }
}
