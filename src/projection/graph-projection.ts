import { baseWeight, type WeightPolicy } from '../../graph/edge-weight.ts';
import { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode, HAS_TAG, interactionTypeOf, type NodeKind } from '../../graph/model.ts';
import type { CatalogueItem } from '../catalogue/catalogue-item.ts';
import type { Interaction } from '../events/interaction-event.ts';
import type { GraphStore, SnapshotSink } from '../store/graph-store.ts';

/**
 * Keeps the in-memory InterestGraph a projection of the store: the same rules apply a live write and
 * a row read back at start-up, so a restart rebuilds exactly the graph that was running.
 */

export function applyInteraction(graph: InterestGraph, policy: WeightPolicy, interaction: Interaction): number {
  const subject = graph.addNode(interaction.subjectKind, interaction.subjectId);
  const item = graph.addNode('item', interaction.itemId);
  return graph.addEdge(subject, item, EdgeTypeCode[interaction.type], interaction.ts, baseWeight(policy, interaction.type, interaction.value));
}

export function applyCatalogueItem(graph: InterestGraph, item: CatalogueItem, ts: number): void {
  graph.setItemTags(graph.addNode('item', item.id), item.tags, ts);
}

/** Called every PROGRESS_STEP interactions and once at the end while the projection loads. */
export type LoadProgress = (interactionsLoaded: number, interactionsExpected: number) => void;
const PROGRESS_STEP = 100_000;

/** Reads the store's snapshot into a new graph. */
export async function rebuildGraph(store: GraphStore, policy: WeightPolicy, progress?: LoadProgress): Promise<InterestGraph> {
  const sink = new ProjectionSink(policy, progress);
  await store.readSnapshot(sink);
  sink.finish();
  return sink.graph;
}

class ProjectionSink implements SnapshotSink {
  graph = new InterestGraph();
  /** store key → graph node; keys are dense in practice, so a typed array beats a Map. */
  private nodeOf = new Int32Array(0);
  /** Base weight per interaction type code, and per half star for ratings. */
  private readonly typeBase: number[];

  private loaded = 0;
  private expected = 0;

  constructor(
    private readonly policy: WeightPolicy,
    private readonly progress?: LoadProgress,
  ) {
    this.typeBase = Array.from({ length: HAS_TAG }, (_, code) => {
      const type = interactionTypeOf(code);
      return type === 'rating' ? Number.NaN : baseWeight(policy, type, null);
    });
  }

  begin(expected: { nodes: number; interactions: number; itemTags: number }): void {
    this.graph = new InterestGraph({ nodes: expected.nodes, edges: expected.interactions + expected.itemTags });
    this.expected = expected.interactions;
  }

  node(key: number, kind: NodeKind, externalId: string): void {
    if (key >= this.nodeOf.length) {
      const bigger = new Int32Array(Math.max(key + 1, this.nodeOf.length * 2)).fill(-1);
      bigger.set(this.nodeOf);
      this.nodeOf = bigger;
    }
    this.nodeOf[key] = this.graph.addNode(kind, externalId);
  }

  itemTag(itemKey: number, tagKey: number, ts: number): void {
    this.graph.addEdge(this.nodeOf[itemKey]!, this.nodeOf[tagKey]!, HAS_TAG, ts, 1);
  }

  interaction(subjectKey: number, itemKey: number, typeCode: number, value: number | null, ts: number): void {
    const base = this.typeBase[typeCode]!;
    const weight = Number.isNaN(base) ? baseWeight(this.policy, 'rating', value) : base;
    this.graph.addEdge(this.nodeOf[subjectKey]!, this.nodeOf[itemKey]!, typeCode, ts, weight);
    if (this.progress && ++this.loaded % PROGRESS_STEP === 0) this.progress(this.loaded, Math.max(this.loaded, this.expected));
  }

  finish(): void {
    this.progress?.(this.loaded, this.loaded);
  }
}
