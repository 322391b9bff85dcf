/**
 * Recommendations and explanations from the command line, on the data directory (DATA_DIR, default
 * ./data) and its saved model:
 *
 *   npm run recommend -- --user U [--count 10] [--diversity 0.3] [--include-tags a,b] [--exclude-tags c]
 *   npm run recommend -- --session S | --similar ITEM | --items A,B,C
 *   npm run recommend -- --user U --explain ITEM        why (or why not) ITEM for U
 *   add --json for the full answer (scores by source, paths with their nodes and edges)
 *
 * Exit codes: 0 done, 1 failed, 2 bad arguments or an unknown user/item.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import { NotFoundError, ValidationError } from '../base/errors.ts';
import { loadConfig } from '../src/config.ts';
import { EmbeddingService, embeddingSettingsOf } from '../src/embeddings/embedding-service.ts';
import { InterestEngine } from '../src/engine.ts';
import type { ExplanationPath } from '../src/recommendations/explanation-path.ts';
import { parseRecommendationOptions, type RecommendationTarget } from '../src/recommendations/recommendation-query.ts';
import { type RecommendedItem, Recommender } from '../src/recommendations/recommender.ts';
import { describeFailure, parseOrExit } from './cli.ts';

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const number = (name: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${raw}'`);
  return n;
};

const program = new Command('recommend')
  .exitOverride()
  .addOption(new Option('--user <id>', 'recommend for this user').conflicts(['session', 'similar', 'items']))
  .addOption(new Option('--session <id>', 'recommend for this anonymous session').conflicts(['similar', 'items']))
  .addOption(new Option('--similar <itemId>', 'items similar to this one').conflicts(['items']))
  .option('--items <ids>', 'more like these items (comma-separated)', list)
  .option('--explain <itemId>', 'explain this item for --user or --session instead of recommending')
  .option('--count <n>', 'how many items', number('--count'))
  .option('--diversity <x>', 'MMR diversity from 0 to 1', number('--diversity'))
  .option('--include-tags <tags>', 'only items with one of these tags', list)
  .option('--exclude-tags <tags>', 'no items with any of these tags', list)
  .option('--include-consumed', 'allow items the subject already interacted with')
  .option('--no-paths', 'leave the explanation paths out')
  .option('--json', 'print the whole answer as JSON');

interface Options {
  user?: string;
  session?: string;
  similar?: string;
  items?: string[];
  explain?: string;
  count?: number;
  diversity?: number;
  includeTags?: string[];
  excludeTags?: string[];
  includeConsumed?: boolean;
  paths: boolean;
  json?: boolean;
}

function targetOf(o: Options): RecommendationTarget {
  if (o.user !== undefined) return { kind: 'user', id: o.user };
  if (o.session !== undefined) return { kind: 'session', id: o.session };
  if (o.similar !== undefined) return { kind: 'similar', itemId: o.similar };
  if (o.items !== undefined && o.items.length > 0) return { kind: 'items', itemIds: o.items };
  throw new ValidationError([{ path: '--user', message: 'say who to recommend for: --user, --session, --similar or --items' }]);
}

function printItem(item: RecommendedItem, rank: number | null): void {
  const s = item.sources;
  const head = rank === null ? '' : `${String(rank).padStart(3)}. `;
  process.stdout.write(
    `${head}${item.title} (${item.itemId})  score ${item.score.toFixed(3)} = embedding ${s.embedding.toFixed(3)} + walk ${s.walk.toFixed(3)} + tags ${s.tags.toFixed(3)} + trending ${s.trending.toFixed(3)}\n`,
  );
  for (const path of item.paths ?? [])
    process.stdout.write(`       ${(path.weight * 100).toFixed(0).padStart(3)}%  ${path.sentence}\n            ${describePath(path)}\n`);
}

function describePath(path: ExplanationPath): string {
  let text = path.nodes[0] ? `${path.nodes[0].kind}:${path.nodes[0].label}` : '';
  for (let i = 1; i < path.nodes.length; i++) {
    const edge = path.edges.find((e) => (e.from === i - 1 && e.to === i) || (e.from === i && e.to === i - 1))!;
    const arrow = edge.from === i - 1 ? `-[${edge.type}]->` : `<-[${edge.type}]-`;
    text += ` ${arrow} ${path.nodes[i]!.kind}:${path.nodes[i]!.label}`;
  }
  return text;
}

async function main(): Promise<void> {
  parseOrExit(program, process.argv.slice(2), 2);
  const o = program.opts<Options>();
  const config = loadConfig();
  const target = targetOf(o);
  const options = parseRecommendationOptions(
    {
      ...(o.count !== undefined ? { count: o.count } : {}),
      ...(o.diversity !== undefined ? { diversity: o.diversity } : {}),
      explain: o.paths,
      filters: {
        ...(o.includeTags ? { includeTags: o.includeTags } : {}),
        ...(o.excludeTags ? { excludeTags: o.excludeTags } : {}),
        ...(o.includeConsumed ? { includeConsumed: true } : {}),
      },
    },
    config.recommend.maxCount,
  );
  const engine = await InterestEngine.open(config);
  // Only the saved model: a query is no time to train one.
  const service = await EmbeddingService.start(engine, { ...embeddingSettingsOf(config.gnn), trainOnStart: false, refreshMinutes: 0 }, engine.logger);
  const recommender = new Recommender(engine, service, config.recommend);
  try {
    if (o.explain !== undefined) {
      if (target.kind !== 'user' && target.kind !== 'session') throw new ValidationError([{ path: '--explain', message: 'needs --user or --session' }]);
      const answer = recommender.explain(target, o.explain);
      if (o.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      else {
        if (answer.consumed || answer.rejected)
          process.stdout.write(`(${target.id} ${answer.rejected ? 'turned this item down' : 'already interacted with this item'})\n`);
        printItem(answer.item, null);
        const { rank, listCount, lastListedScore, keptOutBy } = answer.standing;
        const last = lastListedScore === null ? 'the list is empty' : `the last of the top ${listCount} scores ${lastListedScore.toFixed(3)}`;
        process.stdout.write(`  rank ${rank ?? 'none (not a candidate)'}; ${last}; ${keptOutBy === null ? 'in the list' : `kept out: ${keptOutBy}`}\n`);
      }
      return;
    }
    const answer = recommender.recommend(target, options);
    if (o.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    else answer.items.forEach((item, k) => printItem(item, k + 1));
  } finally {
    recommender.close();
    await service.close();
    await engine.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`recommend: ${describeFailure(error)}\n`);
  process.exit(error instanceof ValidationError || error instanceof NotFoundError ? 2 : 1);
});
