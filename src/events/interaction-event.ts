import { z } from 'zod';

import { type FieldIssue, ValidationError } from '../../base/errors.ts';
import { INTERACTION_TYPES, type InteractionType, type SubjectKind } from '../../graph/model.ts';
import { freeRecord } from '../free-data.ts';
import { identifier } from '../identifier.ts';
import { fieldIssues } from '../validation.ts';

/**
 * The one event schema: what applications send (HTTP, files) and what the loaders produce.
 * Validated at the edge; inside the engine an `Interaction` is trusted.
 */

export const RATING_MIN = 0.5;
export const RATING_MAX = 5;

/** A timestamp as senders write it; checkInteractionEvent also refuses ones in the future. */
export const EventTimestampSchema = z
  .union([z.number().min(0, 'must be a non-negative number of epoch milliseconds'), z.string().max(40)])
  .superRefine((value, ctx) => {
    const parsed = parseTimestamp(value);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  })
  .describe('When it happened: epoch milliseconds or an ISO 8601 date-time with a zone (Z or ±hh:mm); defaults to the time of receipt.');

export const InteractionEventSchema = z.strictObject({
  id: identifier.describe('Event id chosen by the sender; re-sending the same id changes nothing.'),
  type: z.enum(INTERACTION_TYPES),
  userId: identifier.optional().describe('The acting user; give exactly one of userId and sessionId.'),
  sessionId: identifier.optional().describe('An anonymous session; give exactly one of userId and sessionId.'),
  itemId: identifier,
  value: z.number().optional().describe(`Stars for a rating, ${RATING_MIN} to ${RATING_MAX}; only for ratings.`),
  timestamp: EventTimestampSchema.optional(),
  context: freeRecord(z.unknown())
    .optional()
    .describe('Free data kept with the event (e.g. a recommendation id): a JSON object, at most 32 levels deep and 64 KiB.'),
});
export type InteractionEventInput = z.input<typeof InteractionEventSchema>;

/** A validated interaction, as the store and the graph see it. */
export interface Interaction {
  readonly eventId: string;
  readonly subjectKind: SubjectKind;
  readonly subjectId: string;
  readonly itemId: string;
  readonly type: InteractionType;
  /** Stars for ratings; null for other types. */
  readonly value: number | null;
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly context: Readonly<Record<string, unknown>> | null;
}

export interface EventValidationOptions {
  /** Receipt time, used for missing timestamps and the future check. */
  readonly now: number;
  /** How far in the future a timestamp may be (clock skew between senders and us). */
  readonly maxClockSkewMs: number;
}

export type EventCheck = { ok: true; interaction: Interaction } | { ok: false; issues: FieldIssue[] };

/** Validates one raw event; `path` prefixes issue paths (e.g. `events[3]`). */
export function checkInteractionEvent(raw: unknown, options: EventValidationOptions, path = ''): EventCheck {
  const parsed = InteractionEventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: fieldIssues(parsed.error, path) };
  const e = parsed.data;
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const issues: FieldIssue[] = [];

  if ((e.userId === undefined) === (e.sessionId === undefined)) {
    issues.push({ path: path || 'userId', message: 'give exactly one of userId and sessionId' });
  }
  if (e.type === 'rating') {
    if (e.value === undefined) issues.push({ path: at('value'), message: 'is required for rating events' });
    else if (!Number.isFinite(e.value) || e.value < RATING_MIN || e.value > RATING_MAX) {
      issues.push({ path: at('value'), message: `must be between ${RATING_MIN} and ${RATING_MAX} stars` });
    }
  } else if (e.value !== undefined) {
    issues.push({ path: at('value'), message: `is only allowed for rating events, not ${e.type}` });
  }

  let ts = options.now;
  if (e.timestamp !== undefined) {
    const parsedTs = parseTimestamp(e.timestamp);
    if (typeof parsedTs === 'string') issues.push({ path: at('timestamp'), message: parsedTs });
    else if (parsedTs > options.now + options.maxClockSkewMs) {
      issues.push({ path: at('timestamp'), message: 'is in the future' });
    } else ts = parsedTs;
  }
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    interaction: {
      eventId: e.id,
      subjectKind: e.userId !== undefined ? 'user' : 'session',
      subjectId: (e.userId ?? e.sessionId)!,
      itemId: e.itemId,
      type: e.type,
      value: e.type === 'rating' ? e.value! : null,
      ts,
      context: e.context ?? null,
    },
  };
}

/** Validates one event or throws a ValidationError naming each bad field. */
export function parseInteractionEvent(raw: unknown, options: EventValidationOptions): Interaction {
  const result = checkInteractionEvent(raw, options);
  if (!result.ok) throw new ValidationError(result.issues);
  return result.interaction;
}

// A date-time needs its zone: without one, Date.parse reads the server's local time, which the sender cannot know.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;
const ZONELESS = /^\d{4}-\d{2}-\d{2}(T[\d:.]*)?$/;

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/**
 * Epoch milliseconds, or a message saying why the value is not a timestamp. The fields of a date-time are
 * range-checked first: Date.parse rolls impossible dates over (2024-02-30 would become 1 March).
 */
export function parseTimestamp(value: number | string): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return 'must be a non-negative number of epoch milliseconds';
    return Math.floor(value);
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return `is not a date that exists: ${date[0]}`;
  }
  const m = ISO_DATE_TIME.exec(value);
  if (!m) {
    return ZONELESS.test(value)
      ? 'needs a time and a zone (Z or ±hh:mm), e.g. 2024-05-01T12:00:00Z: without a zone the time is ambiguous'
      : 'must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z';
  }
  const [hour, minute, second, offsetHours, offsetMinutes] = m.slice(4).map((part) => Number(part ?? 0)) as [number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return 'is not a valid time of day or zone offset';
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return 'is not a valid date-time';
  if (ms < 0) return 'must not be before 1970-01-01T00:00:00Z';
  return ms;
}
