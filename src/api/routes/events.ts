import { randomUUID } from 'node:crypto';

import { ValidationError } from '../../../base/errors.ts';
import { type ApiServices, defineRoute, parseWith, WRITE_ERRORS } from '../route.ts';
import * as S from '../schemas.ts';

/** Ingests durably and counts what happened; the answer is the receipt's counts. */
async function ingest(services: ApiServices, events: readonly unknown[]): Promise<{ accepted: number; duplicates: number }> {
  const receipt = await services.engine.ingestEvents(events);
  services.metrics.ingested.inc({ result: 'accepted' }, receipt.accepted);
  services.metrics.ingested.inc({ result: 'duplicate' }, receipt.duplicates);
  const now = Date.now();
  for (const i of receipt.interactions) services.metrics.ingestLagSeconds.observe(Math.max(0, now - i.ts) / 1000);
  return { accepted: receipt.accepted, duplicates: receipt.duplicates };
}

export const EVENT_ROUTES = [
  defineRoute({
    method: 'post',
    path: '/v1/events',
    summary: 'Ingest one event, or a batch as {"events": [...]}; answered once durable. Duplicate ids are ignored.',
    tag: 'events',
    role: 'ingest',
    // The engine validates the events, naming fields as `events[3].value`.
    rawBody: S.EventsBodySchema,
    responses: { 200: { description: 'Stored', schema: S.IngestReceiptSchema } },
    errors: WRITE_ERRORS,
    async handle(services, { body }) {
      const batch = body !== null && typeof body === 'object' && 'events' in body;
      if (batch && !Array.isArray(body.events)) throw new ValidationError([{ path: 'events', message: 'must be an array of events' }]);
      const events = batch ? parseWith(S.EventBatchSchema, body, '').events : [body];
      return { body: await ingest(services, events) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/feedback',
    summary: 'Feedback on a shown recommendation (clicked, dismissed, not_interested); it enters the graph as an event.',
    tag: 'events',
    role: 'ingest',
    body: S.FeedbackBodySchema,
    responses: { 200: { description: 'Stored', schema: S.IngestReceiptSchema } },
    errors: WRITE_ERRORS,
    async handle(services, { body: f }) {
      const event = {
        id: f.id ?? `feedback-${randomUUID()}`,
        ...(f.userId !== undefined ? { userId: f.userId } : { sessionId: f.sessionId }),
        itemId: f.itemId,
        type: S.FEEDBACK_ACTIONS[f.action],
        ...(f.timestamp !== undefined ? { timestamp: f.timestamp } : {}),
        context: { feedback: f.action, ...(f.recommendationId ? { recommendationId: f.recommendationId } : {}) },
      };
      return { body: await ingest(services, [event]) };
    },
  }),
];
