import { BPR_STOPPING, BPR_TUNING, BprModel } from './bpr-model.ts';
import { UnknownModelError } from './evaluation-error.ts';
import { ITEM_KNN_GRID, ItemKnnModel } from './item-knn-model.ts';
import { LazyEngineModel } from './lazy-engine-model.ts';
import { LazyGatModel } from './lazy-gat-model.ts';
import { LIGHTGCN_STOPPING, LIGHTGCN_TUNING, LightGcnModel } from './lightgcn-model.ts';
import { PopularModel } from './popular-model.ts';
import type { RecommenderModel } from './recommender-model.ts';
import { SASREC_QUICK, SasRecModel } from './sasrec-model.ts';

/**
 * The models the evaluation CLI can run, by name. Adding a model is one entry in `MODEL_FACTORIES`: a
 * factory that returns a fresh, unfitted `RecommenderModel` whose `name` is the entry's key. Entries run
 * (and are listed) in the order written here.
 */

export interface ModelOptions {
  /**
   * `full`: the tuning grids and epoch limits the reported results use. `quick`: one small setting and a
   * short epoch limit, for tests and smoke runs; its numbers are not comparable with `full` ones.
   */
  readonly budget: 'full' | 'quick';
}

export type ModelFactory = (options: ModelOptions) => RecommenderModel;

export const DEFAULT_MODEL_OPTIONS: ModelOptions = { budget: 'full' };

export const MODEL_FACTORIES = {
  popular: () => new PopularModel(),
  itemknn: ({ budget }) => new ItemKnnModel(budget === 'full' ? ITEM_KNN_GRID : { shrinkage: [10], neighbours: [50, 200] }),
  bpr: ({ budget }) =>
    budget === 'full'
      ? new BprModel(BPR_TUNING, BPR_STOPPING)
      : new BprModel({ start: { dims: 32, learningRate: 0.05, regularisation: 0.01 }, stages: [{}] }, { maxEpochs: 60, evalEvery: 5, patience: 3 }),
  lightgcn: ({ budget }) =>
    budget === 'full'
      ? new LightGcnModel(LIGHTGCN_TUNING, LIGHTGCN_STOPPING)
      : new LightGcnModel(
          { start: { dims: 32, layers: 2, learningRate: 0.02, regularisation: 1e-4 }, stages: [{}] },
          { maxEpochs: 40, evalEvery: 5, patience: 2 },
          512,
        ),
  gat: ({ budget }) => new LazyGatModel(budget),
  sasrec: ({ budget }) => (budget === 'full' ? new SasRecModel() : new SasRecModel(SASREC_QUICK.tuning, SASREC_QUICK.stopping, SASREC_QUICK.epochs)),
  // The served Recommender (default blend, and the blend tuned on the validation split); `quick` trains a small GAT.
  engine: ({ budget }) => new LazyEngineModel('engine', budget),
  'engine-tuned': ({ budget }) => new LazyEngineModel('engine-tuned', budget),
} satisfies Record<string, ModelFactory>;

export type ModelName = keyof typeof MODEL_FACTORIES;

/** Registered names, in registration order. */
export function modelNames(): string[] {
  return Object.keys(MODEL_FACTORIES);
}

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_FACTORIES, name);
}

/** A fresh model by name; an `UnknownModelError` listing the registered names otherwise. */
export function createModel(name: string, options: ModelOptions = DEFAULT_MODEL_OPTIONS): RecommenderModel {
  if (!isModelName(name)) throw new UnknownModelError(name, modelNames());
  const model = (MODEL_FACTORIES[name] as ModelFactory)(options);
  if (model.name !== name) throw new Error(`the '${name}' factory made a model named '${model.name}'`);
  return model;
}

/**
 * Parses a comma-separated list of model names (`popular,bpr`), keeping the order given and dropping repeats;
 * an `UnknownModelError` for the first name not registered.
 */
export function parseModelList(list: string): string[] {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) throw new UnknownModelError(list, modelNames());
  for (const name of names) if (!isModelName(name)) throw new UnknownModelError(name, modelNames());
  return [...new Set(names)];
}
