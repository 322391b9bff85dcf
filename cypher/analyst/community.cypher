// One community: its size and modularity run, top tags among its items, and its top items by positive
// interactions (as lists; open `:param communityId => 3` then run user-neighbourhood on a top item to draw it).
//
// Parameters (Neo4j Browser: use the `=>` form so numbers are integers):
//   :param communityId => 3
//   :param limit => 50
MATCH (community:Community {id: $communityId})
CALL (community) {
  MATCH (:Item)-[:IN_COMMUNITY]->(community)
  RETURN count(*) AS items
}
CALL (community) {
  MATCH (:User)-[member:IN_COMMUNITY]->(community)
  RETURN count(*) AS users, avg(member.share) AS averageShare
}
CALL (community) {
  MATCH (item:Item)-[:IN_COMMUNITY]->(community)
  MATCH (item)-[:HAS_TAG]->(tag:Tag)
  WITH tag, count(DISTINCT item) AS tagged
  ORDER BY tagged DESC
  LIMIT 10
  RETURN collect({tag: tag.id, items: tagged}) AS topTags
}
CALL (community) {
  MATCH (item:Item)-[:IN_COMMUNITY]->(community)
  WITH item, COUNT { (item)<-[r:INTERACTED]-() WHERE r.type IN ['like', 'purchase'] OR (r.type = 'rating' AND r.value >= 4) } AS positives
  ORDER BY positives DESC
  LIMIT $limit
  RETURN collect({item: item.id, title: item.title, positives: positives}) AS topItems
}
RETURN community.id AS community, community.modularity AS modularity, datetime({epochMillis: community.computedAt}) AS computedAt,
  items, users, averageShare, topTags, topItems
