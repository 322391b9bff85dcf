import type { InterestGraph } from '../../graph/interest-graph.ts';
import { loadConfig } from '../../src/config.ts';
import type { SyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';
import { applySyntheticInteractions, syntheticInterestGraph } from '../../src/synthetic/synthetic-graph.ts';

export const policy = loadConfig({ env: {} }).weightPolicy;

/** Applies synthetic interactions [from, to) to the graph; returns the subject nodes touched. */
export function applySynthetic(graph: InterestGraph, data: SyntheticDataset, from: number, to: number): number[] {
  return applySyntheticInteractions(graph, data, policy, from, to);
}

/** A graph holding the dataset's catalogue and its first `interactions` interactions. */
export function syntheticGraph(data: SyntheticDataset, interactions: number): InterestGraph {
  return syntheticInterestGraph(data, policy, interactions);
}
