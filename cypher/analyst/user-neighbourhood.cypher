// A user's interest neighbourhood: their most recent positive interactions, the items' tags, and other
// users who liked the same items. Returns nodes and relationships, so Neo4j Browser draws the graph.
//
// Parameters (Neo4j Browser: use the `=>` form so numbers are integers):
//   :param userId => '42'
//   :param limit => 25       (recent positive interactions to start from)
MATCH (user:User {id: $userId})-[liked:INTERACTED]->(item:Item)
WHERE liked.type IN ['click', 'add_to_cart', 'purchase', 'like'] OR (liked.type = 'rating' AND liked.value >= 4)
WITH user, liked, item
ORDER BY liked.ts DESC
LIMIT $limit
OPTIONAL MATCH (item)-[hasTag:HAS_TAG]->(tag:Tag)
OPTIONAL MATCH (item)<-[alsoLiked:INTERACTED]-(other:User)
WHERE other <> user AND (alsoLiked.type IN ['like', 'purchase'] OR (alsoLiked.type = 'rating' AND alsoLiked.value >= 4))
RETURN user, liked, item, hasTag, tag, alsoLiked, other
