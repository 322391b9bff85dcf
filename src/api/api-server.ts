import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import express, { type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-dist';

import { ConfigError, ValidationError } from '../../base/errors.ts';
import type { Logger } from '../../base/logger.ts';
import type { EngineConfig } from '../config.ts';
import { ApiKeyring, authorise, type Caller, presentedKey } from './auth.ts';
import { AuthFailureThrottle } from './auth-throttle.ts';
import { answerClientError } from './client-errors.ts';
import { ApiMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { HttpProblem, problemOf } from './problem.ts';
import { requestLogOptions } from './request-log.ts';
import { type ApiServices, parseWith } from './route.ts';
import { ROUTES } from './routes/index.ts';
import { ShutdownDrain } from './shutdown-drain.ts';

/**
 * The HTTP server: listens at once and answers liveness, docs and the OpenAPI document; every /v1 route
 * answers 503 until `attach` hands it the loaded engine (readiness). Routes come from the route table;
 * this file wires the cross-cutting parts: request ids and JSON logs, auth, rate limits, body limits,
 * metrics, problem documents, graceful shutdown.
 */

const DOCS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'docs');
const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));
const PAGES: Record<string, string> = { '/': 'index.html', '/explain': 'explain.html', '/explore': 'explore.html' };
// The pages load the renderer's UMD builds from here: no bundler, no external network requests.
const requireModule = createRequire(import.meta.url);
const VENDOR: Record<string, string> = {
  'sigma.min.js': path.join(path.dirname(requireModule.resolve('sigma')), 'sigma.min.js'),
  'graphology.umd.min.js': path.join(path.dirname(requireModule.resolve('graphology')), 'graphology.umd.min.js'),
};

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

export class ApiServer {
  readonly app = express();
  readonly metrics: ApiMetrics;
  private services: ApiServices | null = null;
  private server: Server | null = null;
  private readonly keyring: ApiKeyring | null;
  private readonly authFailures: AuthFailureThrottle;
  private readonly drain = new ShutdownDrain();
  private readonly document: Record<string, unknown>;

  constructor(
    private readonly config: EngineConfig,
    private readonly logger: Logger,
    version = '0.1.0',
  ) {
    if (config.api.auth === 'keys' && config.api.keys.length === 0) {
      throw new ConfigError([{ path: 'API_KEYS', message: 'no API keys are configured; set API_KEYS, or API_AUTH=disabled for development' }]);
    }
    this.keyring = config.api.auth === 'keys' ? new ApiKeyring(config.api.keys) : null;
    if (!this.keyring) logger.warn('API authentication is DISABLED (API_AUTH=disabled): every caller is admin. Development only.');
    this.authFailures = new AuthFailureThrottle(config.api.authFailuresPerMinute);
    this.metrics = new ApiMetrics({
      graph: () => (this.services ? this.services.engine.stats() : null),
      model: () => (this.services ? this.services.embeddings.status() : null),
      updateLatenciesMs: () => this.services?.embeddings.updater.drainLatencies() ?? [],
    });
    this.document = openApiDocument(ROUTES, version, { maxCount: config.recommend.maxCount });
    this.build();
  }

  get ready(): boolean {
    return this.services !== null;
  }

  /** The engine is loaded: /v1 routes answer from now on. */
  attach(services: Omit<ApiServices, 'metrics'>): void {
    this.services = { ...services, metrics: this.metrics };
  }

