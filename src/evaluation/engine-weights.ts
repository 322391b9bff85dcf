import type { EngineConfig } from '../config.ts';
import type { ModelRun } from './evaluation-report.ts';
import { BestOf, formatSettings } from './tuning.ts';

/**
 * The served Recommender's blend as the evaluation tunes it: the four source weights and the MMR diversity,
 * searched one coordinate at a time on the validation split, and the configuration snippet the report
 * offers when the tuned blend beats the defaults on the test split. No tensors here: the report reads it.
 */

export type SourceWeights = EngineConfig['recommend']['weights'];
export const SOURCE_NAMES = ['embedding', 'walk', 'tags', 'trending'] as const satisfies ReadonlyArray<keyof SourceWeights>;

export interface BlendSettings {
  readonly weights: SourceWeights;
  readonly diversity: number;
}

export interface BlendSearch {
  /** Shares of the total weight to try for each source in turn, the others keeping their proportions. */
  readonly shares: readonly number[];
  readonly diversity: readonly number[];
  /** Passes over the coordinates; the search stops early after a pass that found nothing better. */
  readonly rounds: number;
}

export const BLEND_SEARCH: BlendSearch = {
  shares: [0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8],
  diversity: [0, 0.1, 0.2, 0.3, 0.5],
  rounds: 2,
};

export const BLEND_SEARCH_QUICK: BlendSearch = { shares: [0, 0.3, 0.6], diversity: [0, 0.2], rounds: 1 };

/** Decimals the weights are rounded to: the printed weights are exactly the ones evaluated. */
const WEIGHT_DECIMALS = 3;

/** The weights scaled to add up to 1 (only their ratios rank items), rounded; null when all are 0. */
export function normalisedWeights(weights: SourceWeights): SourceWeights | null {
  const total = SOURCE_NAMES.reduce((sum, name) => sum + weights[name], 0);
  if (!(total > 0)) return null;
  const scale = 10 ** WEIGHT_DECIMALS;
  const out = { embedding: 0, walk: 0, tags: 0, trending: 0 };
  for (const name of SOURCE_NAMES) out[name] = Math.round((weights[name] / total) * scale) / scale;
  return out;
}

/** `source` given `share` of the total, the other sources sharing the rest in their current proportions. */
export function withShare(weights: SourceWeights, source: keyof SourceWeights, share: number): SourceWeights | null {
  const others = SOURCE_NAMES.filter((name) => name !== source).reduce((sum, name) => sum + weights[name], 0);
  if (!(others > 0) && share < 1) return null;
  const next = { ...weights };
  for (const name of SOURCE_NAMES) next[name] = name === source ? share : others > 0 ? (weights[name] * (1 - share)) / others : 0;
  return normalisedWeights(next);
}

export interface BlendSearchResult {
  readonly best: BlendSettings;
  readonly bestScore: number;
  /** The starting point's (the defaults') validation score. */
  readonly startScore: number;
  readonly evaluated: number;
}

/**
 * Coordinate search from `start`: each source's share in turn over `search.shares`, then the diversity,
 * keeping whatever scores best on `score` (validation NDCG); ties keep the current point. No point is
 * scored twice.
 */
export function searchBlend(
  start: BlendSettings,
  search: BlendSearch,
  score: (settings: BlendSettings) => number,
  log: (line: string) => void,
): BlendSearchResult {
  const seen = new Map<string, number>();
  const best = new BestOf<BlendSettings>();
  const tryPoint = (settings: BlendSettings): void => {
    const key = describeBlend(settings);
    if (seen.has(key)) return;
    const value = score(settings);
    seen.set(key, value);
    const improved = best.offer(settings, value);
    log(`${key}: validation NDCG ${value.toFixed(4)}${improved ? ' (best so far)' : ''}`);
  };
  const first = { weights: normalisedWeights(start.weights) ?? start.weights, diversity: start.diversity };
  tryPoint(first);
  const startScore = best.bestScore;
  for (let round = 0; round < search.rounds; round++) {
    const before = best.bestScore;
    for (const source of SOURCE_NAMES) {
      for (const share of search.shares) {
        const weights = withShare(best.best!.weights, source, share);
        if (weights) tryPoint({ weights, diversity: best.best!.diversity });
      }
    }
    for (const diversity of search.diversity) tryPoint({ weights: best.best!.weights, diversity });
    if (!(best.bestScore > before)) break;
  }
  return { best: best.best!, bestScore: best.bestScore, startScore, evaluated: seen.size };
}

export function describeBlend(settings: BlendSettings): string {
  return formatSettings({ ...settings.weights, diversity: settings.diversity });
}

/** The blend a run of `engine` or `engine-tuned` reports in its settings; null when it reports none. */
export function blendOf(run: ModelRun): BlendSettings | null {
  const weights = Object.fromEntries(SOURCE_NAMES.map((name) => [name, run.settings[name]])) as Record<string, unknown>;
  const diversity = run.settings.diversity;
  if (SOURCE_NAMES.some((name) => typeof weights[name] !== 'number') || typeof diversity !== 'number') return null;
  return { weights: weights as SourceWeights, diversity };
}

/**
 * Report lines on the tuned blend: when `engine-tuned` beats `engine` (the defaults) on the test split at
 * the headline K (NDCG, the metric tuning selects on), the configuration that adopts it; otherwise why not.
 * Empty when `engine-tuned` did not run.
 */
export function blendSuggestion(runs: readonly ModelRun[], k: number): string[] {
  const tunedRun = runs.find((run) => run.name === 'engine-tuned');
  const tuned = tunedRun ? blendOf(tunedRun) : null;
  if (!tunedRun || !tuned) return [];
  const lines = ['', '### The served blend, tuned (engine-tuned)', ''];
  const baseRun = runs.find((run) => run.name === 'engine');
  const base = baseRun ? blendOf(baseRun) : null;
  const atK = (run: ModelRun) => {
    const m = run.byK[k];
    if (m === undefined) throw new Error(`model ${run.name} has no metrics at K=${k}`);
    return m;
  };
  const metrics = (run: ModelRun) => `NDCG@${k} ${atK(run).ndcg.toFixed(4)}, Recall@${k} ${atK(run).recall.toFixed(4)}`;
  if (!baseRun || !base) {
    lines.push(`Tuned on the validation split: ${describeBlend(tuned)}. Run \`engine\` beside it to compare with the defaults on the test split.`);
    return lines;
  }
  if (!(atK(tunedRun).ndcg > atK(baseRun).ndcg)) {
    lines.push(
      `The defaults (${describeBlend(base)}: ${metrics(baseRun)}) hold: the blend tuned on the validation split ` +
        `(${describeBlend(tuned)}: ${metrics(tunedRun)}) does not beat them on the test split.`,
    );
    return lines;
  }
  const recommend: Record<string, unknown> = { weights: tuned.weights };
  if (tuned.diversity !== base.diversity) recommend.diversity = tuned.diversity;
  lines.push(
    `The blend tuned on the validation split beats the defaults on the test split (${metrics(tunedRun)}, against ${metrics(baseRun)} ` +
      `with ${describeBlend(base)}). To serve it, put this in the file \`CONFIG_FILE\` names:`,
    '',
    '```json',
    JSON.stringify({ recommend }),
    '```',
  );
  return lines;
}
