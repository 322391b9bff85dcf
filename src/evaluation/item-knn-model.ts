import { TopKSelector } from '../../graph/top-k.ts';
import type { FitContext, RecommenderModel } from './recommender-model.ts';
import { type TrainingData, transposeRows } from './training-data.ts';
import { BestOf, formatSettings, gridOf } from './tuning.ts';

/**
 * Item-based k-nearest neighbours (Sarwar et al. 2001; Deshpande and Karypis 2004) on the binary training
 * positive matrix R:
 *
 *   sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i| · |U_j|) + shrinkage)          (cosine, shrunk towards 0)
 *   score(u, j) = Σ_{i ∈ R_u} sim(i, j) · [j among the `neighbours` most similar items of i]
 *
 * Shrinkage and neighbourhood size are tuned on the validation split. Items no neighbour list reaches tie at
 * 0; a vanishing popularity term orders them, so short lists are filled with popular items, not by index.
 */

export interface ItemKnnSettings {
  readonly neighbours: number;
  readonly shrinkage: number;
}

export const ITEM_KNN_GRID = {
  shrinkage: [0, 10, 50, 200],
  neighbours: [20, 50, 100, 200, 400],
} as const;

/** Each item's most similar items, most similar first: item i holds slots `i·width .. i·width + count[i]`. */
export interface NeighbourTable {
  readonly width: number;
  readonly count: Uint32Array;
  readonly neighbour: Uint32Array;
  readonly similarity: Float32Array;
}

const POPULARITY_TIE_BREAK = 1e-6;

export class ItemKnnModel implements RecommenderModel {
  readonly name = 'itemknn';
  private chosen: ItemKnnSettings = { neighbours: 100, shrinkage: 10 };
  private validationNdcg: number | undefined;
  private table: NeighbourTable | undefined;
  private train: TrainingData | undefined;

  constructor(private readonly grid: { shrinkage: readonly number[]; neighbours: readonly number[] } = ITEM_KNN_GRID) {}

  async fit(train: TrainingData, context: FitContext): Promise<void> {
    const validation = context.validation;
    if (validation !== undefined) {
      const widest = Math.max(...this.grid.neighbours);
      const tables = similarItems(validation.train, this.grid.shrinkage, widest);
      const best = new BestOf<ItemKnnSettings>();
      for (const point of gridOf({ shrinkage: this.grid.shrinkage, neighbours: this.grid.neighbours })) {
        const table = tables[this.grid.shrinkage.indexOf(point.shrinkage)]!;
        const scorer = { scoreUsers: (users: Uint32Array) => knnScores(validation.train, table, point.neighbours, users) };
        const ndcg = validation.evaluate(scorer).ndcg;
        best.offer(point, ndcg);
        context.log(`itemknn: ${formatSettings(point)} validation NDCG@${context.k} ${ndcg.toFixed(4)}`);
      }
      this.chosen = best.best!;
      this.validationNdcg = best.bestScore;
    }
    this.train = train;
    this.table = similarItems(train, [this.chosen.shrinkage], this.chosen.neighbours)[0];
  }

  scoreUsers(users: Uint32Array): Float32Array {
    if (this.train === undefined || this.table === undefined) throw new Error('itemknn: fit before scoring');
    return knnScores(this.train, this.table, this.chosen.neighbours, users);
  }

  settings(): Record<string, unknown> {
    return {
      ...this.chosen,
      similarity: 'cosine',
      ...(this.validationNdcg !== undefined ? { validationNdcg: this.validationNdcg } : {}),
    };
  }
}

/**
 * The `width` most similar items of every item, once per shrinkage value: the co-occurrence counts are
 * gathered once per item and shared by all values.
 */
export function similarItems(train: TrainingData, shrinkages: readonly number[], width: number): NeighbourTable[] {
  const items = train.itemCount;
  const byItem = transposeRows(train.positives);
  const { start: userStart, index: userItems } = train.positives;
  const together = new Uint32Array(items);
  const touched = new Uint32Array(items);
  const selector = new TopKSelector(width);
  const slotItems = new Uint32Array(width);
  const slotScores = new Float32Array(width);
  const tables = shrinkages.map(() => ({
    width,
    count: new Uint32Array(items),
    neighbour: new Uint32Array(items * width),
    similarity: new Float32Array(items * width),
  }));
  const norm = Float64Array.from(train.itemPopularity, Math.sqrt);

  for (let i = 0; i < items; i++) {
    let touchedCount = 0;
    for (let p = byItem.start[i]!; p < byItem.start[i + 1]!; p++) {
      const u = byItem.index[p]!;
      for (let q = userStart[u]!; q < userStart[u + 1]!; q++) {
        const j = userItems[q]!;
        if (together[j]!++ === 0) touched[touchedCount++] = j;
      }
    }
    shrinkages.forEach((shrinkage, s) => {
      selector.reset();
      for (let t = 0; t < touchedCount; t++) {
        const j = touched[t]!;
        if (j !== i) selector.offer(together[j]! / (norm[i]! * norm[j]! + shrinkage), j);
      }
      const table = tables[s]!;
      const n = selector.drainWithScores(slotItems, slotScores);
      table.count[i] = n;
      table.neighbour.set(slotItems.subarray(0, n), i * width);
      table.similarity.set(slotScores.subarray(0, n), i * width);
    });
    for (let t = 0; t < touchedCount; t++) together[touched[t]!] = 0;
  }
  return tables;
}

function knnScores(train: TrainingData, table: NeighbourTable, neighbours: number, users: Uint32Array): Float32Array {
  const items = train.itemCount;
  const out = new Float32Array(users.length * items);
  let maxPopularity = 1;
  for (const p of train.itemPopularity) if (p > maxPopularity) maxPopularity = p;
  const tieBreak = POPULARITY_TIE_BREAK / maxPopularity;
  const { start, index } = train.positives;
  for (let r = 0; r < users.length; r++) {
    const row = r * items;
    for (let j = 0; j < items; j++) out[row + j] = train.itemPopularity[j]! * tieBreak;
    const u = users[r]!;
    for (let p = start[u]!; p < start[u + 1]!; p++) {
      const i = index[p]!;
      const base = i * table.width;
      const n = Math.min(neighbours, table.count[i]!);
      for (let q = base; q < base + n; q++) out[row + table.neighbour[q]!]! += table.similarity[q]!;
    }
  }
  return out;
}
