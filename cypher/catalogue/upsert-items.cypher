// Inserts or replaces catalogue records. A catalogued item has a title; its tags are HAS_TAG relationships
// with their position in the record. $items: [{id, title, text, attributes (JSON text), tags, updatedAt}].
UNWIND $items AS record
MERGE (item:Item {id: record.id})
SET item.title = record.title, item.text = record.text, item.attributes = record.attributes, item.updatedAt = record.updatedAt
FOREACH (old IN [(item)-[r:HAS_TAG]->() | r] | DELETE old)
FOREACH (position IN range(0, size(record.tags) - 1) |
  MERGE (tag:Tag {id: record.tags[position]})
  MERGE (item)-[h:HAS_TAG]->(tag)
  ON CREATE SET h.position = position
)
