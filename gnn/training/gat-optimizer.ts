import * as tf from '@tensorflow/tfjs';

import type { InterestGAT } from '../interest-gat.ts';
import { adamSettings, addRowGradients, LazyAdamTable, type RowGradients } from './lazy-adam.ts';

/**
 * The GAT's optimiser: Adam everywhere, row-wise ("lazy", see lazy-adam.ts) for the tables with a row per
 * item or tag (embedding e, bias b, tag embedding g), dense (`tf.train.adam`) for the rest (the attention
 * weights). A step then costs the rows of the items and tags it read, not the catalogue: on a 100K-item
 * catalogue dense Adam on the item tables, and the dense gradient of the rows' gather, took most of each
 * step, and a tag table as large as the catalogue (co-liked items as features) would again.
 */
export interface ItemRowGradients {
  /** Distinct items (model rows) the step read. */
  readonly rows: Int32Array;
  /** [rows × D] */
  readonly embedding: Float32Array;
  /** [rows] */
  readonly bias: Float32Array;
  /** Distinct tags (tag-table rows) the step read. */
  readonly tagRows: Int32Array;
  /** [tagRows × D] */
  readonly tags: Float32Array;
}

/** One step's gradients: the dense parameters' (in `denseParameters` order, null where the loss does not depend on one) and the item rows'. */
export interface StepGradients<T = tf.Tensor> {
  readonly dense: ReadonlyArray<T | null>;
  readonly items: ItemRowGradients;
}

/** The model's parameters other than the item embedding, bias and tag tables, in `params.list()` order. */
export function denseParameters(model: InterestGAT): tf.Variable[] {
  const { embedding, bias, tagEmbedding } = model.items;
  return model.params.list().filter((v) => v !== embedding && v !== bias && v !== tagEmbedding);
}

/** Where a training step reads its items' and tags' rows from. */
export interface ItemTables {
  readonly embedding: Pick<LazyAdamTable, 'gather'>;
  readonly bias: Pick<LazyAdamTable, 'gather'>;
  readonly tags: Pick<LazyAdamTable, 'gather'>;
}

export class GatOptimizer implements ItemTables {
  readonly denseVariables: tf.Variable[];
  readonly embedding: LazyAdamTable;
  readonly bias: LazyAdamTable;
  readonly tags: LazyAdamTable;
  private readonly dense: tf.Optimizer;

  constructor(model: InterestGAT, learningRate: number) {
    this.denseVariables = denseParameters(model);
    this.dense = tf.train.adam(learningRate);
    this.embedding = new LazyAdamTable(model.items.embedding, adamSettings(learningRate));
    this.bias = new LazyAdamTable(model.items.bias, adamSettings(learningRate));
    this.tags = new LazyAdamTable(model.items.tagEmbedding, adamSettings(learningRate));
  }

  /** One step. `dense` is in `denseVariables` order; the caller keeps (and disposes) its tensors. */
  apply(step: StepGradients): void {
    this.dense.applyGradients(this.denseVariables.flatMap((v, i) => (step.dense[i] ? [{ name: v.name, tensor: step.dense[i] }] : [])));
    const { rows, embedding, bias, tagRows, tags } = step.items;
    this.embedding.step({ rows, values: embedding });
    this.bias.step({ rows, values: bias });
    this.tags.step({ rows: tagRows, values: tags });
  }

  /** Writes the item tables into the model's variables. */
  flush(): void {
    this.embedding.flush();
    this.bias.flush();
    this.tags.flush();
  }

  dispose(): void {
    this.dense.dispose();
  }
}

/** The sum of several shards' item-row gradients, added in shard order (see `addRowGradients`). */
export function addItemRowGradients(parts: readonly ItemRowGradients[], dims: number): ItemRowGradients {
  const pick = (values: (p: ItemRowGradients) => Float32Array): RowGradients[] => parts.map((p) => ({ rows: p.rows, values: values(p) }));
  const embedding = addRowGradients(
    pick((p) => p.embedding),
    dims,
  );
  const bias = addRowGradients(
    pick((p) => p.bias),
    1,
  );
  const tags = addRowGradients(
    parts.map((p) => ({ rows: p.tagRows, values: p.tags })),
    dims,
  );
  return { rows: embedding.rows, embedding: embedding.values, bias: bias.values, tagRows: tags.rows, tags: tags.values };
}
