import type { InterestGraph } from '../../graph/interest-graph.ts';
import { HAS_TAG, NodeKindCode } from '../../graph/model.ts';
import type { ItemCatalogue } from '../catalogue/item-catalogue.ts';
import type { AttributeCondition, RecommendationFilters } from './recommendation-query.ts';
import type { SubjectProfile } from './subject-profile.ts';

/**
 * A request's filters compiled into one test per item: true means "leave it out". Rejected items
 * (disliked, dismissed) always go; consumed ones unless the request includes them.
 */
export type ItemSkip = (item: number) => boolean;

export function compileFilters(graph: InterestGraph, catalogue: ItemCatalogue, profile: SubjectProfile, filters: RecommendationFilters | undefined): ItemSkip {
  const includeTags = tagNodes(graph, filters?.includeTags);
  const excludeTags = tagNodes(graph, filters?.excludeTags);
  const excludeItems = new Set<number>();
  for (const id of filters?.excludeItems ?? []) {
    const node = graph.nodeIndex('item', id);
    if (node >= 0) excludeItems.add(node);
  }
  const attributes = Object.entries(filters?.attributes ?? {});
  const includeConsumed = filters?.includeConsumed === true;
  const wantsTags = filters?.includeTags !== undefined;

  return (item) => {
    if (!graph.hasNode(item) || graph.nodeKindCode(item) !== NodeKindCode.item) return true;
    if (profile.rejected.has(item) || excludeItems.has(item)) return true;
    if (!includeConsumed && profile.consumed.has(item)) return true;
    if (wantsTags || excludeTags.size > 0) {
      let included = false;
      let excluded = false;
      graph.forEachOutEdge(
        item,
        (_e, tag) => {
          if (includeTags.has(tag)) included = true;
          if (excludeTags.has(tag)) excluded = true;
          return !excluded;
        },
        1 << HAS_TAG,
      );
      if (excluded || (wantsTags && !included)) return true;
    }
    if (attributes.length > 0) {
      const record = catalogue.get(graph.externalId(item));
      if (!record) return true;
      // Own attributes only: an inherited property (toString, constructor) is not the item's data.
      for (const [name, condition] of attributes)
        if (!meets(Object.hasOwn(record.attributes, name) ? record.attributes[name] : undefined, condition)) return true;
    }
    return false;
  };
}

/**
 * Whether the filters leave out no more than the default does (rejected and consumed items), so that a
 * search with them is a search with none. False may also be answered for filters that name nothing in
 * the graph; it only costs a second search.
 */
export function leavesOutOnlyDefaults(filters: RecommendationFilters | undefined): boolean {
  if (filters === undefined) return true;
  return (
    filters.includeTags === undefined &&
    (filters.excludeTags?.length ?? 0) === 0 &&
    (filters.excludeItems?.length ?? 0) === 0 &&
    filters.includeConsumed !== true &&
    Object.keys(filters.attributes ?? {}).length === 0
  );
}

function tagNodes(graph: InterestGraph, ids: readonly string[] | undefined): Set<number> {
  const nodes = new Set<number>();
  for (const id of ids ?? []) {
    const node = graph.nodeIndex('tag', id);
    if (node >= 0) nodes.add(node);
  }
  return nodes;
}

/** Whether an attribute value meets a condition; a missing attribute meets none. */
export function meets(value: unknown, condition: AttributeCondition): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(condition)) return condition.some((c) => meets(value, c));
  if (typeof condition === 'object') {
    if (typeof value !== 'number') return false;
    return (condition.min === undefined || value >= condition.min) && (condition.max === undefined || value <= condition.max);
  }
  if (Array.isArray(value)) return value.includes(condition);
  return value === condition;
}
