// Appends new interactions of users (the caller has removed duplicates): subject and item nodes are merged,
// one INTERACTED relationship per event. $rows: [{eventId, subjectId, itemId, type, value, ts, receivedAt,
// context, seq}]; value and context may be null (the property is then absent).
UNWIND $rows AS row
MERGE (subject:User {id: row.subjectId})
MERGE (item:Item {id: row.itemId})
CREATE (subject)-[:INTERACTED {
  eventId: row.eventId, type: row.type, value: row.value, ts: row.ts,
  receivedAt: row.receivedAt, context: row.context, seq: row.seq
}]->(item)
