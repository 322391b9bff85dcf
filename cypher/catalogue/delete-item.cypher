// Removes an item's catalogue record and tags; the node stays, with the history of interactions with it.
MATCH (item:Item {id: $itemId})
WHERE item.title IS NOT NULL
FOREACH (old IN [(item)-[r:HAS_TAG]->() | r] | DELETE old)
REMOVE item.title, item.text, item.attributes, item.updatedAt
RETURN count(item) AS deleted
