// Puts items in their community: the community property (indexed) and one IN_COMMUNITY relationship.
// $rows: [{id, community}].
UNWIND $rows AS row
MATCH (item:Item {id: row.id})
MATCH (community:Community {id: row.community})
SET item.community = row.community
FOREACH (old IN [(item)-[r:IN_COMMUNITY]->() | r] | DELETE old)
CREATE (item)-[:IN_COMMUNITY]->(community)
