// Why item $itemId was (or would be) recommended to user $userId: the graph paths the engine explains with.
//   shared tag:    user -> an item they liked -> tag <- the recommended item
//   similar users: user -> an item they liked <- another user who also liked it -> the recommended item
// Each path is made of stored relationships; the most recent come first. (The engine's own weights come
// from GET /v1/users/{userId}/explanations/{itemId}; this query shows the same paths in the Browser.)
//
// Parameters (Neo4j Browser: use the `=>` form so numbers are integers):
//   :param userId => '42'
//   :param itemId => '7'
//   :param limit => 5        (paths per kind)
MATCH (user:User {id: $userId}), (target:Item {id: $itemId})
CALL (user, target) {
  MATCH path = (user)-[liked:INTERACTED]->(seen:Item)-[:HAS_TAG]->(:Tag)<-[:HAS_TAG]-(target)
  WHERE seen <> target AND (liked.type IN ['click', 'add_to_cart', 'purchase', 'like'] OR (liked.type = 'rating' AND liked.value >= 4))
  RETURN 'shared tag' AS kind, path, liked.ts AS ts
  ORDER BY ts DESC
  LIMIT $limit
  UNION
  MATCH path = (user)-[liked:INTERACTED]->(seen:Item)<-[also:INTERACTED]-(other:User)-[their:INTERACTED]->(target)
  WHERE seen <> target AND other <> user
    AND (liked.type IN ['like', 'purchase'] OR (liked.type = 'rating' AND liked.value >= 4))
    AND (also.type IN ['like', 'purchase'] OR (also.type = 'rating' AND also.value >= 4))
    AND (their.type IN ['like', 'purchase'] OR (their.type = 'rating' AND their.value >= 4))
  RETURN 'similar users' AS kind, path, their.ts AS ts
  ORDER BY ts DESC
  LIMIT $limit
}
RETURN kind, path, datetime({epochMillis: ts}) AS lastActive
ORDER BY kind, lastActive DESC
