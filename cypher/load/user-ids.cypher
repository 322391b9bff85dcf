// A page of User ids in id order after $after (exclusive), for loading the projection.
MATCH (node:User)
WHERE node.id > $after
RETURN node.id AS id
ORDER BY id
LIMIT $limit
