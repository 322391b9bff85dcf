import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';

import { ApiServer } from '../../src/api/api-server.ts';
import { loadConfig } from '../../src/config.ts';
import { InterestEngine } from '../../src/engine.ts';
import { type EngineServices, startEngineServices } from '../../src/engine-services.ts';
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
const NARROW = { width: 420, height: 900 };

/** CIE76 colour difference of two #rrggbb colours: about 2.3 is just noticeable, 25 is plainly another colour. */
function deltaE(a: string, b: string): number {
  const lab = (hex: string) => {
    const n = Number.parseInt(hex.slice(1), 16);
    const [r, g, bl] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
    const x = f((r * 0.4124 + g * 0.3576 + bl * 0.1805) / 0.95047);
    const y = f(r * 0.2126 + g * 0.7152 + bl * 0.0722);
    const z = f((r * 0.0193 + g * 0.1192 + bl * 0.9505) / 1.08883);
    return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
  };
  const p = lab(a);
  const q = lab(b);
  return Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
const overlapping = (a: Box, b: Box, slack = 0.5) =>
  a.x + slack < b.x + b.width && b.x + slack < a.x + a.width && a.y + slack < b.y + b.height && b.y + slack < a.y + a.height;

/** Pairs of boxes (with a name each) that overlap, as readable strings. */
function collisions(boxes: Array<Box & { name: string }>): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) if (overlapping(boxes[i]!, boxes[j]!)) found.push(`${boxes[i]!.name} × ${boxes[j]!.name}`);
  return found;
}

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
    let consoleErrors: string[];

    /** A page with the analyst key, failing on page errors, failed or external requests; console errors are kept. */
    async function open(viewport = { width: 1400, height: 900 }): Promise<Page> {
      const context = await browser.newContext({ viewport, acceptDownloads: true });
      // The key as a user would have entered it in the header field (kept in localStorage).
      await context.addInitScript((key) => localStorage.setItem('interest-graph-api-key', key), ANALYST_KEY);
      const opened = await context.newPage();
      opened.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
      opened.on('requestfailed', (request) => assert.fail(`request failed: ${request.url()}`));
      opened.on('request', (request) =>
        assert.ok(
          request.url().startsWith(url) || request.url().startsWith('blob:') || request.url().startsWith('data:'),
          `external request: ${request.url()}`,
        ),
      );
      opened.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(`${opened.url()}: ${message.text()} ${message.location().url}`);
      });
      return opened;
    }

    before(async () => {
      assert.ok(available, `chromium is required under CI: none at ${CHROMIUM}`);
      mkdirSync(SCREENSHOTS, { recursive: true });
      dataDir = mkdtempSync(path.join(tmpdir(), 'browser-'));
      const config = loadConfig({
        env: {
          DATA_DIR: dataDir,
          GNN_DIMS: '16',
          GNN_HEADS: '2',
          GNN_FANOUT: '10',
          GNN_EPOCHS: '2',
          GNN_REFRESH_MINUTES: '0',
          COMMUNITIES_REFRESH_MINUTES: '0',
          API_KEYS: `analyst:${ANALYST_KEY}:analyst`,
        },
      });
      engine = await InterestEngine.open(config, { logger: quiet });
      await engine.upsertItems(data.catalogue());
      for (const batch of data.eventBatches(config.ingest.maxBatchSize)) await engine.ingestEvents(batch);
      services = await startEngineServices(engine, quiet);
      await services.embeddings.trainingSettled();
      api = new ApiServer(config, quiet);
      api.attach({ engine, ...services, lastEvaluation: () => null });
      url = await api.listen(0, '127.0.0.1');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
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
      consoleErrors = [];
      page = await open();
    });
    afterEach(async () => {
      await page.context().close();
    });

    it('serves an index linking both pages, with the graph statistics', async () => {
      await page.goto(`${url}/`);
      assert.equal(await page.getAttribute('#link-explain', 'href'), '/explain');
      assert.equal(await page.getAttribute('#link-explore', 'href'), '/explore');
      await page.waitForFunction(() => document.getElementById('stats')!.textContent.includes('interest communities'));
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
      assert.ok(
        (await first.locator('svg text').allTextContents()).some((t) => /view|click|rating|like|purchase|add_to_cart|has_tag/.test(t)),
        'edges are labelled with their type',
      );
      assert.ok((await page.locator('#recent li').count()) > 0, 'recent interactions');
      assert.match((await page.locator('#profile').textContent()) ?? '', /Interest communities.*%/s);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explain.png'), fullPage: true });
      await page
        .locator('#cards article.card')
        .nth(2)
        .screenshot({ path: path.join(SCREENSHOTS, 'explain-card.png') });

      // What is drawn: every title and label whole (wrapped, never cut with "…"), no two nodes or texts on
      // top of each other, and a trending path's other person away from the subject, on a row of its own.
      // The list as the page asked for it.
      const list = await page.evaluate(
        async ([u, key]) => (await fetch(`/v1/users/${u}/recommendations?count=8&diversity=0.2`, { headers: { authorization: `Bearer ${key}` } })).json(),
        [user, ANALYST_KEY],
      );
      const layout = await page.evaluate(
        ([subject, items]) => {
          return [...document.querySelectorAll('#cards article.card')].map((card, i) => {
            const item = items[i];
            // (No named functions in here: see the explorer test.)
            const circles = [...card.querySelectorAll('circle[data-node]')].map((c) => {
              const { x, y, width, height } = c.getBoundingClientRect();
              return {
                name: c.getAttribute('data-node')!,
                kind: c.getAttribute('data-kind'),
                paths: (c.getAttribute('data-paths') ?? '').split(' '),
                r: Number(c.getAttribute('r')),
                cx: Number(c.getAttribute('cx')),
                cy: Number(c.getAttribute('cy')),
                x,
                y,
                width,
                height,
              };
            });
            const texts = [...card.querySelectorAll('svg text')].map((t) => {
              const { x, y, width, height } = t.getBoundingClientRect();
              return {
                name: `"${t.textContent}"`,
                words: [...t.querySelectorAll('tspan')].map((s) => s.textContent).join(' ') || (t.textContent ?? ''),
                x,
                y,
                width,
                height,
              };
            });
            const labels: string[] = item.paths.flatMap((p: any) => p.nodes.map((n: any) => n.label));
            const trending = item.paths
              .map((p: any, at: number) => (p.kind === 'trending' ? { row: String(at), person: `${p.nodes[0].kind}:${p.nodes[0].id}` } : null))
              .filter((t: unknown) => t !== null);
            return { itemId: item.itemId, text: card.textContent ?? '', circles, texts, labels, trending, subject: `user:${subject}` };
          });
        },
        [user, list.items] as const,
      );
      let trendingChecked = 0;
      for (const card of layout) {
        assert.ok(!card.text.includes('…'), `${card.itemId}: nothing cut short`);
        for (const label of card.labels)
          assert.ok(
            card.texts.some((t) => t.words.replace(/\s+/g, '') === label.replace(/\s+/g, '')),
            `${card.itemId}: "${label}" drawn in full`,
          );
        assert.deepEqual(collisions(card.circles), [], `${card.itemId}: nodes apart`);
        assert.deepEqual(collisions(card.texts), [], `${card.itemId}: labels apart`);
        const subject = card.circles.find((c) => c.name === card.subject);
        for (const { row, person } of card.trending as Array<{ row: string; person: string }>) {
          // The person's node: keyed by the person, on the path's row where rows have nodes of their own.
          const other = card.circles.find((c) => c.name !== card.subject && c.name.endsWith(person) && (c.kind === null || c.paths.includes(row)));
          assert.ok(other, `${card.itemId}: trending path ${row} draws ${person}`);
          if (!subject) continue;
          assert.ok(
            Math.hypot(other.cx - subject.cx, other.cy - subject.cy) > other.r + subject.r + 20,
            `${card.itemId}: ${other.name} drawn away from the subject`,
          );
          trendingChecked++;
        }
      }
      assert.ok(trendingChecked > 0, 'some recommendation has a trending path beside the subject’s own paths');

      // Why (or why not) an item the list did not show.
      const shown = await page.locator('article.card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-item')));
      const other = Array.from({ length: 50 }, (_, i) => data.itemId(i)).find((id) => !shown.includes(id))!;
      await page.fill('#why-item', other);
      await page.click('#explain-item');
      const single = page.locator(`#single article.card[data-item="${other}"]`);
      await single.waitFor({ timeout: 30_000 });
      const said = (await single.textContent()) ?? '';
      assert.match(said, /For user-\d+: (not consumed|already consumed|disliked or dismissed)\./);
      assert.equal(await single.locator('.bar').count(), 4);
      // Where it stands: its rank and the score of the last listed item (the API's standing against the
      // default list where it gives one, else the list on the page), and what kept it out.
      const answer = await page.evaluate(
        async ([u, i, key]) => (await fetch(`/v1/users/${u}/explanations/${i}`, { headers: { authorization: `Bearer ${key}` } })).json(),
        [user, other, ANALYST_KEY],
      );
      if (answer.standing) {
        const { rank, lastListedScore, keptOutBy } = answer.standing;
        assert.ok(said.includes(rank === null ? 'Not ranked' : `Rank ${rank}`), said);
        if (keptOutBy) {
          assert.match(said, /Kept out because \w+/);
          if (lastListedScore !== null) assert.ok(said.includes(lastListedScore.toFixed(3)), said);
        }
      } else {
        const last = list.items.at(-1).score as number;
        assert.ok(said.includes(last.toFixed(3)) && /Not among the \d+ shown|Number \d+ in the list/.test(said), said);
      }
      await single.screenshot({ path: path.join(SCREENSHOTS, 'explain-why-not.png') });
      assert.deepEqual(consoleErrors, []);
    });

    it('draws paths whose other people are anonymised: one node each, none on the subject', async () => {
      await page.goto(`${url}/explain`);
      // The same drawing code the page uses, on a read-role answer: every other person is "someone".
      const drawn = await page.evaluate(async () => {
        // A path only the browser resolves (the page's own script): typed as a plain string, not a module to find.
        const script: string = '/web/path-graph.js';
        const { drawPathGraph, pathGraph } = await import(script);
        const someone = { kind: 'user', id: 'someone', label: 'someone' };
        const subject = { kind: 'user', id: 'user-1', label: 'user-1' };
        const target = { kind: 'item', id: 'item-9', label: 'The Iron Harbour: A Very Long Title That Has To Wrap' };
        const seeds = ['The Iron Giant', 'The Iron Lady Returns To The Sea', 'Iron'].map((label, i) => ({ kind: 'item', id: `item-${i}`, label }));
        const ts = '2025-01-01T00:00:00.000Z';
        const viaSomeone = [
          { from: 0, to: 1, type: 'view', timestamp: ts, weight: 1 },
          { from: 2, to: 1, type: 'like', timestamp: ts, weight: 1 },
          { from: 2, to: 3, type: 'like', timestamp: ts, weight: 1 },
        ];
        const item = {
          itemId: 'item-9',
          title: target.label,
          paths: [
            ...seeds.map((seed) => ({ kind: 'co-interaction', nodes: [subject, seed, someone, target], edges: viaSomeone, weight: 0.2, sentence: '' })),
            { kind: 'trending', nodes: [someone, target], edges: [{ from: 0, to: 1, type: 'purchase', timestamp: ts, weight: 1 }], weight: 0.1, sentence: '' },
          ],
        };
        const box = document.createElement('div');
        box.className = 'path-graph';
        box.style.width = '400px';
        document.body.append(box);
        drawPathGraph(box, pathGraph(item, 'user:user-1'));
        return {
          circles: [...box.querySelectorAll('circle')].map((c) => {
            const { x, y, width, height } = c.getBoundingClientRect();
            return { name: c.getAttribute('data-node')!, id: c.getAttribute('data-id'), x, y, width, height };
          }),
          texts: [...box.querySelectorAll('text')].map((t) => {
            const { x, y, width, height } = t.getBoundingClientRect();
            return { name: `"${t.textContent}"`, x, y, width, height };
          }),
          lines: box.querySelectorAll('line').length,
          width: box.scrollWidth,
        };
      });
      assert.equal(drawn.circles.filter((c) => c.id === 'someone').length, 4, 'each path’s person is a node of its own');
      assert.equal(drawn.circles.length, 1 + 3 + 4 + 1);
      assert.equal(drawn.lines, 3 * 3 + 1);
      assert.deepEqual(collisions(drawn.circles), []);
      assert.deepEqual(collisions(drawn.texts), []);
      assert.ok(drawn.width <= 400, 'drawn within its box');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explain-anonymised.png'), fullPage: true });
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
      // The labels sigma drew in that frame: on the canvas, none over another.
      const labels = await page.evaluate(() => {
        const { renderer } = (window as any).explorer;
        return { boxes: renderer.labels.boxes.map((b: any) => ({ name: b.key, x: b.x, y: b.y, width: b.w, height: b.h })), ...renderer.getDimensions() };
      });
      assert.ok(labels.boxes.length >= 5, `${labels.boxes.length} labels drawn`);
      for (const b of labels.boxes)
        assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= labels.width && b.y + b.height <= labels.height, `label of ${b.name} inside the canvas`);
      assert.deepEqual(collisions(labels.boxes), []);

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

      // A path to another user walks an edge backwards (user → item ← user): the summary's arrows point the
      // way each edge does.
      const person = await page.evaluate(
        (start) => (window as any).explorer.graph.nodes().find((n: string) => n.startsWith('user:') && n !== start),
        `user:${user}`,
      );
      assert.ok(person, 'the expanded item brought other users');
      const before2 = (await page.locator('#path-result').textContent()) ?? '';
      await page.fill('#path-to', person);
      await page.click('#find-path');
      await page.waitForFunction((previous) => document.getElementById('path-result')!.textContent !== previous, before2, { timeout: 30_000 });
      const summary = (await page.locator('#path-result').textContent()) ?? '';
      const found = await page.evaluate(
        async ([from, to, key]) =>
          (
            await fetch(`/v1/graph/paths?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&maxLength=4&limit=3`, {
              headers: { authorization: `Bearer ${key}` },
            })
          ).json(),
        [`user:${user}`, person, ANALYST_KEY],
      );
      const first = found.paths[0];
      const expected = first.edges.map((e: { source: string }, i: number) => (e.source === first.nodes[i].key ? '→' : '←'));
      assert.ok(expected.includes('←'), 'the path has an edge against its direction of travel');
      assert.deepEqual(summary.match(/[→←]/g), expected, summary);
      for (const e of first.edges) assert.ok(summary.includes(e.type), `the summary names the ${e.type} edge`);

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
      assert.deepEqual(consoleErrors, []);
    });

    it('draws a neighbourhood of a few thousand nodes', async () => {
      await page.goto(`${url}/explore?node=user:${data.userId(1)}`);
      await page.waitForFunction(() => (window as any).explorer?.graph.order > 1, undefined, { timeout: 30_000 });
      // 3,000 more nodes and 6,000 edges through the page's own add path (the demo graph is too small to
      // have such a neighbourhood), then one frame.
      const drawn = await page.evaluate(() => {
        const { add, graph, renderer } = (window as any).explorer;
        const centre = graph.nodes()[0];
        const nodes = Array.from({ length: 3000 }, (_, i) => ({
          key: `item:bulk-${i}`,
          kind: 'item',
          id: `bulk-${i}`,
          label: `Bulk ${i}`,
          community: i % 12,
          degree: 1 + (i % 50),
        }));
        const edges = Array.from({ length: 6000 }, (_, i) => ({
          key: `bulk-e${i}`,
          source: centre,
          target: nodes[(i * 7) % 3000]!.key,
          type: 'view',
          ts: '2025-01-01T00:00:00.000Z',
          weight: 0.1,
        }));
        const started = performance.now();
        add(nodes, edges, centre);
        return new Promise<{ order: number; displayed: number; ms: number }>((resolve) =>
          requestAnimationFrame(() =>
            resolve({
              order: graph.order,
              displayed: graph.nodes().filter((n: string) => renderer.getNodeDisplayData(n)).length,
              ms: performance.now() - started,
            }),
          ),
        );
      });
      assert.ok(drawn.order > 3000);
      assert.equal(drawn.displayed, drawn.order);
      process.stdout.write(`      (${drawn.order} nodes added and drawn in ${Math.round(drawn.ms)} ms)\n`);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explore-large.png') });
    });

    it('opens the explorer on the communities as a map, with a legend whose colours are not the tags’ gold', async () => {
      await page.goto(`${url}/explore`);
      await page.waitForFunction(() => (window as any).explorer?.graph.order > 0 && !document.getElementById('graph-hint')!.hidden, undefined, {
        timeout: 30_000,
      });
      await page.waitForFunction(() => new Promise((resolve) => requestAnimationFrame(() => resolve(true))));
      const map = await page.evaluate(() => {
        const { graph, renderer } = (window as any).explorer;
        return {
          communities: graph.nodes().filter((n: string) => n.startsWith('community:')),
          items: graph
            .nodes()
            .filter((n: string) => n.startsWith('item:'))
            .map((n: string) => ({ community: graph.getNodeAttribute(n, 'view').community, colour: renderer.getNodeDisplayData(n).color })),
          hint: document.getElementById('graph-hint')!.textContent,
          example: document.querySelector('#graph-hint button')?.textContent ?? null,
          legend: [...document.querySelectorAll('#legend [data-colour]')].map((e) => ({
            community: e.getAttribute('data-community'),
            kind: e.getAttribute('data-kind'),
            colour: e.getAttribute('data-colour')!,
            text: e.textContent,
          })),
          boxes: renderer.labels.boxes.map((b: any) => ({ name: b.key, x: b.x, y: b.y, width: b.w, height: b.h })),
          ...renderer.getDimensions(),
        };
      });
      assert.ok(
        map.communities.length >= 2 && map.items.length >= map.communities.length,
        `${map.communities.length} communities, ${map.items.length} items drawn`,
      );
      assert.match(map.hint ?? '', /Click an item/);
      assert.ok(map.example, 'an example to search for');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'explore-map.png') });

      const legend = map.legend as Array<{ community: string | null; kind: string | null; colour: string; text: string | null }>;
      const tag = legend.find((l) => l.kind === 'tag')!.colour;
      const communities = legend.filter((l) => l.community !== null);
      assert.equal(communities.length, Math.min(10, map.communities.length), 'a legend entry per community (up to the palette’s size)');
      for (const c of communities) {
        assert.ok(deltaE(c.colour, tag) >= 25, `community ${c.text} (${c.colour}) is not the tags' ${tag}`);
        for (const k of legend.filter((l) => l.kind))
          assert.ok(deltaE(c.colour, k.colour) >= 20, `community ${c.text} (${c.colour}) apart from ${k.kind} (${k.colour})`);
        for (const d of communities) if (d !== c) assert.ok(deltaE(c.colour, d.colour) >= 20, `${c.text} and ${d.text} apart`);
      }
      // The legend tells the truth: each item is drawn in its community's legend colour.
      for (const item of map.items as Array<{ community: number; colour: string }>) {
        const entry = communities.find((c) => Number(c.community) === item.community);
        if (entry) assert.equal(item.colour, entry.colour);
      }
      for (const c of map.communities)
        assert.ok(
          map.boxes.some((b: { name: string }) => b.name === c),
          `${c} labelled`,
        );
      for (const b of map.boxes)
        assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= map.width && b.y + b.height <= map.height, `label of ${b.name} inside the canvas`);
      assert.deepEqual(collisions(map.boxes), []);

      // The example search finds something; clicking an item of the map draws its neighbourhood instead.
      await page.click('#graph-hint button');
      await page.waitForFunction(() => document.querySelectorAll('#results li[data-key]').length > 0, undefined, { timeout: 30_000 });
      const target = await page.evaluate(
        () =>
          new Promise<{ node: string; x: number; y: number }>((resolve) =>
            requestAnimationFrame(() => {
              const { graph, renderer } = (window as any).explorer;
              const node = graph.nodes().find((n: string) => n.startsWith('item:'));
              resolve({ node, ...renderer.graphToViewport(graph.getNodeAttributes(node)) });
            }),
          ),
      );
      const box = (await page.locator('#graph').boundingBox())!;
      await page.mouse.click(box.x + target.x, box.y + target.y);
      await page.waitForFunction((node) => (window as any).explorer.expanded.has(node), target.node, { timeout: 30_000 });
      const after = await page.evaluate(() => ({
        communities: (window as any).explorer.graph.nodes().filter((n: string) => n.startsWith('community:')).length,
        hint: document.getElementById('graph-hint')!.hidden,
      }));
      assert.deepEqual(after, { communities: 0, hint: true });
      assert.deepEqual(consoleErrors, []);
    });

    it('loads every page with no console errors, the favicon included', async () => {
      for (const target of ['/', `/explain?user=${data.userId(7)}`, '/explore', `/explore?node=user:${data.userId(3)}`]) {
        await page.goto(`${url}${target}`, { waitUntil: 'networkidle' });
      }
      assert.deepEqual(consoleErrors, []);
      // What browsers ask for by themselves, and what the pages link.
      const icons = await page.evaluate(async () =>
        Promise.all(
          ['/favicon.ico', document.querySelector('link[rel="icon"]')?.getAttribute('href') ?? '/missing-icon-link'].map(async (href) => {
            const response = await fetch(href);
            return { href, status: response.status, type: response.headers.get('content-type') ?? '' };
          }),
        ),
      );
      for (const icon of icons) assert.ok(icon.status === 200 && icon.type.startsWith('image/'), `${icon.href}: ${icon.status} ${icon.type}`);
    });

    it('fits a 420 px wide screen: no sideways scrolling on any page', async () => {
      const narrow = await open(NARROW);
      try {
        const pages = [
          // Functions, not expression strings: a string is eval'd in the page at each poll, which the pages'
          // Content-Security-Policy refuses (it showed when the page was not ready at the first look).
          { name: 'index', at: '/', ready: () => document.getElementById('stats')!.textContent.includes('interest communities') },
          { name: 'explain', at: `/explain?user=${data.userId(7)}`, ready: () => (window as any).explanations?.graphs?.length > 0 },
          { name: 'explore-map', at: '/explore', ready: () => (window as any).explorer?.graph.order > 0 },
          { name: 'explore', at: `/explore?node=user:${data.userId(3)}`, ready: () => (window as any).explorer?.expanded.size > 0 },
        ];
        for (const { name, at, ready } of pages) {
          await narrow.goto(`${url}${at}`);
          await narrow.waitForFunction(ready, undefined, { timeout: 60_000 });
          const widths = await narrow.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: innerWidth }));
          await narrow.screenshot({ path: path.join(SCREENSHOTS, `${name}-420.png`) });
          if (name === 'explain')
            await narrow
              .locator('#cards article.card')
              .nth(2)
              .screenshot({ path: path.join(SCREENSHOTS, 'explain-card-420.png') });
          assert.ok(widths.scroll <= widths.inner, `${name}: ${widths.scroll} px of content in a ${widths.inner} px window`);
        }
      } finally {
        await narrow.context().close();
      }
      assert.deepEqual(consoleErrors, []);
    });
  });
}
