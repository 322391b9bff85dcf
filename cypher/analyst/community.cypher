// One community: its size and modularity run, top tags among its items, top items by positive
// interactions, and its members drawn as a graph (items up to $limit).
//
// Parameters: $communityId (an integer, e.g. 3), $limit (e.g. 50)
MATCH (community:Community {id: $communityId})
CALL {
  WITH community
  MATCH (:Item)-[:IN_COMMUNITY]->(community)
  RETURN count(*) AS items
}
CALL {
  WITH community
  MATCH (:User)-[member:IN_COMMUNITY]->(community)
  RETURN count(*) AS users, avg(member.share) AS averageShare
}
CALL {
  WITH community
  MATCH (:Item)-[:IN_COMMUNITY]->(community)
  MATCH (item)-[:HAS_TAG]->(tag:Tag)
  WHERE (item)-[:IN_COMMUNITY]->(community)
  WITH tag, count(DISTINCT item) AS tagged
  ORDER BY tagged DESC
  LIMIT 10
  RETURN collect({tag: tag.id, items: tagged}) AS topTags
}
CALL {
  WITH community
  MATCH (item:Item)-[:IN_COMMUNITY]->(community)
  WITH item, COUNT { (item)<-[r:INTERACTED]-() WHERE r.type IN ['like', 'purchase'] OR (r.type = 'rating' AND r.value >= 4) } AS positives
  ORDER BY positives DESC
  LIMIT $limit
  RETURN collect({item: item.id, title: item.title, positives: positives}) AS topItems
}
RETURN community.id AS community, community.modularity AS modularity, datetime({epochMillis: community.computedAt}) AS computedAt,
  items, users, averageShare, topTags, topItems
