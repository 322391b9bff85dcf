// Items nearest to item $itemId by GNN embedding (cosine), through the item_embedding vector index.
// The embeddings are the engine's, written back after training and after incremental updates.
//
// Parameters (Neo4j Browser: use the `=>` form so numbers are integers):
//   :param itemId => '7'
//   :param k => 10
MATCH (item:Item {id: $itemId})
WHERE item.embedding IS NOT NULL
CALL db.index.vector.queryNodes('item_embedding', $k + 1, item.embedding) YIELD node, score
WITH item, node, score
WHERE node <> item
RETURN node.id AS id, node.title AS title, node.community AS community, score
ORDER BY score DESC
LIMIT $k
