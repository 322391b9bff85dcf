import type { GatModel } from './gat-model.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import type { TrainingData } from './training-data.ts';

/**
 * The GAT behind a dynamic import: TensorFlow.js loads (and picks its backend) only when a run includes
 * the GAT, not whenever the evaluation CLI starts.
 */
export class LazyGatModel implements RecommenderModel {
  readonly name = 'gat';
  private inner: GatModel | undefined;

  constructor(private readonly budget: 'full' | 'quick') {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    const { GatModel, GAT_QUICK } = await import('./gat-model.ts');
    this.inner = this.budget === 'quick' ? new GatModel(GAT_QUICK.hyper, GAT_QUICK.training) : new GatModel();
    await this.inner.fit(train, context);
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (!this.inner) throw new Error('gat: fit before scoring');
    return this.inner.scoreUsers(users);
  }

  settings(): Record<string, unknown> {
    return this.inner?.settings() ?? {};
  }
}
