import type { WeightPolicy } from '../graph/edge-weight.ts';
import type { InterestGraph } from '../graph/interest-graph.ts';
import { type ModelVocabulary, trainingInputFromGraph } from './graph-training-input.ts';
import { type GatHyperparameters, InterestGAT } from './interest-gat.ts';
import { type EpochReport, trainGat, type TrainingOptions, type TrainingReport } from './training/gat-trainer.ts';

/**
 * Trains a GAT on the live graph: from scratch, or warm-started from the model in service (fine-tuning),
 * in which case every parameter is copied over and the item and tag tables keep the rows of ids both
 * vocabularies share; new items and tags start from fresh random rows.
 */
export interface GraphTrainingResult {
  readonly model: InterestGAT;
  readonly vocabulary: ModelVocabulary;
  readonly report: TrainingReport;
}

export interface WarmStart {
  readonly model: InterestGAT;
  readonly vocabulary: ModelVocabulary;
}

export async function trainOnGraph(
  graph: InterestGraph,
  policy: WeightPolicy,
  hyper: GatHyperparameters,
  options: TrainingOptions,
  hooks: { warmStart?: WarmStart; onEpoch?: (report: EpochReport) => void; onBatch?: () => Promise<void> } = {},
): Promise<GraphTrainingResult> {
  const { input, vocabulary } = trainingInputFromGraph(graph, policy, undefined, hyper.coLiked ?? 0);
  const model = new InterestGAT(hyper, vocabulary.items.length, vocabulary.tags.length);
  try {
    if (hooks.warmStart) transferWeights(hooks.warmStart, model, vocabulary);
    const report = await trainGat(model, input, options, hooks.onEpoch, hooks.onBatch);
    return { model, vocabulary, report };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Copies `from`'s parameters into `to`, remapping the item and tag tables by id. */
export function transferWeights(from: WarmStart, to: InterestGAT, vocabulary: ModelVocabulary): void {
  if (JSON.stringify(from.model.hyper) !== JSON.stringify(to.hyper)) return; // a different shape: start afresh
  const source = new Map(from.model.params.snapshot().map((p) => [p.name, p]));
  const rowsOf = (name: string): { from: readonly string[]; to: readonly string[] } | null =>
    name.startsWith('items.g')
      ? { from: tagRowIds(from.model, from.vocabulary), to: tagRowIds(to, vocabulary) }
      : name.startsWith('items.')
        ? { from: from.vocabulary.items, to: vocabulary.items }
        : null;
  const entries = to.params.snapshot().map((target) => {
    const old = source.get(target.name);
    if (!old) return target;
    const remap = rowsOf(target.name);
    if (!remap) return old.shape.join('x') === target.shape.join('x') ? old : target;
    const width = target.shape.length > 1 ? target.shape[1]! : 1;
    const oldRow = new Map(remap.from.map((id, i) => [id, i]));
    const values = target.values.slice();
    remap.to.forEach((id, row) => {
      const r = oldRow.get(id);
      if (r !== undefined && (r + 1) * width <= old.values.length) values.set(old.values.subarray(r * width, (r + 1) * width), row * width);
    });
    return { name: target.name, shape: target.shape, values };
  });
  to.params.restore(entries);
}

/** The tag table's rows by id: the tags, then (with co-liked features) each item's own row, keyed apart from any tag id. */
function tagRowIds(model: InterestGAT, vocabulary: ModelVocabulary): readonly string[] {
  return (model.hyper.coLiked ?? 0) > 0 ? [...vocabulary.tags, ...vocabulary.items.map((id) => `\u0000co-liked\u0000${id}`)] : vocabulary.tags;
}
