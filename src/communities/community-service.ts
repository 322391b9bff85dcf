import type { Logger } from '../../base/logger.ts';
import { alignCommunityIds, type CommunitySettings, DEFAULT_COMMUNITY_SETTINGS, detectCommunities } from '../../graph/communities.ts';
import type { WeightPolicy } from '../../graph/edge-weight.ts';
import type { InterestGraph } from '../../graph/interest-graph.ts';
import { HAS_TAG, INTERACTION_MASK, type SubjectKind } from '../../graph/model.ts';
import { PositiveEdges } from '../../graph/positive-edges.ts';
import type { ItemCatalogue } from '../catalogue/item-catalogue.ts';
import type { GraphChangeListener } from '../engine.ts';
import type { GraphWriteBack } from '../store/graph-store.ts';

/**
 * Communities in service: the latest Louvain run with each community summarised (size, top tags, top
 * items), recomputed on a schedule and on demand, ids kept stable across runs, written back to the store
 * when it keeps analytics (Neo4j). A subject's interest profile (mix over communities, and its drift over
 * time) is computed from the live graph when asked, so an erased user leaves nothing behind here.
 */
export interface CommunityHost {
  readonly graph: InterestGraph;
  /** Change events; an erased user or session triggers a fresh run, so no summary still counts them. */
  subscribe(listener: GraphChangeListener): () => void;
  readonly catalogue: ItemCatalogue;
  readonly weightPolicy: WeightPolicy;
  readonly writeBack?: GraphWriteBack;
}

export interface CommunitySummary {
  readonly id: number;
  readonly size: number;
  /** Tags most typical of the community's items (count weighted by rarity across the catalogue). */
  readonly topTags: ReadonlyArray<{ tag: string; items: number }>;
  /** Members with the most positive interactions. */
  readonly topItems: ReadonlyArray<{ itemId: string; title: string | null; positives: number }>;
}

export interface CommunitySnapshot {
  readonly computedAt: string;
  readonly modularity: number;
  readonly seconds: number;
  readonly projection: { readonly items: number; readonly links: number };
  readonly communities: readonly CommunitySummary[];
}

export interface CommunityShare {
  readonly community: number;
  readonly share: number;
}

export interface InterestProfile {
  readonly mix: readonly CommunityShare[];
  /** The mix over consecutive stretches of the subject's history, oldest first. */
  readonly drift: ReadonlyArray<{ from: string; to: string; interactions: number; mix: readonly CommunityShare[] }>;
}

const TOP_TAGS = 8;
const TOP_ITEMS = 10;
const DRIFT_WINDOWS = 4;
const MIN_WINDOW = 3;
const MIN_SHARE = 0.01;

export class CommunityService {
  private snapshot: CommunitySnapshot | null = null;
  private itemCommunity = new Map<number, number>();
  /** The next id no community has had yet (ids are never reused for another group). */
  private nextId = 0;
  private readonly unsubscribe: () => void;
  private running: Promise<CommunitySnapshot> | null = null;
  /** A change (an erasure) arrived during a run: run once more when it ends. */
  private stale = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly positive: PositiveEdges;
  private readonly settings: CommunitySettings;

  constructor(
    private readonly host: CommunityHost,
    options: { refreshMinutes: number; settings?: CommunitySettings },
    private readonly logger: Logger,
  ) {
    this.settings = options.settings ?? DEFAULT_COMMUNITY_SETTINGS;
    this.positive = new PositiveEdges(host.weightPolicy);
    this.unsubscribe = host.subscribe({
      nodeRemoved: () => {
        if (this.running) this.stale = true;
        else this.recomputeInBackground();
      },
    });
    if (options.refreshMinutes > 0) {
      this.timer = setInterval(() => this.recomputeInBackground(), options.refreshMinutes * 60_000);
      this.timer.unref();
    }
  }

  current(): CommunitySnapshot | null {
    return this.snapshot;
  }

  communityOf(item: number): number | undefined {
    return this.itemCommunity.get(item);
  }

  /** Runs Louvain now (one run at a time: a call during a run gets that run's result). */
  recompute(): Promise<CommunitySnapshot> {
    this.running ??= (async () => {
      // Let the caller's response and other requests through before the synchronous work.
      await new Promise((resolve) => setImmediate(resolve));
      return this.run();
    })().finally(() => {
      this.running = null;
      if (this.stale) {
        this.stale = false;
        this.recomputeInBackground();
      }
    });
    return this.running;
  }

  private recomputeInBackground(): void {
    this.recompute().catch((error: unknown) => this.logger.error({ err: error }, 'community detection failed; the previous run stays in service'));
  }

  /** Item members of a community, by id, after `after`. */
  members(community: number, page: { after?: string; limit: number }): string[] {
    const graph = this.host.graph;
    const ids: string[] = [];
    for (const [node, c] of this.itemCommunity) if (c === community && graph.hasNode(node)) ids.push(graph.externalId(node));
    ids.sort();
    const start = page.after === undefined ? 0 : ids.findIndex((id) => id > page.after!);
    return start < 0 ? [] : ids.slice(start, start + page.limit);
  }

