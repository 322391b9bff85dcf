import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net from 'node:net';

/**
 * Graceful shutdown of the HTTP server: every request the server has received is answered, and no
 * connection is cut under a request.
 *
 * - The listening socket closes at once: new connections are refused.
 * - From then on every response not yet begun says `Connection: close`, and Node closes its connection once
 *   it is sent: clients on kept-alive connections go elsewhere instead of holding this server open (Node
 *   keeps them alive after `server.close()` otherwise).
 * - Kept-alive connections that are idle stay open for `idleGraceMs` more. Up to the moment the server
 *   handles the signal it answers with keep-alive, so clients may already have sent their next request on
 *   such a connection; closing it at once (what `http.Server.close()` does) would reset that request unread.
 *   A request that comes in the grace is answered (with `Connection: close`); connections still idle after
 *   it are closed.
 * - Handlers still running (one whose client gave up included) are waited for, so the engine is never
 *   closed under an ingest.
 * - After `deadlineMs` the remaining connections are cut, so that a stuck client cannot hold shutdown open.
 */
export class ShutdownDrain {
  private draining = false;
  private readonly responses = new Set<ServerResponse>();
  private readonly handlers = new Set<Promise<unknown>>();

  /** First middleware: knows each response until it is sent. */
  readonly middleware = (_req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (this.draining) {
      this.closeAfter(res);
    } else {
      this.responses.add(res);
      res.once('close', () => this.responses.delete(res));
    }
    next();
  };

  /** Runs `work` (a route handler) so that the drain waits for it to settle. */
  track<T>(work: () => Promise<T> | T): Promise<T> {
    const running = (async () => work())();
    this.handlers.add(running);
    const settled = () => this.handlers.delete(running);
    running.then(settled, settled);
    return running;
  }

  /** Stops accepting connections and resolves once every request in flight is answered and handled. */
  async close(server: Server, options: { idleGraceMs: number; deadlineMs: number }): Promise<void> {
    this.draining = true;
    for (const res of this.responses) this.closeAfter(res);
    // net.Server's close: stops listening without closing kept-alive connections (http.Server's would).
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
    const grace = setTimeout(() => server.closeIdleConnections(), options.idleGraceMs);
    const deadline = setTimeout(() => server.closeAllConnections(), options.deadlineMs);
    try {
      await closed;
      await Promise.allSettled([...this.handlers]);
    } finally {
      clearTimeout(grace);
      clearTimeout(deadline);
      // http.Server's close now only stops its timeout checker, which net's close left running.
      server.close();
    }
  }

  private closeAfter(res: ServerResponse): void {
    // A response already under way keeps its connection alive; the grace closes that one once it is idle.
    if (!res.headersSent) res.setHeader('Connection', 'close');
  }
}
