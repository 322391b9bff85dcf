// A page of Tag ids in id order after $after (exclusive), for loading the projection.
MATCH (node:Tag)
WHERE node.id > $after
RETURN node.id AS id
ORDER BY id
LIMIT $limit
