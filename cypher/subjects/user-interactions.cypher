// Every interaction of one user, oldest first (data export).
MATCH (subject:User {id: $subjectId})-[r:INTERACTED]->(item:Item)
RETURN r.eventId AS eventId, item.id AS itemId, r.type AS type, r.value AS value, r.ts AS ts, r.context AS context
ORDER BY r.ts, r.seq