  async listen(port = this.config.api.port, host = this.config.api.host): Promise<string> {
    const server = this.app.listen(port, host);
    server.on('clientError', answerClientError);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${address.port}`;
  }

  /**
   * Stops accepting connections, answers every request already received and any that comes on a kept-alive
   * connection within `idleGraceMs` (each with `Connection: close`), waits for their handlers, and closes
   * each connection after its response (shutdown-drain.ts says why). Connections still open after
   * `deadlineMs` are cut.
   */
  async close({ idleGraceMs = 1_000, deadlineMs = 10_000 } = {}): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await this.drain.close(server, { idleGraceMs, deadlineMs });
  }

  private build(): void {
    const app = this.app;
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    app.use(this.drain.middleware);
    app.use(
      helmet({
        contentSecurityPolicy: {
          directives: {
            'script-src': ["'self'"],
            'style-src': ["'self'", "'unsafe-inline'"],
            'img-src': ["'self'", 'data:'],
            // helmet's default would send plain-HTTP deployments' page scripts and API calls to https://.
            'upgrade-insecure-requests': null,
          },
        },
      }),
    );
    app.use(pinoHttp(requestLogOptions(this.logger, () => this.ready)));
    app.use((req, res, next) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const route = (req.route as { path?: string } | undefined)?.path ?? (res.statusCode === 404 ? 'unmatched' : req.path);
        this.metrics.requestSeconds.observe(
          { method: req.method, route: String(route), status: String(res.statusCode) },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      });
      next();
    });

    app.get('/health/live', (_req, res) => {
      res.json({ status: 'ok' });
    });
    // Ready once the graph is loaded: a GNN still training is reported, not waited for.
    app.get('/health/ready', (_req, res) => {
      const services = this.services;
      if (services)
        res.json({ status: 'ready', sources: services.recommender.liveSources(), model: { training: services.embeddings.status().trainingInProgress } });
      else res.status(503).set('Retry-After', '5').json({ status: 'starting', detail: 'loading the interest graph' });
    });
    app.get('/openapi.json', (_req, res) => {
      res.json(this.document);
    });
    for (const [route, file] of Object.entries(PAGES)) app.get(route, (_req, res) => res.sendFile(path.join(WEB_DIR, file)));
    app.get('/web/vendor/:file', (req, res, next) => {
      // Own keys only: VENDOR's inherited members (__proto__, toString) are not files.
      const file = Object.hasOwn(VENDOR, req.params.file) ? VENDOR[req.params.file] : undefined;
      if (file) res.sendFile(file);
      else next();
    });
    app.use('/web', express.static(WEB_DIR, { index: false }));
    // Browsers ask for /favicon.ico on their own (the pages link the SVG): a 404 would be a console error.
    app.get('/favicon.ico', (_req, res) => res.type('image/svg+xml').sendFile(path.join(WEB_DIR, 'favicon.svg')));
    app.get('/docs', (_req, res) => res.sendFile(path.join(DOCS_DIR, 'index.html')));
    app.get('/docs/docs.js', (_req, res) => res.sendFile(path.join(DOCS_DIR, 'docs.js')));
    app.use('/docs/assets', express.static(swaggerUi.getAbsoluteFSPath(), { index: false }));
    app.get('/metrics', async (_req, res, next) => {
      try {
        res.set('Content-Type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
      } catch (error) {
        next(error);
      }
    });

    const json = express.json({ limit: this.config.api.maxBodyBytes, type: ['application/json', 'application/*+json'] });
    const limiter = rateLimit({
      windowMs: 60_000,
      limit: this.config.api.rateLimitPerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: (req) => (this.keyring ? `key:${req.caller?.name}` : ipKeyGenerator(req.ip ?? 'unknown')),
      handler: (req, _res, next) => {
        const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
        next(
          new HttpProblem(429, 'Too Many Requests', `rate limit of ${this.config.api.rateLimitPerMinute} requests a minute reached`, {
            'Retry-After': String(seconds),
          }),
        );
      },
    });

    for (const route of ROUTES) {
      const expressPath = route.path.replace(/\{(\w+)\}/g, ':$1');
      app[route.method](
        expressPath,
        (req: Request, _res: Response, next: NextFunction) => {
          if (!this.services) {
            next(new HttpProblem(503, 'Service Unavailable', 'the engine is still loading the interest graph', { 'Retry-After': '5' }));
            return;
          }
          // Failed keys are counted per address before any key is checked (auth-throttle.ts says why).
          const address = ipKeyGenerator(req.ip ?? 'unknown');
          const wait = this.authFailures.retryAfterSeconds(address);
          if (wait > 0) {
            next(
              new HttpProblem(429, 'Too Many Requests', `too many invalid API keys from this address; try again in ${wait} s`, { 'Retry-After': String(wait) }),
            );
            return;
          }
          const key = presentedKey(req.headers);
          try {
            req.caller = authorise(this.keyring, key, route.role);
          } catch (error) {
            if (key !== null && error instanceof HttpProblem && error.status === 401 && this.authFailures.recordFailure(address)) {
              req.log.warn({ address, limit: this.authFailures.limit }, 'too many invalid API keys from one address: its requests are refused for a minute');
            }
            throw error;
          }
          next();
        },
        limiter,
        json,
        async (req: Request, res: Response) => {
          const services = this.services!;
          const params = route.params ? parseWith(route.params, req.params, 'path') : undefined;
          if (route.body && req.body === undefined)
            throw new ValidationError([{ path: 'body', message: 'a JSON body (Content-Type: application/json) is required' }]);
          const body: unknown = route.body && route.parsesBody ? parseWith(route.body, req.body, '') : req.body;
          const query = route.query ? parseWith(route.query, req.query, 'query') : undefined;
          const result = await this.drain.track(() => route.handle(services, { params, query, body, caller: req.caller! }));
          res.status(result.status ?? 200);
          if (result.body === undefined) res.end();
          else res.json(result.body);
        },
      );
    }

    // A path that exists with other methods: 405 and the methods it has (OPTIONS: just those), not 404.
    const methodsByPath = new Map<string, Set<string>>(
      ['/health/live', '/health/ready', '/openapi.json', '/metrics', '/docs', ...Object.keys(PAGES)].map((p) => [p, new Set(['GET', 'HEAD'])]),
    );
    for (const route of ROUTES) {
      const methods = methodsByPath.get(route.path) ?? new Set<string>();
      methods.add(route.method.toUpperCase());
      if (route.method === 'get') methods.add('HEAD');
      methodsByPath.set(route.path, methods);
    }
    for (const [openApiPath, methods] of methodsByPath) {
      const allow = [...methods].sort().join(', ');
      app.all(openApiPath.replace(/\{(\w+)\}/g, ':$1'), (req: Request, res: Response, next: NextFunction) => {
        if (req.method === 'OPTIONS') res.set('Allow', `${allow}, OPTIONS`).status(204).end();
        else next(new HttpProblem(405, 'Method Not Allowed', `${req.method} is not allowed on ${openApiPath}; use ${allow}`, { Allow: allow }));
      });
    }

    app.use((req, _res, next) => next(new HttpProblem(404, 'Not Found', `no route for ${req.method} ${req.path}`)));
    app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
      const { problem, headers, unexpected } = problemOf(error, typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : '');
      // pino-http logs it with the request: one line at error level, with the stack.
      if (unexpected) res.err = error instanceof Error ? error : new Error(String(error));
      res.status(problem.status).set(headers).type('application/problem+json').send(JSON.stringify(problem));
    });
  }
}
