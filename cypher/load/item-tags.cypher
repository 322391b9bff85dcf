// A page of catalogued items after $after (exclusive, by id) with their tags as [position, tag id] pairs.
MATCH (item:Item)
WHERE item.id > $after AND item.title IS NOT NULL
WITH item
ORDER BY item.id
LIMIT $limit
RETURN item.id AS itemId, item.updatedAt AS updatedAt, [(item)-[h:HAS_TAG]->(tag:Tag) | [h.position, tag.id]] AS tags
