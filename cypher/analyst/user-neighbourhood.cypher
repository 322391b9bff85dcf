// A user's interest neighbourhood: their most recent positive interactions, the items' tags, and other
// users who liked the same items. Returns nodes and relationships, so Neo4j Browser draws the graph.
//
// Parameters (in Neo4j Browser: :param userId => '42'):
//   $userId  the user's id
//   $limit   how many recent positive interactions to start from, e.g. 25
MATCH (user:User {id: $userId})-[liked:INTERACTED]->(item:Item)
WHERE liked.type IN ['click', 'add_to_cart', 'purchase', 'like'] OR (liked.type = 'rating' AND liked.value >= 4)
WITH user, liked, item
ORDER BY liked.ts DESC
LIMIT $limit
OPTIONAL MATCH (item)-[hasTag:HAS_TAG]->(tag:Tag)
OPTIONAL MATCH (item)<-[alsoLiked:INTERACTED]-(other:User)
WHERE other <> user AND (alsoLiked.type IN ['like', 'purchase'] OR (alsoLiked.type = 'rating' AND alsoLiked.value >= 4))
RETURN user, liked, item, hasTag, tag, alsoLiked, other