  /** A subject's interest mix and its drift, or null for an unknown subject. */
  profile(kind: SubjectKind, id: string): InterestProfile | null {
    const graph = this.host.graph;
    const node = graph.nodeIndex(kind, id);
    if (node < 0) return null;
    const positives: Array<{ ts: number; community: number; weight: number }> = [];
    graph.forEachOutEdge(
      node,
      (e, item) => {
        if (!this.positive.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) return;
        const community = this.itemCommunity.get(item);
        if (community !== undefined) positives.push({ ts: graph.edgeTimestamp(e), community, weight: Math.abs(graph.edgeBaseWeight(e)) });
      },
      INTERACTION_MASK,
    );
    positives.sort((a, b) => a.ts - b.ts);
    const windows = Math.max(1, Math.min(DRIFT_WINDOWS, Math.floor(positives.length / MIN_WINDOW)));
    const drift = [];
    for (let w = 0; w < windows && positives.length > 0; w++) {
      const part = positives.slice(Math.floor((w * positives.length) / windows), Math.floor(((w + 1) * positives.length) / windows));
      drift.push({
        from: new Date(part[0]!.ts).toISOString(),
        to: new Date(part[part.length - 1]!.ts).toISOString(),
        interactions: part.length,
        mix: mixOf(part),
      });
    }
    return { mix: mixOf(positives), drift };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe();
    this.stale = false;
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<CommunitySnapshot> {
    const started = performance.now();
    const graph = this.host.graph;
    const detection = detectCommunities(graph, this.host.weightPolicy, this.settings);
    const { assignment: itemCommunity, nextId } = alignCommunityIds(detection.itemCommunity, this.itemCommunity, this.nextId);
    this.nextId = nextId;
    const communities = this.summarise(itemCommunity);
    const snapshot: CommunitySnapshot = {
      computedAt: new Date().toISOString(),
      modularity: detection.modularity,
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      projection: detection.projection,
      communities,
    };
    this.itemCommunity = itemCommunity;
    this.snapshot = snapshot;
    this.logger.info(
      { communities: communities.length, modularity: Number(snapshot.modularity.toFixed(3)), seconds: snapshot.seconds },
      'interest communities computed',
    );
    if (this.host.writeBack) {
      await this.writeBack(this.host.writeBack, snapshot).catch((error: unknown) => {
        this.logger.error({ err: error }, 'community write-back failed; it is retried after the next run');
      });
    }
    return snapshot;
  }

  private summarise(itemCommunity: Map<number, number>): CommunitySummary[] {
    const graph = this.host.graph;
    const members = new Map<number, number[]>();
    for (const [item, c] of itemCommunity) (members.get(c) ?? members.set(c, []).get(c)!).push(item);
    const tagItems = new Map<number, number>();
    let taggedItems = 0;
    for (const item of itemCommunity.keys()) {
      let tagged = false;
      graph.forEachOutEdge(
        item,
        (_e, tag) => {
          tagItems.set(tag, (tagItems.get(tag) ?? 0) + 1);
          tagged = true;
        },
        1 << HAS_TAG,
      );
      if (tagged) taggedItems++;
    }
    const summaries: CommunitySummary[] = [];
    for (const [id, items] of [...members].sort((a, b) => a[0] - b[0])) {
      const tags = new Map<number, number>();
      const popularity: Array<[number, number]> = [];
      for (const item of items) {
        graph.forEachOutEdge(item, (_e, tag) => void tags.set(tag, (tags.get(tag) ?? 0) + 1), 1 << HAS_TAG);
        let positives = 0;
        graph.forEachInEdge(
          item,
          (e) => {
            if (this.positive.isPositive(graph.edgeTypeCode(e), graph.edgeBaseWeight(e))) positives++;
          },
          INTERACTION_MASK,
        );
        popularity.push([item, positives]);
      }
      const topTags = [...tags]
        .map(([tag, n]) => ({ tag, n, score: n * Math.log((taggedItems + 1) / tagItems.get(tag)!) }))
        .sort((a, b) => b.score - a.score || b.n - a.n)
        .slice(0, TOP_TAGS)
        .map((t) => ({ tag: graph.externalId(t.tag), items: t.n }));
      const topItems = popularity
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, TOP_ITEMS)
        .map(([item, positives]) => {
          const itemId = graph.externalId(item);
          return { itemId, title: this.host.catalogue.get(itemId)?.title ?? null, positives };
        });
      summaries.push({ id, size: items.length, topTags, topItems });
    }
    return summaries;
  }

  private async writeBack(target: GraphWriteBack, snapshot: CommunitySnapshot): Promise<void> {
    const graph = this.host.graph;
    const users = [];
    for (const user of graph.nodesOfKind('user')) {
      const { mix } = this.profile('user', graph.externalId(user))!;
      if (mix.length > 0) users.push({ id: graph.externalId(user), community: mix[0]!.community, mix: mix.slice(0, 5) });
    }
    await target.writeCommunities({
      computedAt: Date.parse(snapshot.computedAt),
      modularity: snapshot.modularity,
      communities: snapshot.communities.map((c) => ({
        id: c.id,
        size: c.size,
        topTags: c.topTags.map((t) => t.tag),
        topItems: c.topItems.map((t) => t.itemId),
      })),
      items: [...this.itemCommunity].filter(([node]) => graph.hasNode(node)).map(([node, community]) => ({ id: graph.externalId(node), community })),
      users,
    });
  }
}

function mixOf(positives: ReadonlyArray<{ community: number; weight: number }>): CommunityShare[] {
  const totals = new Map<number, number>();
  let sum = 0;
  for (const p of positives) {
    totals.set(p.community, (totals.get(p.community) ?? 0) + p.weight);
    sum += p.weight;
  }
  if (sum === 0) return [];
  return [...totals]
    .map(([community, w]) => ({ community, share: Number((w / sum).toFixed(4)) }))
    .filter((s) => s.share >= MIN_SHARE)
    .sort((a, b) => b.share - a.share || a.community - b.community);
}
