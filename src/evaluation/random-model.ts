import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/**
 * Uniformly random scores: the floor any model must clear. A user's scores depend only on the seed and the
 * user, never on how users are batched.
 */
export class RandomModel implements RecommenderModel {
  readonly name = 'random';
  private itemCount = 0;
  private seed = 0;

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    this.itemCount = train.itemCount;
    this.seed = context.seed >>> 0;
  }

  scoreUsers(users: Uint32Array): Float32Array {
    const items = this.itemCount;
    const out = new Float32Array(users.length * items);
    for (let r = 0; r < users.length; r++) {
      // A 32-bit xorshift stream per user, seeded from (seed, user).
      let state = (Math.imul(users[r]! + 1, 0x9e3779b1) ^ this.seed) | 1;
      for (let i = 0; i < items; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        out[r * items + i] = (state >>> 0) / 4294967296;
      }
    }
    return out;
  }

  settings(): Record<string, unknown> {
    return {};
  }
}
