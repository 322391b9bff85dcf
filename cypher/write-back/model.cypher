// Records the model whose embeddings are being written, and marks it as the one in service.
MERGE (model:Model {version: $version})
SET model.trainedAt = $trainedAt, model.backend = $backend, model.dimensions = $dimensions, model.writtenAt = $writtenAt
MERGE (state:EngineState {name: 'interest-graph'})
SET state.modelVersion = $version
