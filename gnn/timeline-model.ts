import * as tf from '@tensorflow/tfjs';

import { coLikedItems, withCoLikedFeatures } from './co-liked-items.ts';
import { type InteractionTimelines, timelineNeighbourhoods } from './interaction-timelines.ts';
import { type GatHyperparameters, InterestGAT } from './interest-gat.ts';
import type { ItemTagPairs } from './item-encoder.ts';
import { type EpochReport, trainGat, type TrainingOptions, type TrainingReport } from './training/gat-trainer.ts';

/**
 * An interest GAT trained on plain timelines (no graph, no store) that scores subjects as plain arrays:
 * what the offline evaluation needs of the engine's model, without handling tensors itself.
 */
export class TimelineModel {
  private constructor(
    private readonly model: InterestGAT,
    private readonly timelines: InteractionTimelines,
    private readonly itemFeatures: tf.Tensor2D,
    readonly report: TrainingReport,
  ) {}

  /**
   * Trains a model on `timelines` over `items` items with their tags (`itemTags`, tag ids below
   * `tagCount`); with `hyper.coLiked` > 0, each item also shares the feature rows of its co-liked items.
   */
  static async train(
    hyper: GatHyperparameters,
    timelines: InteractionTimelines,
    catalogue: { readonly items: number; readonly tagCount: number; readonly itemTags: ItemTagPairs },
    options: TrainingOptions,
    onEpoch?: (report: EpochReport) => void,
  ): Promise<TimelineModel> {
    const { items, tagCount } = catalogue;
    const coLiked = hyper.coLiked ?? 0;
    const itemTags = coLiked > 0 ? withCoLikedFeatures(catalogue.itemTags, coLikedItems(timelines, items, coLiked), tagCount) : catalogue.itemTags;
    const model = new InterestGAT(hyper, items, tagCount);
    try {
      const report = await trainGat(model, { timelines, itemTags, items }, options, onEpoch);
      return new TimelineModel(model, timelines, model.encodeItems(itemTags), report);
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  /** Every item's score for each subject, from their latest interactions as served: [subjects × items], row-major. */
  scoreSubjects(subjects: Uint32Array): Float32Array {
    const { model, timelines, itemFeatures } = this;
    const items = itemFeatures.shape[0];
    const scores = tf.tidy(() => {
      const padded = tf.concat<tf.Tensor2D>([itemFeatures, tf.zeros([1, model.hyper.dims])]);
      const z = model.encodeSubjects(padded, timelineNeighbourhoods(timelines, subjects, model.hyper.fanout, items, undefined, model.hyper.history));
      return tf.add(tf.matMul(z, itemFeatures, false, true), model.items.bias.reshape([1, -1]));
    });
    const values = scores.dataSync() as Float32Array;
    scores.dispose();
    return values;
  }

  dispose(): void {
    this.model.dispose();
    this.itemFeatures.dispose();
  }
}
