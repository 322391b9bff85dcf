import type { RecommendationList } from '../recommendations/recommender.ts';
import type { EngineModel } from './engine-model.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/**
 * The served engine behind a dynamic import, as the GAT is (lazy-gat-model.ts): the engine, its store and
 * TensorFlow.js load only when a run includes `engine` or `engine-tuned`.
 */
export class LazyEngineModel implements RecommenderModel {
  private inner: EngineModel | undefined;

  constructor(
    readonly name: 'engine' | 'engine-tuned',
    private readonly budget: 'full' | 'quick',
  ) {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    await this.inner?.close();
    const { createEngineModel } = await import('./engine-model.ts');
    this.inner = createEngineModel(this.name, this.budget);
    await this.inner.fit(train, context);
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (!this.inner) throw new Error(`${this.name}: fit before scoring`);
    return this.inner.scoreUsers(users);
  }

  /** The list the Recommender serves a training user (by dense index), as scored. */
  listFor(user: number): RecommendationList {
    if (!this.inner) throw new Error(`${this.name}: fit before scoring`);
    return this.inner.listFor(user);
  }

  settings(): Record<string, unknown> {
    return this.inner?.settings() ?? {};
  }

  /** Closes the engine; `settings()` still reports what was fitted. */
  async close(): Promise<void> {
    await this.inner?.close();
  }
}
