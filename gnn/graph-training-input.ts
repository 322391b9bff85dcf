import type { WeightPolicy } from '../graph/edge-weight.ts';
import type { InterestGraph } from '../graph/interest-graph.ts';
import { HAS_TAG, INTERACTION_MASK, NodeKindCode } from '../graph/model.ts';
import { PositiveEdges } from '../graph/positive-edges.ts';
import { type CoLikedItems, coLikedItems, withCoLikedFeatures } from './co-liked-items.ts';
import { buildTimelines } from './interaction-timelines.ts';
import type { TrainingInput } from './training/gat-trainer.ts';

/**
 * The model's view of the live graph: which graph items and tags are rows of its tables (its vocabulary),
 * and every subject's interactions as timelines, ready for training.
 */
export interface ModelVocabulary {
  /** External item ids, by model row. */
  readonly items: readonly string[];
  /** External tag ids, by model row. */
  readonly tags: readonly string[];
  /**
   * Each item row's co-liked items, when the model has co-liked features (`GatHyperparameters.coLiked`):
   * found from the graph when the model is trained, saved and loaded with it.
   */
  readonly coLiked?: CoLikedItems;
}

export interface GraphTrainingInput {
  readonly input: TrainingInput;
  readonly vocabulary: ModelVocabulary;
}

/** Every live item and tag node of the graph, in node order. */
export function vocabularyOf(graph: InterestGraph): ModelVocabulary {
  const items: string[] = [];
  const tags: string[] = [];
  for (let node = 0; node < graph.nodeBound; node++) {
    if (!graph.hasNode(node)) continue;
    const kind = graph.nodeKindCode(node);
    if (kind === NodeKindCode.item) items.push(graph.externalId(node));
    else if (kind === NodeKindCode.tag) tags.push(graph.externalId(node));
  }
  return { items, tags };
}

/** Item–tag pairs as model rows (tags outside the vocabulary are skipped). */
export function itemTagPairs(graph: InterestGraph, vocabulary: ModelVocabulary): { item: Int32Array; tag: Int32Array } {
  const tagRow = new Map(vocabulary.tags.map((t, i) => [t, i]));
  const item: number[] = [];
  const tag: number[] = [];
  vocabulary.items.forEach((id, row) => {
    const node = graph.nodeIndex('item', id);
    if (node < 0) return;
    graph.forEachOutEdge(
      node,
      (_e, tagNode) => {
        const t = tagRow.get(graph.externalId(tagNode));
        if (t !== undefined) {
          item.push(row);
          tag.push(t);
        }
      },
      1 << HAS_TAG,
    );
  });
  return { item: Int32Array.from(item), tag: Int32Array.from(tag) };
}

/**
 * Timelines of every user and session over the vocabulary's items; with `coLiked` > 0, each item's that many
 * most co-liked items too, in the vocabulary and as feature pairs.
 */
export function trainingInputFromGraph(graph: InterestGraph, policy: WeightPolicy, vocabulary = vocabularyOf(graph), coLiked = 0): GraphTrainingInput {
  const itemRow = new Map(vocabulary.items.map((id, i) => [id, i]));
  const positives = new PositiveEdges(policy);
  const subject: number[] = [];
  const item: number[] = [];
  const typeCode: number[] = [];
  const weight: number[] = [];
  const ts: number[] = [];
  const positive: number[] = [];
  let subjects = 0;
  for (let node = 0; node < graph.nodeBound; node++) {
    if (!graph.hasNode(node)) continue;
    const kind = graph.nodeKindCode(node);
    if (kind !== NodeKindCode.user && kind !== NodeKindCode.session) continue;
    const s = subjects++;
    graph.forEachOutEdge(
      node,
      (e, target) => {
        const row = itemRow.get(graph.externalId(target));
        if (row === undefined) return;
        const code = graph.edgeTypeCode(e);
        const w = graph.edgeBaseWeight(e);
        subject.push(s);
        item.push(row);
        typeCode.push(code);
        weight.push(w);
        ts.push(graph.edgeTimestamp(e));
        positive.push(positives.isPositive(code, w) ? 1 : 0);
      },
      INTERACTION_MASK,
    );
  }
  const timelines = buildTimelines(subjects, { length: subject.length, subject, item, typeCode, weight, ts, positive });
  const items = vocabulary.items.length;
  const tagPairs = itemTagPairs(graph, vocabulary);
  if (coLiked <= 0) return { input: { timelines, itemTags: tagPairs, items }, vocabulary: { items: vocabulary.items, tags: vocabulary.tags } };
  const lists = coLikedItems(timelines, items, coLiked);
  return { input: { timelines, itemTags: withCoLikedFeatures(tagPairs, lists, vocabulary.tags.length), items }, vocabulary: { ...vocabulary, coLiked: lists } };
}
