import * as tf from '@tensorflow/tfjs';
import type { InterestGraph } from '../graph/interest-graph.ts';
import { HAS_TAG, INTERACTION_MASK, NodeKindCode } from '../graph/model.ts';
import { emptyNeighbourhoods, neighbourhoodIndexes, recencyBucket } from './edge-features.ts';
import type { ModelVocabulary } from './graph-training-input.ts';
import type { InterestGAT } from './interest-gat.ts';
import { NodeVectors } from './node-vectors.ts';

/**
 * A trained model bound to the live graph: item vectors (x_i and bias b_i) and subject vectors (z_u) for
 * graph nodes, and the one function that computes them. Full inference and incremental updates both go
 * through `computeSubjects` / `refreshItems`, so there is one source of truth for the math.
 */
export interface ModelInfo {
  readonly version: string;
  readonly trainedAt: string;
  readonly backend: string;
}

const CHUNK = 1024;

export class InterestEmbeddings {
  readonly items: NodeVectors;
  readonly itemBias: NodeVectors;
  readonly subjects: NodeVectors;
  private readonly itemRow: Map<string, number>;
  private readonly tagRow: Map<string, number>;

  constructor(
    readonly model: InterestGAT,
    readonly vocabulary: ModelVocabulary,
    readonly info: ModelInfo,
    private readonly graph: () => InterestGraph,
  ) {
    const dims = model.hyper.dims;
    this.items = new NodeVectors(dims);
    this.itemBias = new NodeVectors(1);
    this.subjects = new NodeVectors(dims);
    this.itemRow = new Map(vocabulary.items.map((id, i) => [id, i]));
    this.tagRow = new Map(vocabulary.tags.map((id, i) => [id, i]));
  }

  get dims(): number {
    return this.model.hyper.dims;
  }

  /** Recomputes every item and then every subject of the graph. */
  recomputeAll(): { items: number; subjects: number } {
    const graph = this.graph();
    const items: number[] = [];
    const subjects: number[] = [];
    for (let node = 0; node < graph.nodeBound; node++) {
      if (!graph.hasNode(node)) continue;
      const kind = graph.nodeKindCode(node);
      if (kind === NodeKindCode.item) items.push(node);
      else if (kind === NodeKindCode.user || kind === NodeKindCode.session) subjects.push(node);
    }
    for (let from = 0; from < items.length; from += CHUNK * 8) this.refreshItems(items.slice(from, from + CHUNK * 8));
    for (let from = 0; from < subjects.length; from += CHUNK) this.storeSubjects(subjects.slice(from, from + CHUNK));
    return { items: items.length, subjects: subjects.length };
  }

  /** Recomputes x_i and b_i of these item nodes from their current tags. */
  refreshItems(nodes: readonly number[]): void {
    if (nodes.length === 0) return;
    const graph = this.graph();
    const rows = new Int32Array(nodes.length);
    const pairItem: number[] = [];
    const pairTag: number[] = [];
    nodes.forEach((node, n) => {
      rows[n] = this.itemRow.get(graph.externalId(node)) ?? -1;
      graph.forEachOutEdge(
        node,
        (_e, tagNode) => {
          const t = this.tagRow.get(graph.externalId(tagNode));
          if (t !== undefined) {
            pairItem.push(n);
            pairTag.push(t);
          }
        },
        1 << HAS_TAG,
      );
    });
    const encoded = this.model.items.encodeRows(rows, { item: Int32Array.from(pairItem), tag: Int32Array.from(pairTag) });
    const values = encoded.dataSync() as Float32Array;
    encoded.dispose();
    const bias = this.model.items.biasRows(rows);
    nodes.forEach((node, n) => {
      this.items.set(node, values, n * this.dims);
      this.itemBias.set(node, bias, n);
    });
  }

  /**
   * z for these subject nodes from their current neighbourhoods (the interactions `neighbourhoodIndexes`
   * selects), recency measured from the subject's own latest one. Returns [nodes.length × dims], row-major.
   */
  computeSubjects(nodes: readonly number[]): Float32Array {
    const graph = this.graph();
    const { fanout, history } = this.model.hyper;
    const width = fanout + history;
    const dims = this.dims;
    const neighbourEdges = nodes.map((node) => {
      // Everything, newest first, only when older interactions are sampled too.
      const edges = graph.recentOutEdges(node, history > 0 ? Number.MAX_SAFE_INTEGER : fanout, INTERACTION_MASK);
      return neighbourhoodIndexes(edges.length, fanout, history).map((i) => edges[i]!);
    });
    const localRow = new Map<number, number>();
    const missing: number[] = [];
    for (const edges of neighbourEdges) {
      for (const e of edges) {
        const item = graph.edgeTarget(e);
        if (localRow.has(item)) continue;
        localRow.set(item, localRow.size);
        if (!this.items.has(item)) missing.push(item);
      }
    }
    this.refreshItems(missing);
    const padRow = localRow.size;
    const features = new Float32Array((padRow + 1) * dims);
    for (const [item, row] of localRow) features.set(this.items.get(item)!, row * dims);
    const batch = emptyNeighbourhoods(nodes.length, width, padRow);
    neighbourEdges.forEach((edges, b) => {
      if (edges.length === 0) return;
      const reference = graph.edgeTimestamp(edges[0]!);
      edges.forEach((e, j) => {
        const slot = b * width + j;
        batch.neighbour[slot] = localRow.get(graph.edgeTarget(e))!;
        batch.typeCode[slot] = graph.edgeTypeCode(e);
        batch.recency[slot] = recencyBucket(reference, graph.edgeTimestamp(e));
        batch.weight[slot] = graph.edgeBaseWeight(e);
        batch.mask[slot] = 1;
      });
    });
    const z = tf.tidy(() => this.model.encodeSubjects(tf.tensor2d(features, [padRow + 1, dims]), batch));
    const values = z.dataSync() as Float32Array;
    z.dispose();
    return values;
  }

  /** Computes and stores z for these subjects (in chunks); subjects with no interactions get zeros. */
  storeSubjects(nodes: readonly number[]): void {
    for (let from = 0; from < nodes.length; from += CHUNK) {
      const chunk = nodes.slice(from, from + CHUNK);
      const values = this.computeSubjects(chunk);
      chunk.forEach((node, b) => this.subjects.set(node, values, b * this.dims));
    }
  }

  forget(node: number): void {
    this.subjects.delete(node);
    this.items.delete(node);
    this.itemBias.delete(node);
  }

  /** z_u · x_i + b_i; NaN when either vector is missing. */
  score(subject: number, item: number): number {
    const z = this.subjects.get(subject);
    const x = this.items.get(item);
    if (!z || !x) return Number.NaN;
    let s = this.itemBias.get(item)![0]!;
    for (let d = 0; d < z.length; d++) s += z[d]! * x[d]!;
    return s;
  }

  dispose(): void {
    this.model.dispose();
  }
}
