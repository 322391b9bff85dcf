import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ApiServer } from '../../src/api/api-server.ts';
import { loadConfig } from '../../src/config.ts';
import { startEngineServices, type EngineServices } from '../../src/engine-services.ts';
import { InterestEngine } from '../../src/engine.ts';
import { generateSyntheticDataset } from '../../src/synthetic/synthetic-dataset.ts';

/**
 * The pages in a real browser: Debian's chromium driven by playwright-core, against a real server with
 * synthetic demo data and a trained GAT. Screenshots go to .artifacts/screenshots/. Without chromium the
 * suite is skipped with a message, except under CI (CI=1), where a missing browser is a failure.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('.artifacts/screenshots');
const ANALYST_KEY = 'browser-analyst-key-0123456789';
const quiet = pino({ level: 'silent' });

const available = existsSync(CHROMIUM);
if (!available && !process.env.CI) {
  describe('pages in a real browser', () => {
    before(() => process.stdout.write(`  browser tests SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`));
    it('run when Debian chromium is installed');
  });
} else {
  describe('pages in a real browser', function () {
    this.timeout(180_000);
    const data = generateSyntheticDataset({ seed: 11, edges: 12_000, users: 300, items: 400, topics: 6, sessionShare: 0.05 });
    let dataDir: string;
    let engine: InterestEngine;
    let services: EngineServices;
    let api: ApiServer;
    let url: string;
    let browser: Browser;
    let page: Page;

    before(async () => {
      assert.ok(available, `chromium is required under CI: none at ${CHROMIUM}`);
      mkdirSync(SCREENSHOTS, { recursive: true });
      dataDir = mkdtempSync(path.join(tmpdir(), 'browser-'));
      const config = loadConfig({
        env: { DATA_DIR: dataDir, GNN_DIMS: '16', GNN_HEADS: '2', GNN_FANOUT: '10', GNN_EPOCHS: '2', GNN_REFRESH_MINUTES: '0', COMMUNITIES_REFRESH_MINUTES: '0', API_KEYS: `analyst:${ANALYST_KEY}:analyst` },
      });
      engine = await InterestEngine.open(config, { logger: quiet });
      await engine.upsertItems(data.catalogue());
      for (const batch of data.eventBatches(config.ingest.maxBatchSize)) await engine.ingestEvents(batch);
      services = await startEngineServices(engine, quiet);
      api = new ApiServer(config, quiet);
      api.attach({ engine, ...services, lastEvaluation: () => null });
      url = await api.listen(0, '127.0.0.1');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
    });
    after(async () => {
      await browser?.close();
      await api?.close();
      await services?.close();
      await engine?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
      // The key as a user would have entered it in the header field (kept in localStorage).
      await context.addInitScript((key) => localStorage.setItem('interest-graph-api-key', key), ANALYST_KEY);
      page = await context.newPage();
      page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
      page.on('requestfailed', (request) => assert.fail(`request failed: ${request.url()}`));
      page.on('request', (request) => assert.ok(request.url().startsWith(url) || request.url().startsWith('blob:') || request.url().startsWith('data:'), `external request: ${request.url()}`));
    });
    afterEach(async () => {
      await page.context().close();
    });

    it('serves an index linking both pages, with the graph statistics', async () => {
      await page.goto(`${url}/`);
      assert.equal(await page.getAttribute('#link-explain', 'href'), '/explain');
      assert.equal(await page.getAttribute('#link-explore', 'href'), '/explore');
      await page.waitForFunction(() => document.getElementById('stats')!.textContent!.includes('interest communities'));
      await page.screenshot({ path: path.join(SCREENSHOTS, 'index.png'), fullPage: true });
    });

    it('explains a user’s recommendations with path graphs, sentences, score bars and the interest profile', async () => {
      const user = data.userId(7);
      await page.goto(`${url}/explain?user=${user}`);
      await page.waitForFunction(() => (window as any).explanations?.graphs?.length > 0, undefined, { timeout: 60_000 });
      const drawn = await page.evaluate(() => {
        const state = (window as any).explanations;
        const cards = [...document.querySelectorAll('article.card .path-graph')];
        return state.graphs.map((g: any, i: number) => ({
          nodes: g.order,
          edges: g.size,
          // What is on screen, not only in the model: one circle per node, one line per edge.
          displayed: cards[i]!.querySelectorAll('circle[data-node]').length,
          lines: cards[i]!.querySelectorAll('line[data-edge]').length,
        }));
      });
      assert.ok(drawn.length >= 3, `${drawn.length} recommendations`);
      for (const graph of drawn) {
        assert.ok(graph.nodes >= 2 && graph.edges >= 1, 'each recommendation has a path graph');
        assert.equal(graph.displayed, graph.nodes);
        assert.equal(graph.lines, graph.edges);
      }
      const first = page.locator('article.card').first();
      assert.match((await first.locator('.because').textContent()) ?? '', /\w+/);
      assert.equal(await first.locator('.bar').count(), 4, 'score by source');
      assert.ok((await first.locator('.paths li').count()) >= 1);
      assert.ok((await first.locator('svg text').allTextContents()).some((t) => /view|click|rating|like|purchase|add_to_cart|has_tag/.test(t)), 'edges are labelled with their type');
      assert.ok((await page.locator('#recent li').count()) > 0, 'recent interactions');
      assert.match((await page.locator('#profile').textContent()) ?? '', /Interest communities.*%/s);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explain.png'), fullPage: true });

      // Why (or why not) an item the list did not show.
      const shown = await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-item')));
      const other = Array.from({ length: 50 }, (_, i) => data.itemId(i)).find((id) => !shown.includes(id))!;
      await page.fill('#why-item', other);
      await page.click('#explain-item');
      const single = page.locator(`#single article.card[data-item="${other}"]`);
      await single.waitFor({ timeout: 30_000 });
      assert.match((await single.textContent()) ?? '', /For user-\d+: (not consumed|already consumed|disliked or dismissed)\./);
      assert.equal(await single.locator('.bar').count(), 4);
    });

    it('explores a neighbourhood: renders it, expands a node on click, highlights a path, exports', async () => {
      const user = data.userId(3);
      await page.goto(`${url}/explore?node=user:${user}`);
      await page.waitForFunction(() => (window as any).explorer?.graph.order > 1, undefined, { timeout: 30_000 });
      const before = await page.evaluate(() => (window as any).explorer.graph.order);
      // Click an item drawn around the user, the one farthest from any other node (so the click cannot
      // land on a neighbour): sigma gives positions on screen, after the frame that drew them.
      const target = await page.evaluate(
        () =>
          new Promise<{ node: string; x: number; y: number }>((resolve) =>
            requestAnimationFrame(() => {
              const { graph, renderer } = (window as any).explorer;
              // (No named functions in here: the test runner's transpiler would wrap them in a helper the page lacks.)
              const all = graph.nodes().map((n: string) => ({ n, ...renderer.graphToViewport(graph.getNodeAttributes(n)) }));
              let best = { node: '', x: 0, y: 0, room: -1 };
              for (const p of all.filter((q: { n: string }) => q.n.startsWith('item:'))) {
                const room = Math.min(...all.filter((q: { n: string }) => q.n !== p.n).map((q: { x: number; y: number }) => Math.hypot(q.x - p.x, q.y - p.y)));
                if (room > best.room) best = { node: p.n, x: p.x, y: p.y, room };
              }
              resolve(best);
            }),
          ),
      );
      const box = (await page.locator('#graph').boundingBox())!;
      await page.mouse.click(box.x + target.x, box.y + target.y);
      await page.waitForFunction((node) => (window as any).explorer.expanded.has(node), target.node, { timeout: 30_000 });
      const after = await page.evaluate(() => (window as any).explorer.graph.order);
      assert.ok(after > before, `clicking ${target.node} added its neighbours (${before} → ${after})`);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explore-expanded.png') });

      // A path from the user to a tag of the clicked item: user → item → tag.
      const far = await page.evaluate(() => (window as any).explorer.graph.nodes().find((n: string) => n.startsWith('tag:')));
      assert.ok(far, 'the expanded item brought its tags');
      await page.fill('#path-from', `user:${user}`);
      await page.fill('#path-to', far);
      await page.click('#find-path');
      await page.waitForFunction(() => (window as any).explorer.highlightedEdges.size > 0, undefined, { timeout: 30_000 });
      const highlight = await page.evaluate(() => {
        const { graph, highlighted, highlightedEdges, renderer } = (window as any).explorer;
        return {
          nodes: [...highlighted],
          edges: [...highlightedEdges].every((e: string) => graph.hasEdge(e)),
          red: [...highlightedEdges].every((e: string) => renderer.getEdgeDisplayData(e)?.color === '#d62728'),
        };
      });
      assert.ok(highlight.nodes.includes(`user:${user}`) && highlight.nodes.includes(far));
      assert.ok(highlight.edges && highlight.red, 'path edges are in the graph and drawn highlighted');
      assert.match((await page.locator('#path-result').textContent()) ?? '', /path/);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explore-path.png') });

      // Edge-type filter hides edges in the renderer without refetching.
      await page.locator('#types input[value="has_tag"]').uncheck();
      await page.mouse.click(box.x + 5, box.y + 5); // clear the highlight
      const hiddenTags = await page.evaluate(() => {
        const { graph, renderer } = (window as any).explorer;
        const tagEdges = graph.edges().filter((e: string) => graph.getEdgeAttribute(e, 'view').type === 'has_tag');
        return tagEdges.length === 0 || tagEdges.every((e: string) => renderer.getEdgeDisplayData(e)?.hidden);
      });
      assert.ok(hiddenTags);

      const download = page.waitForEvent('download');
      await page.click('#export-gexf');
      const file = await download;
      const saved = path.join(SCREENSHOTS, 'explore.gexf');
      await file.saveAs(saved);
      assert.ok(existsSync(saved));
    });

    it('draws a neighbourhood of a few thousand nodes', async () => {
      await page.goto(`${url}/explore?node=user:${data.userId(1)}`);
      await page.waitForFunction(() => (window as any).explorer?.graph.order > 1, undefined, { timeout: 30_000 });
      // 3,000 more nodes and 6,000 edges through the page's own add path (the demo graph is too small to
      // have such a neighbourhood), then one frame.
      const drawn = await page.evaluate(() => {
        const { add, graph, renderer } = (window as any).explorer;
        const centre = graph.nodes()[0];
        const nodes = Array.from({ length: 3000 }, (_, i) => ({ key: `item:bulk-${i}`, kind: 'item', id: `bulk-${i}`, label: `Bulk ${i}`, community: i % 12, degree: 1 + (i % 50) }));
        const edges = Array.from({ length: 6000 }, (_, i) => ({ key: `bulk-e${i}`, source: centre, target: nodes[(i * 7) % 3000]!.key, type: 'view', ts: '2025-01-01T00:00:00.000Z', weight: 0.1 }));
        const started = performance.now();
        add(nodes, edges, centre);
        return new Promise<{ order: number; displayed: number; ms: number }>((resolve) =>
          requestAnimationFrame(() => resolve({ order: graph.order, displayed: graph.nodes().filter((n: string) => renderer.getNodeDisplayData(n)).length, ms: performance.now() - started })),
        );
      });
      assert.ok(drawn.order > 3000);
      assert.equal(drawn.displayed, drawn.order);
      process.stdout.write(`      (${drawn.order} nodes added and drawn in ${Math.round(drawn.ms)} ms)\n`);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explore-large.png') });
    });
  });
}
