import type { Route } from '../route.ts';
import { CATALOGUE_ROUTES } from './catalogue.ts';
import { COMMUNITY_ROUTES } from './communities.ts';
import { EVENT_ROUTES } from './events.ts';
import { GRAPH_ROUTES } from './graph.ts';
import { MODEL_ROUTES } from './model.ts';
import { RECOMMENDATION_ROUTES } from './recommendations.ts';
import { USER_DATA_ROUTES } from './user-data.ts';

/** Every /v1 route, by resource, in the order the OpenAPI document lists them. */
export const ROUTES: readonly Route[] = [
  ...EVENT_ROUTES,
  ...CATALOGUE_ROUTES,
  ...RECOMMENDATION_ROUTES,
  ...USER_DATA_ROUTES,
  ...MODEL_ROUTES,
  ...COMMUNITY_ROUTES,
  ...GRAPH_ROUTES,
];
