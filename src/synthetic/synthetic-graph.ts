import { baseWeight, type WeightPolicy } from '../../graph/edge-weight.ts';
import { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode, INTERACTION_TYPES, NodeKindCode } from '../../graph/model.ts';
import { applyCatalogueItem } from '../projection/graph-projection.ts';
import type { SyntheticDataset } from './synthetic-dataset.ts';

/**
 * Applies synthetic interactions [from, to) straight to a graph (no store: for benchmarks and tests that
 * measure what sits above it); returns the subject nodes touched.
 */
export function applySyntheticInteractions(graph: InterestGraph, data: SyntheticDataset, policy: WeightPolicy, from: number, to: number): number[] {
  const c = data.interactions;
  const touched = new Set<number>();
  for (let i = from; i < Math.min(to, c.length); i++) {
    const isSession = c.subjectKind[i] === NodeKindCode.session;
    const subject = graph.addNode(isSession ? 'session' : 'user', isSession ? data.sessionId(c.subject[i]!) : data.userId(c.subject[i]!));
    const item = graph.addNode('item', data.itemId(c.item[i]!));
    const type = INTERACTION_TYPES[c.type[i]!]!;
    graph.addEdge(subject, item, EdgeTypeCode[type], c.ts[i]!, baseWeight(policy, type, type === 'rating' ? c.value[i]! : null));
    touched.add(subject);
  }
  return [...touched];
}

/** A graph holding the dataset's catalogue and its first `interactions` interactions (all by default). */
export function syntheticInterestGraph(data: SyntheticDataset, policy: WeightPolicy, interactions = data.interactions.length): InterestGraph {
  const graph = new InterestGraph({ nodes: data.options.users + data.options.items + 1_000, edges: interactions + data.options.items * 8 });
  for (const item of data.catalogue()) applyCatalogueItem(graph, item, data.options.startTime);
  applySyntheticInteractions(graph, data, policy, 0, interactions);
  return graph;
}
