import { CommunityService } from './communities/community-service.ts';
import { DEFAULT_COMMUNITY_SETTINGS } from './communities/interest-communities.ts';
import { EmbeddingService, embeddingSettingsOf } from './embeddings/embedding-service.ts';
import { EmbeddingWriteBack } from './embeddings/embedding-write-back.ts';
import type { InterestEngine } from './engine.ts';
import { GraphExplorer } from './exploration/graph-explorer.ts';
import type { Logger } from './logger.ts';
import { Recommender } from './recommendations/recommender.ts';
import type { EpochReport } from '../gnn/training/gat-trainer.ts';

/**
 * What runs on top of an open engine, started in dependency order and closed in reverse: the GNN in
 * service, the query layer, communities, graph exploration, and the write-back of analytics when the store
 * keeps them. The server, the load test and the tests all start them here.
 */
export interface EngineServices {
  readonly embeddings: EmbeddingService;
  readonly recommender: Recommender;
  readonly communities: CommunityService;
  readonly explorer: GraphExplorer;
  close(): Promise<void>;
}

export async function startEngineServices(
  engine: InterestEngine,
  logger: Logger,
  hooks: { onEpoch?: (report: EpochReport) => void } = {},
): Promise<EngineServices> {
  const config = engine.config;
  const embeddings = await EmbeddingService.start(engine, embeddingSettingsOf(config.gnn), logger, hooks);
  const writeBack = engine.writeBack ? new EmbeddingWriteBack(engine, embeddings, engine.writeBack, config.neo4j.writeBackMinutes, logger) : null;
  void writeBack?.sync();
  const recommender = new Recommender(engine, embeddings, config.recommend);
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
  await communities.recompute();
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
