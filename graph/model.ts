/**
 * The vocabulary of the interest graph: node kinds, edge types and their numeric codes.
 * Codes are persisted by the stores, so existing values must never be renumbered.
 */

export const NODE_KINDS = ['user', 'item', 'tag', 'session'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
export const NodeKindCode: Record<NodeKind, number> = { user: 0, item: 1, tag: 2, session: 3 };

/** Kinds that act on items: a signed-in user or an anonymous session. */
export type SubjectKind = 'user' | 'session';

export const INTERACTION_TYPES = ['view', 'click', 'add_to_cart', 'purchase', 'rating', 'like', 'dislike', 'dismiss'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/** Edge types: the interactions (subject → item) plus the catalogue's item → tag edges. */
export const EDGE_TYPES = [...INTERACTION_TYPES, 'has_tag'] as const;
export type EdgeType = (typeof EDGE_TYPES)[number];

export const EdgeTypeCode: Record<EdgeType, number> = Object.fromEntries(EDGE_TYPES.map((t, i) => [t, i])) as Record<EdgeType, number>;

export const HAS_TAG = EdgeTypeCode.has_tag;

/** Marks a removed edge; never stored. */
export const DELETED_EDGE = 255;
export const DELETED_NODE = 255;

export function interactionTypeOf(code: number): InteractionType {
  const t = INTERACTION_TYPES[code];
  if (t === undefined) throw new RangeError(`not an interaction type code: ${code}`);
  return t;
}

export function nodeKindOf(code: number): NodeKind {
  const k = NODE_KINDS[code];
  if (k === undefined) throw new RangeError(`not a node kind code: ${code}`);
  return k;
}

/** A bit mask over edge type codes, for filtering neighbour iteration without allocations. */
export function edgeTypeMask(types: readonly EdgeType[]): number {
  let mask = 0;
  for (const t of types) mask |= 1 << EdgeTypeCode[t];
  return mask;
}

export const ALL_EDGE_TYPES = (1 << EDGE_TYPES.length) - 1;
export const INTERACTION_MASK = edgeTypeMask(INTERACTION_TYPES);

/**
 * Interactions that say "the subject wants this item": what the GNN learns to predict and what offline
 * evaluation holds out. Ratings count from `POSITIVE_RATING_STARS` up; views are weak evidence.
 */
export const POSITIVE_INTERACTION_TYPES: readonly InteractionType[] = ['click', 'add_to_cart', 'purchase', 'like'];
export const POSITIVE_RATING_STARS = 4;
