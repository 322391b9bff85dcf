import type { Logger } from '../base/logger.ts';
import { DEFAULT_COMMUNITY_SETTINGS } from '../graph/communities.ts';
import { CommunityService } from './communities/community-service.ts';
import { EmbeddingService, embeddingSettingsOf, type TrainingDelegate, type TrainingHooks } from './embeddings/embedding-service.ts';
import { EmbeddingWriteBack } from './embeddings/embedding-write-back.ts';
import type { InterestEngine } from './engine.ts';
import { GraphExplorer } from './exploration/graph-explorer.ts';
import { Recommender } from './recommendations/recommender.ts';

/**
 * What runs on top of an open engine, started in dependency order and closed in reverse: the GNN in
 * service, the query layer, communities, graph exploration, and the write-back of analytics when the store
 * keeps them. The server, the load test and the tests all start them here. Resolves without waiting for
 * a GNN training run (there is one when no model is saved): recommendations use the other sources until
 * `embeddings.trainingSettled()`.
 */
export interface EngineServices {
  readonly embeddings: EmbeddingService;
  readonly recommender: Recommender;
  readonly communities: CommunityService;
  readonly explorer: GraphExplorer;
  close(): Promise<void>;
}

/** Where the GNN trains: here (the default), or elsewhere (a server's worker that is not its trainer loads what the trainer saves). */
export interface TrainingPlace {
  readonly trainsHere: boolean;
  /** Where "train now" goes when the GNN trains elsewhere. */
  readonly delegate?: TrainingDelegate;
}

export async function startEngineServices(
  engine: InterestEngine,
  logger: Logger,
  hooks: TrainingHooks = {},
  place: TrainingPlace = { trainsHere: true },
): Promise<EngineServices> {
  const config = engine.config;
  const communities = new CommunityService(
    {
      get graph() {
        return engine.graph;
      },
      catalogue: engine.catalogue,
      weightPolicy: config.weightPolicy,
      writeBack: engine.writeBack,
      subscribe: (listener) => engine.subscribe(listener),
    },
    { refreshMinutes: config.communities.refreshMinutes, settings: { ...DEFAULT_COMMUNITY_SETTINGS, resolution: config.communities.resolution } },
    logger,
  );
  // The first community run (part of readiness) goes ahead of a start-up training run's preparation, and
  // while the GNN backend loads. Should it fail, the server serves without communities until the next run.
  const firstCommunities = communities.recompute().catch((error: unknown) => logger.error({ err: error }, 'community detection failed at start-up'));
  let embeddings: EmbeddingService;
  try {
    const settings = embeddingSettingsOf(config.gnn);
    embeddings = await EmbeddingService.start(
      engine,
      place.trainsHere ? settings : { ...settings, trainOnStart: false, refreshMinutes: 0 },
      logger,
      hooks,
      place.trainsHere ? undefined : place.delegate,
    );
  } catch (error) {
    await firstCommunities;
    await communities.close();
    throw error;
  }
  const writeBack = engine.writeBack ? new EmbeddingWriteBack(engine, embeddings, engine.writeBack, config.neo4j.writeBackMinutes, logger) : null;
  void writeBack?.sync();
  const recommender = new Recommender(engine, embeddings, config.recommend);
  await firstCommunities;
  const explorer = new GraphExplorer({
    get graph() {
      return engine.graph;
    },
    catalogue: engine.catalogue,
    weightPolicy: config.weightPolicy,
    decayReference: () => engine.decayReference(),
    communityOf: (item) => communities.communityOf(item),
  });
  return {
    embeddings,
    recommender,
    communities,
    explorer,
    async close() {
      await communities.close();
      recommender.close();
      await writeBack?.close();
      await embeddings.close();
    },
  };
}
