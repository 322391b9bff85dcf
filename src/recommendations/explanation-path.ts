import type { WeightPolicy } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { EDGE_TYPES, type EdgeType, type NodeKind } from '../../graph/model.ts';
import type { ItemCatalogue } from '../catalogue/item-catalogue.ts';

/**
 * Why an item was recommended, as a path of real nodes and edges of the interest graph at answer time,
 * with the share of the item's score that flowed along it and a sentence a person can read.
 */
export interface PathNode {
  readonly kind: NodeKind;
  readonly id: string;
  /** A title for items, the tag's name for tags, the id otherwise. */
  readonly label: string;
}

export interface PathEdge {
  /** Indexes into the path's nodes, in the graph's direction (subject → item, item → tag). */
  readonly from: number;
  readonly to: number;
  readonly type: EdgeType;
  /** ISO 8601; catalogue edges carry the time the item was last upserted. */
  readonly timestamp: string;
  /** Base weight of the interaction (1 for tags). */
  readonly weight: number;
  /** Stars, for ratings. */
  readonly stars?: number;
}

export type PathKind = 'co-interaction' | 'shared-tag' | 'trending';

export interface ExplanationPath {
  readonly kind: PathKind;
  readonly nodes: readonly PathNode[];
  readonly edges: readonly PathEdge[];
  /** Share of the item's score that this path accounts for, in [0, 1]. */
  readonly weight: number;
  readonly sentence: string;
}

/** Builds path nodes, edges and sentences from graph ids. */
export class PathWriter {
  constructor(
    private readonly graph: InterestGraph,
    private readonly catalogue: ItemCatalogue,
    private readonly policy: WeightPolicy,
  ) {}

  node(node: number): PathNode {
    const kind = this.graph.nodeKind(node);
    const id = this.graph.externalId(node);
    return { kind, id, label: kind === 'item' ? this.catalogue.title(id) : kind === 'tag' ? tagLabel(id) : id };
  }

  edge(e: number, from: number, to: number): PathEdge {
    const type = EDGE_TYPES[this.graph.edgeTypeCode(e)]!;
    const weight = this.graph.edgeBaseWeight(e);
    const stars = type === 'rating' ? starsOf(this.policy, weight) : undefined;
    return {
      from,
      to,
      type,
      timestamp: new Date(this.graph.edgeTimestamp(e)).toISOString(),
      weight: Math.round(weight * 1e4) / 1e4,
      ...(stars !== undefined ? { stars } : {}),
    };
  }

  /** "rated Alien 5★", "bought Alien", … for a subject's interaction edge. */
  action(e: number): string {
    const title = this.catalogue.title(this.graph.externalId(this.graph.edgeTarget(e)));
    switch (EDGE_TYPES[this.graph.edgeTypeCode(e)]) {
      case 'rating':
        return `rated ${title} ${starsOf(this.policy, this.graph.edgeBaseWeight(e))}★`;
      case 'purchase':
        return `bought ${title}`;
      case 'add_to_cart':
        return `added ${title} to your cart`;
      case 'like':
        return `liked ${title}`;
      case 'click':
        return `clicked ${title}`;
      case 'view':
        return `viewed ${title}`;
      default:
        return `interacted with ${title}`;
    }
  }

  title(item: number): string {
    return this.catalogue.title(this.graph.externalId(item));
  }
}

/** `genre:Sci-Fi` → `Sci-Fi`; tags without a prefix stay as they are. */
export function tagLabel(tagId: string): string {
  const colon = tagId.indexOf(':');
  return colon >= 0 && colon < tagId.length - 1 ? tagId.slice(colon + 1) : tagId;
}

export function people(n: number): string {
  return n === 1 ? '1 person' : `${n.toLocaleString('en-US')} people`;
}

/** The star rating behind a rating edge's base weight (the policy's mapping inverted), to the half star. */
export function starsOf(policy: WeightPolicy, baseWeight: number): number {
  const scale = policy.typeWeights.rating || 1;
  const w = baseWeight / scale;
  const s = policy.ratingStars;
  if (w <= s[0]) return 1;
  for (let k = 0; k < 4; k++) {
    const lo = s[k]!;
    const hi = s[k + 1]!;
    if (w <= hi) return Math.round((k + 1 + (hi === lo ? 0 : (w - lo) / (hi - lo))) * 2) / 2;
  }
  return 5;
}
