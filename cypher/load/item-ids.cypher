// A page of Item ids in id order after $after (exclusive), for loading the projection.
MATCH (node:Item)
WHERE node.id > $after
RETURN node.id AS id
ORDER BY id
LIMIT $limit
