import { INTERACTION_TYPES } from '../../graph/model.ts';
import { NodeKindCode } from '../../graph/model.ts';
import { checkInteractionEvent } from '../events/interaction-event.ts';
import { identifierProblem } from '../identifier.ts';
import { describeLoadError, type Loader } from '../loaders/index.ts';
import { describeIssues } from '../loaders/row-values.ts';
import type { SyntheticDataset } from '../synthetic/synthetic-dataset.ts';

/**
 * What offline evaluation reads: every interaction of signed-in users as columns over dense user and item
 * indexes, and each item's tags. Built from a loader's records or straight from the synthetic generator.
 * Anonymous sessions are left out: evaluation ranks items for users it can follow over time.
 */

/** Interactions as parallel columns; index n of each array is interaction n, in the order they were read. */
export interface InteractionColumns {
  readonly length: number;
  readonly user: Uint32Array;
  readonly item: Uint32Array;
  /** Index into `INTERACTION_TYPES`. */
  readonly type: Uint8Array;
  /** Stars for ratings; NaN for every other type. */
  readonly value: Float32Array;
  /** Epoch milliseconds; NaN when the event carried none. */
  readonly ts: Float64Array;
  /**
   * The tags each interaction's event gave its item (`context.tags`), as a CSR list over interactions:
   * interaction n has `eventTags.tags[start[n] .. start[n + 1])`, indexes into `ItemTagSets.names`. Only
   * kept when some event carries tags.
   */
  readonly eventTags?: { readonly start: Uint32Array; readonly tags: Uint32Array };
}

/** Each item's tags as a CSR list: item i has `tags[start[i] .. start[i + 1])`, ascending tag indexes. */
export interface ItemTagSets {
  readonly start: Uint32Array;
  readonly tags: Uint32Array;
  readonly names: readonly string[];
}

export interface InteractionLog {
  /** External ids by dense index. */
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly interactions: InteractionColumns;
  readonly itemTags: ItemTagSets;
  /**
   * Per item, 0 when its tags are the catalogue's as given; otherwise they were counted from the events' tags
   * (the tags at least this many distinct users gave it), so a subset of the interactions must re-count them.
   */
  readonly derivedTagMinUsers?: Uint32Array;
}

/** What reading a loader kept and what it left out. */
export interface LogReadReport {
  readonly items: number;
  readonly events: number;
  /** Events of anonymous sessions, left out. */
  readonly sessionEvents: number;
  /** Events whose id was seen before (the engine ignores re-sent ids too). */
  readonly duplicateEvents: number;
  /** Rows the loader could not read plus events that failed validation. */
  readonly rejectedRows: number;
  /** The first rejections, as `file:line: message`. */
  readonly rejections: readonly string[];
  /** Kept events without a timestamp (they cannot be split in time). */
  readonly missingTimestamps: number;
}

const MAX_LISTED_REJECTIONS = 20;
const RATING = INTERACTION_TYPES.indexOf('rating');
const TYPE_CODE = new Map<string, number>(INTERACTION_TYPES.map((t, i) => [t, i]));

/** Accumulates interactions and item descriptions; ids become dense indexes in order of first appearance. */
export class InteractionLogBuilder {
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();
  private readonly tagIndex = new Map<string, number>();
  private readonly userIds: string[] = [];
  private readonly itemIds: string[] = [];
  private readonly tagNames: string[] = [];
  private readonly itemTagLists: Array<number[] | undefined> = [];
  private readonly derivedMinUsers: number[] = [];
  private readonly eventTagStart: number[] = [0];
  private readonly eventTagCodes: number[] = [];
  private length = 0;
  private user = new Uint32Array(1024);
  private item = new Uint32Array(1024);
  private type = new Uint8Array(1024);
  private value = new Float32Array(1024);
  private ts = new Float64Array(1024);

  /** The item's index, adding it (undescribed) when new. */
  itemOf(id: string): number {
    let index = this.itemIndex.get(id);
    if (index === undefined) {
      index = this.itemIds.length;
      this.itemIndex.set(id, index);
      this.itemIds.push(id);
      this.itemTagLists.push(undefined);
      this.derivedMinUsers.push(0);
    }
    return index;
  }

  userOf(id: string): number {
    let index = this.userIndex.get(id);
    if (index === undefined) {
      index = this.userIds.length;
      this.userIndex.set(id, index);
      this.userIds.push(id);
    }
    return index;
  }

  /**
   * Adds (or re-describes: the latest record wins) a catalogue item with its tags. `derivedMinUsers` > 0 says
   * the tags were counted from the events' tags: those at least that many distinct users gave the item.
   */
  describeItem(id: string, tags: readonly string[], derivedMinUsers = 0): number {
    const index = this.itemOf(id);
    this.itemTagLists[index] = [...new Set(tags.map((tag) => this.tagOf(tag)))].sort((a, b) => a - b);
    this.derivedMinUsers[index] = derivedMinUsers;
    return index;
  }

  /**
   * `type` is an index into `INTERACTION_TYPES`; `value` is NaN except for ratings; `ts` epoch ms or NaN;
   * `tags` the tag names the event gave the item.
   */
  add(user: number, item: number, type: number, value: number, ts: number, tags: readonly string[] = []): void {
    if (this.length === this.user.length) this.grow();
    const n = this.length++;
    this.user[n] = user;
    this.item[n] = item;
    this.type[n] = type;
    this.value[n] = type === RATING ? value : NaN;
    this.ts[n] = ts;
    for (const tag of new Set(tags)) this.eventTagCodes.push(this.tagOf(tag));
    this.eventTagStart.push(this.eventTagCodes.length);
  }

