// Catalogue records ordered by id after $after (exclusive), $limit of them.
MATCH (item:Item)
WHERE item.id > $after AND item.title IS NOT NULL
WITH item
ORDER BY item.id
LIMIT $limit
RETURN item.id AS id, item.title AS title, item.text AS text, item.attributes AS attributes,
  [(item)-[h:HAS_TAG]->(tag:Tag) | [h.position, tag.id]] AS tags
