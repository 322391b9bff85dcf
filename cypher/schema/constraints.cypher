// The engine's schema in Neo4j 5: one uniqueness constraint per node kind (which also gives the id lookups
// an index), event ids unique across interactions (idempotent ingest), and a range index on the
// interaction sequence that start-up pages the projection by. Run at every start; IF NOT EXISTS makes it
// idempotent. Statements end with a semicolon at the end of a line.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE;
CREATE CONSTRAINT session_id IF NOT EXISTS FOR (s:Session) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (i:Item) REQUIRE i.id IS UNIQUE;
CREATE CONSTRAINT tag_id IF NOT EXISTS FOR (t:Tag) REQUIRE t.id IS UNIQUE;
CREATE CONSTRAINT community_id IF NOT EXISTS FOR (c:Community) REQUIRE c.id IS UNIQUE;
CREATE CONSTRAINT model_version IF NOT EXISTS FOR (m:Model) REQUIRE m.version IS UNIQUE;
CREATE CONSTRAINT engine_state_name IF NOT EXISTS FOR (e:EngineState) REQUIRE e.name IS UNIQUE;
CREATE CONSTRAINT interaction_event_id IF NOT EXISTS FOR ()-[r:INTERACTED]-() REQUIRE r.eventId IS UNIQUE;
CREATE INDEX interaction_seq IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.seq);
CREATE INDEX user_community IF NOT EXISTS FOR (u:User) ON (u.community);
CREATE INDEX item_community IF NOT EXISTS FOR (i:Item) ON (i.community);
