// Items nearest to user $userId's embedding (what the embedding source of the recommender proposes),
// leaving out items the user already interacted with.
//
// Parameters (Neo4j Browser: use the `=>` form so numbers are integers):
//   :param userId => '42'
//   :param k => 20
MATCH (user:User {id: $userId})
WHERE user.embedding IS NOT NULL
CALL db.index.vector.queryNodes('item_embedding', $k * 5, user.embedding) YIELD node, score
WITH user, node, score
WHERE NOT (user)-[:INTERACTED]->(node)
RETURN node.id AS id, node.title AS title, score
ORDER BY score DESC
LIMIT $k