  private tagOf(tag: string): number {
    let code = this.tagIndex.get(tag);
    if (code === undefined) {
      code = this.tagNames.length;
      this.tagIndex.set(tag, code);
      this.tagNames.push(tag);
    }
    return code;
  }

  get interactionCount(): number {
    return this.length;
  }

  build(): InteractionLog {
    const n = this.length;
    const start = new Uint32Array(this.itemIds.length + 1);
    for (let i = 0; i < this.itemIds.length; i++) start[i + 1] = start[i]! + (this.itemTagLists[i]?.length ?? 0);
    const tags = new Uint32Array(start[this.itemIds.length]!);
    for (let i = 0; i < this.itemIds.length; i++) tags.set(this.itemTagLists[i] ?? [], start[i]);
    return {
      userIds: [...this.userIds],
      itemIds: [...this.itemIds],
      interactions: {
        length: n,
        user: this.user.slice(0, n),
        item: this.item.slice(0, n),
        type: this.type.slice(0, n),
        value: this.value.slice(0, n),
        ts: this.ts.slice(0, n),
        ...(this.eventTagCodes.length > 0 ? { eventTags: { start: Uint32Array.from(this.eventTagStart), tags: Uint32Array.from(this.eventTagCodes) } } : {}),
      },
      itemTags: { start, tags, names: [...this.tagNames] },
      ...(this.derivedMinUsers.some((m) => m > 0) ? { derivedTagMinUsers: Uint32Array.from(this.derivedMinUsers) } : {}),
    };
  }

  private grow(): void {
    const size = this.user.length * 2;
    const grown = <T extends Uint32Array | Uint8Array | Float32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.user = grown(this.user, (s) => new Uint32Array(s));
    this.item = grown(this.item, (s) => new Uint32Array(s));
    this.type = grown(this.type, (s) => new Uint8Array(s));
    this.value = grown(this.value, (s) => new Float32Array(s));
    this.ts = grown(this.ts, (s) => new Float64Array(s));
  }
}

/**
 * Reads every record of a loader: catalogue items with their tags, and the events of signed-in users,
 * validated with the engine's own event schema. Bad rows are counted and the first few kept for the report.
 */
export async function readInteractionLog(
  loader: Loader,
  onProgress?: (bytesRead: number, totalBytes: number) => void,
): Promise<{ log: InteractionLog; report: LogReadReport }> {
  const builder = new InteractionLogBuilder();
  const seenIds = new Set<string>();
  const rejections: string[] = [];
  let items = 0;
  let sessionEvents = 0;
  let duplicateEvents = 0;
  let rejectedRows = 0;
  let missingTimestamps = 0;
  let records = 0;
  const reject = (file: string, line: number, message: string) => {
    rejectedRows++;
    if (rejections.length < MAX_LISTED_REJECTIONS) rejections.push(describeLoadError({ file, line, message }));
  };
  // No clock: stored data may be of any age, and a missing timestamp is marked rather than set to "now".
  const validation = { now: Number.MAX_SAFE_INTEGER, maxClockSkewMs: 0 };

  for await (const record of loader.records()) {
    if (++records % 20_000 === 0) onProgress?.(loader.bytesRead, loader.totalBytes);
    switch (record.kind) {
      case 'item':
        items++;
        builder.describeItem(record.item.id, record.item.tags, record.derivedTags?.minSubjects ?? 0);
        break;
      case 'error':
        reject(record.file, record.line, record.message);
        break;
      case 'event': {
        const checked = checkInteractionEvent(record.event, validation);
        if (!checked.ok) {
          reject(record.file, record.line, describeIssues(checked.issues));
          break;
        }
        const e = checked.interaction;
        if (seenIds.has(e.eventId)) {
          duplicateEvents++;
          break;
        }
        seenIds.add(e.eventId);
        if (e.subjectKind !== 'user') {
          sessionEvents++;
          break;
        }
        const ts = record.event.timestamp === undefined ? NaN : e.ts;
        if (Number.isNaN(ts)) missingTimestamps++;
        builder.add(builder.userOf(e.subjectId), builder.itemOf(e.itemId), TYPE_CODE.get(e.type)!, e.value ?? NaN, ts, eventTags(e.context));
        break;
      }
    }
  }
  onProgress?.(loader.bytesRead, loader.totalBytes);
  const log = builder.build();
  return {
    log,
    report: {
      items,
      events: log.interactions.length,
      sessionEvents,
      duplicateEvents,
      rejectedRows,
      rejections,
      missingTimestamps,
    },
  };
}

/** The tag names an event's `context.tags` gives its item: the strings that are valid tags; none otherwise. */
function eventTags(context: Readonly<Record<string, unknown>> | null): string[] {
  const tags = context?.tags;
  if (!Array.isArray(tags)) return [];
  return tags.filter((tag): tag is string => typeof tag === 'string' && identifierProblem(tag) === null);
}

/** The generator's users, items (the whole catalogue, with tags) and user interactions; sessions left out. */
export function interactionLogFromSynthetic(dataset: SyntheticDataset): InteractionLog {
  const builder = new InteractionLogBuilder();
  // Index i is synthetic item i and user u is synthetic user u, which keeps ground truth easy to look up.
  for (let i = 0; i < dataset.options.items; i++) builder.describeItem(dataset.itemId(i), dataset.itemTags(i));
  for (let u = 0; u < dataset.options.users; u++) builder.userOf(dataset.userId(u));
  const c = dataset.interactions;
  for (let n = 0; n < c.length; n++) {
    if (c.subjectKind[n] !== NodeKindCode.user) continue;
    builder.add(c.subject[n]!, c.item[n]!, c.type[n]!, c.value[n]!, c.ts[n]!);
  }
  return builder.build();
}
