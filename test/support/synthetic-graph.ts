import { baseWeight } from '../../graph/edge-weight.ts';
import { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode, INTERACTION_TYPES, NodeKindCode } from '../../graph/model.ts';
import { loadConfig } from '../../src/config.ts';
import { applyCatalogueItem } from '../../src/projection/graph-projection.ts';
import type { SyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

export const policy = loadConfig({ env: {} }).weightPolicy;

/** Applies synthetic interactions [from, to) to the graph; returns the subject nodes touched. */
export function applySynthetic(graph: InterestGraph, data: SyntheticDataset, from: number, to: number): number[] {
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

/** A graph holding the dataset's catalogue and its first `interactions` interactions. */
export function syntheticGraph(data: SyntheticDataset, interactions: number): InterestGraph {
  const graph = new InterestGraph();
  for (const item of data.catalogue()) applyCatalogueItem(graph, item, data.options.startTime);
  applySynthetic(graph, data, 0, interactions);
  return graph;
}
