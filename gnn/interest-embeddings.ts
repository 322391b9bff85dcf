import * as tf from '@tensorflow/tfjs';

import type { InterestGraph } from '../graph/interest-graph.ts';
import { HAS_TAG, INTERACTION_MASK, NodeKindCode } from '../graph/model.ts';
import { forEachCoLikedRow } from './co-liked-items.ts';
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

/** One centre node's neighbours as the layers see them, newest first; `edges` are graph edge ids when real. */
interface NeighbourList {
  readonly items: readonly number[];
  readonly typeCode: readonly number[];
  readonly ts: readonly number[];
  readonly weight: readonly number[];
  readonly edges: readonly number[];
}

export class InterestEmbeddings {
  readonly items: NodeVectors;
  readonly itemBias: NodeVectors;
  readonly subjects: NodeVectors;
  /** Per subject, layer-2 attention over its neighbour slots and the edge id in each slot (-1: none). */
  private readonly attention: NodeVectors;
  private readonly attentionEdges: NodeVectors<Int32Array>;
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
    const width = model.hyper.fanout + model.hyper.history;
    this.attention = new NodeVectors(width);
    this.attentionEdges = new NodeVectors(width, 1024, (length) => new Int32Array(length));
    this.itemRow = new Map(vocabulary.items.map((id, i) => [id, i]));
    this.tagRow = new Map(vocabulary.tags.map((id, i) => [id, i]));
    if ((model.hyper.coLiked ?? 0) > 0 && !vocabulary.coLiked)
      throw new Error("a model with co-liked features needs the vocabulary's co-liked lists (trainingInputFromGraph finds them)");
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

  /** Recomputes x_i and b_i of these item nodes from their current tags (and the co-liked lists, fixed for the model's life). */
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
      if (this.vocabulary.coLiked && rows[n] >= 0) {
        forEachCoLikedRow(this.vocabulary.coLiked, rows[n], this.vocabulary.tags.length, (row) => {
          pairItem.push(n);
          pairTag.push(row);
        });
      }
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
    return this.encode(nodes.map((node) => this.neighboursOf(node))).z;
  }

  /** Computes and stores z, and the attention over each subject's neighbour edges, for these subjects. */
  storeSubjects(nodes: readonly number[]): void {
    const width = this.attention.dims;
    for (let from = 0; from < nodes.length; from += CHUNK) {
      const chunk = nodes.slice(from, from + CHUNK);
      const lists = chunk.map((node) => this.neighboursOf(node));
      const { z, attention } = this.encode(lists);
      const edges = new Int32Array(width);
      chunk.forEach((node, b) => {
        this.subjects.set(node, z, b * this.dims);
        edges.fill(-1);
        lists[b]!.edges.forEach((e, j) => (edges[j] = e));
        this.attention.set(node, attention, b * width);
        this.attentionEdges.set(node, edges);
      });
    }
  }

  /**
   * z of a subject that is not in the graph: one that just interacted with `items` (`typeCode` each, all
   * at the same moment). "More like these" asks for one; the model is inductive, so no training is needed.
   */
  embedInteractions(items: readonly number[], typeCode: number, weight: number): Float32Array {
    const capped = items.slice(0, this.attention.dims);
    const list: NeighbourList = {
      items: [...capped],
      typeCode: capped.map(() => typeCode),
      ts: capped.map(() => 0),
      weight: capped.map(() => weight),
      edges: [],
    };
    return this.encode([list]).z;
  }

  /**
   * How much each of the subject's neighbour edges counted in its stored embedding (layer-2 attention,
   * averaged over heads), by edge id; empty when the subject has none stored.
   */
  attentionOf(subject: number): Map<number, number> {
    const weights = this.attention.get(subject);
    const edges = this.attentionEdges.get(subject);
    const out = new Map<number, number>();
    if (!weights || !edges) return out;
    for (let j = 0; j < edges.length; j++) if (edges[j]! >= 0) out.set(edges[j]!, weights[j]!);
    return out;
  }

  private neighboursOf(node: number): NeighbourList {
    const graph = this.graph();
    const { fanout, history } = this.model.hyper;
    // Everything, newest first, only when older interactions are sampled too.
    const all = graph.recentOutEdges(node, history > 0 ? Number.MAX_SAFE_INTEGER : fanout, INTERACTION_MASK);
    const edges = neighbourhoodIndexes(all.length, fanout, history).map((i) => all[i]!);
    return {
      items: edges.map((e) => graph.edgeTarget(e)),
      typeCode: edges.map((e) => graph.edgeTypeCode(e)),
      ts: edges.map((e) => graph.edgeTimestamp(e)),
      weight: edges.map((e) => graph.edgeBaseWeight(e)),
      edges,
    };
  }

  /** The one forward pass behind every subject embedding: full, incremental and virtual. */
  private encode(lists: readonly NeighbourList[]): { z: Float32Array; attention: Float32Array } {
    const width = this.attention.dims;
    const dims = this.dims;
    const localRow = new Map<number, number>();
    const missing: number[] = [];
    for (const list of lists) {
      for (const item of list.items) {
        if (localRow.has(item)) continue;
        localRow.set(item, localRow.size);
        if (!this.items.has(item)) missing.push(item);
      }
    }
    this.refreshItems(missing);
    const padRow = localRow.size;
    const features = new Float32Array((padRow + 1) * dims);
    for (const [item, row] of localRow) features.set(this.items.get(item)!, row * dims);
    const batch = emptyNeighbourhoods(lists.length, width, padRow);
    lists.forEach((list, b) => {
      if (list.items.length === 0) return;
      const reference = list.ts[0]!;
      list.items.forEach((item, j) => {
        const slot = b * width + j;
        batch.neighbour[slot] = localRow.get(item)!;
        batch.typeCode[slot] = list.typeCode[j]!;
        batch.recency[slot] = recencyBucket(reference, list.ts[j]!);
        batch.weight[slot] = list.weight[j]!;
        batch.mask[slot] = 1;
      });
    });
    // In a tidy: the feature table is this call's own, disposed with it.
    const { z, attention } = tf.tidy(() => this.model.encodeSubjectsWithAttention(tf.tensor2d(features, [padRow + 1, dims]), batch));
    try {
      return { z: z.dataSync() as Float32Array, attention: attention.dataSync() as Float32Array };
    } finally {
      z.dispose();
      attention.dispose();
    }
  }

  forget(node: number): void {
    this.subjects.delete(node);
    this.attention.delete(node);
    this.attentionEdges.delete(node);
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
