import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/** Most popular: every user gets the items the most users have as training positives. Nothing to tune. */
export class PopularModel implements RecommenderModel {
  readonly name = 'popular';
  private popularity = new Float32Array(0);

  async fit(train: TrainingData, _context: FitContext): Promise<void> {
    this.popularity = Float32Array.from(train.itemPopularity);
  }

  scoreUsers(users: Uint32Array): Float32Array {
    const items = this.popularity.length;
    const out = new Float32Array(users.length * items);
    for (let r = 0; r < users.length; r++) out.set(this.popularity, r * items);
    return out;
  }

  settings(): Record<string, unknown> {
    return { score: 'users with the item as a training positive' };
  }
}
