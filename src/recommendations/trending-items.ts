import type { InterestGraph } from '../../graph/interest-graph.ts';
import { HAS_TAG, NodeKindCode } from '../../graph/model.ts';
import type { PositiveEdges } from '../../graph/positive-edges.ts';

/**
 * Popular-and-recent items: each item's positive interactions, each weighted 2^(age / half-life) so that
 * recent ones count most. Kept up to date as interactions arrive; the cold-start source (a subject with no
 * history gets these) and a small recency term for everyone.
 *
 * Scores are stored relative to a fixed anchor time (2^((ts − anchor) / half-life)), so adding one never
 * touches the others; comparing items needs no decay pass.
 */
const TOP_SIZE = 1_000;
const MAX_EXPONENT = 500;

export class TrendingItems {
  private score = new Float64Array(1024);
  private anchor = 0;
  private top: number[] = [];
  private topBuiltAt = -Infinity;
  private dirty = true;
  /** log(1 + the best score), the denominator of every normalised score. */
  private logMaxScore = 0;

  constructor(
    private readonly graph: () => InterestGraph,
    private readonly positives: PositiveEdges,
    private readonly halfLifeMs: number,
    /** How long the top list may be reused before a rebuild (ms). */
    private readonly topMaxAgeMs = 1_000,
  ) {
    this.rebuild();
  }

  /** Recomputes every score from the graph (at start, and after an erasure took interactions away). */
  rebuild(): void {
    const graph = this.graph();
    this.score = new Float64Array(Math.max(1024, graph.nodeBound));
    this.anchor = Number.isFinite(graph.latestTimestamp) ? graph.latestTimestamp : 0;
    for (let e = 0; e < graph.edgeBound; e++) {
      if (!graph.isLiveEdge(e) || graph.edgeTypeCode(e) === HAS_TAG) continue;
      this.add(graph.edgeTarget(e), graph.edgeTypeCode(e), graph.edgeBaseWeight(e), graph.edgeTimestamp(e));
    }
    this.dirty = true;
  }

  /** Counts one new interaction. */
  add(item: number, typeCode: number, baseWeight: number, ts: number): void {
    if (!this.positives.isPositive(typeCode, baseWeight)) return;
    let exponent = (ts - this.anchor) / this.halfLifeMs;
    if (exponent > MAX_EXPONENT) {
      // Far past the anchor: move it forward, rescaling every score, before the numbers overflow.
      const shift = Math.floor(exponent);
      const factor = 2 ** -shift;
      for (let i = 0; i < this.score.length; i++) this.score[i]! *= factor;
      this.anchor += shift * this.halfLifeMs;
      exponent -= shift;
    }
    if (item >= this.score.length) {
      const grown = new Float64Array(Math.max(item + 1, this.score.length * 2));
      grown.set(this.score);
      this.score = grown;
    }
    this.score[item]! += 2 ** exponent;
    this.dirty = true;
  }

  /** log(1 + score) / log(1 + best score): 1 for the most trending item, 0 for items nobody liked. */
  normalised(item: number): number {
    this.refreshTop();
    const s = item < this.score.length ? this.score[item]! : 0;
    // The best score may be up to a second old while this item's is current: never above 1.
    return this.logMaxScore > 0 ? Math.min(1, Math.log1p(s) / this.logMaxScore) : 0;
  }

  /** The most trending items, best first (at most 1,000), possibly up to a second old. */
  topItems(): readonly number[] {
    this.refreshTop();
    return this.top;
  }

  private refreshTop(): void {
    // Checked before reading the clock: a request asks for a couple of hundred items' scores.
    if (!this.dirty) return;
    const now = performance.now();
    if (now - this.topBuiltAt < this.topMaxAgeMs) return;
    const graph = this.graph();
    const candidates: number[] = [];
    for (let n = 0; n < Math.min(this.score.length, graph.nodeBound); n++) {
      if (this.score[n]! > 0 && graph.hasNode(n) && graph.nodeKindCode(n) === NodeKindCode.item) candidates.push(n);
    }
    candidates.sort((a, b) => this.score[b]! - this.score[a]! || a - b);
    this.top = candidates.slice(0, TOP_SIZE);
    this.logMaxScore = this.top.length > 0 ? Math.log1p(this.score[this.top[0]!]!) : 0;
    this.topBuiltAt = now;
    this.dirty = false;
  }
}
