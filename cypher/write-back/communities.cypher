// Writes the communities of one Louvain run: size, top tags and top items, and the run's modularity.
// $communities: [{id, size, topTags, topItems}].
UNWIND $communities AS row
MERGE (community:Community {id: row.id})
SET community.size = row.size, community.topTags = row.topTags, community.topItems = row.topItems,
  community.modularity = $modularity, community.computedAt = $computedAt
