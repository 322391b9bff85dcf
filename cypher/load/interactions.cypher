// A page of interactions in the order they were accepted, after sequence number $after (exclusive).
MATCH (subject)-[r:INTERACTED]->(item:Item)
WHERE r.seq > $after
RETURN r.seq AS seq, CASE WHEN subject:User THEN 'user' ELSE 'session' END AS subjectKind, subject.id AS subjectId,
  item.id AS itemId, r.type AS type, r.value AS value, r.ts AS ts
ORDER BY r.seq
LIMIT $limit
