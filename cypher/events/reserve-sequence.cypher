// Reserves $count consecutive sequence numbers for the interactions of one write and returns the first.
// Writing the engine-state node takes its lock until commit, so writes are applied one after another in
// sequence order, and the duplicate check that follows cannot race another writer.
MERGE (state:EngineState {name: 'interest-graph'})
SET state.nextSeq = coalesce(state.nextSeq, 0) + $count
RETURN state.nextSeq - $count AS first
