import { defineRoute } from '../route.ts';
import * as S from '../schemas.ts';

export const MODEL_ROUTES = [
  defineRoute({
    method: 'get',
    path: '/v1/model',
    summary: 'The GNN model in service: backend, version, when trained, training and evaluation metrics.',
    tag: 'operations',
    role: 'read',
    responses: { 200: { description: 'Model info', schema: S.ModelInfoSchema } },
    errors: [401, 403, 429, 503],
    async handle(services) {
      const status = services.embeddings.status();
      // Where workers share the work, the trainer's state: training runs there.
      const training = await services.embeddings.trainingState();
      return {
        body: {
          backend: { name: status.backend.name, package: status.backend.package, preference: status.backend.preference },
          loaded: status.loaded,
          version: status.version,
          trainedAt: status.trainedAt,
          training: status.training ?? null,
          trainingInProgress: training.trainingInProgress,
          lastTraining: training.lastTraining,
          refusedCheckpoints: status.refusedCheckpoints,
          subjectsUpdated: status.subjectsUpdated,
          lastEvaluation: services.lastEvaluation(),
        },
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/model/training',
    summary: 'Train the GNN now, in the background; the model in service answers until the new one is swapped in.',
    tag: 'operations',
    role: 'admin',
    body: S.TrainingRequestSchema,
    responses: {
      202: { description: 'Training started; GET /v1/model shows trainingInProgress, then the outcome in lastTraining', schema: S.TrainingStartedSchema },
    },
    errors: [400, 401, 403, 409, 429, 503],
    async handle(services, { body }) {
      return { status: 202, body: { started: true, ...(await services.embeddings.startTraining(body)) } };
    },
  }),
];
