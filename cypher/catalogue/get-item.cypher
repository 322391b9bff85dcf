// One catalogue record, tags as [position, tag id] pairs.
MATCH (item:Item {id: $itemId})
WHERE item.title IS NOT NULL
RETURN item.id AS id, item.title AS title, item.text AS text, item.attributes AS attributes,
  [(item)-[h:HAS_TAG]->(tag:Tag) | [h.position, tag.id]] AS tags
