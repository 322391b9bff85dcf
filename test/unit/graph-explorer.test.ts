import assert from 'node:assert/strict';

import { InterestGraph } from '../../graph/interest-graph.ts';
import { EdgeTypeCode } from '../../graph/model.ts';
import { ItemCatalogue } from '../../src/catalogue/item-catalogue.ts';
import { loadConfig } from '../../src/config.ts';
import { GraphExplorer } from '../../src/exploration/graph-explorer.ts';

const config = loadConfig({ env: {} });

function explorerOf(graph: InterestGraph): GraphExplorer {
  return new GraphExplorer({
    graph,
    catalogue: new ItemCatalogue(),
    weightPolicy: config.weightPolicy,
    decayReference: () => graph.latestTimestamp,
    communityOf: () => undefined,
  });
}

describe('graph explorer', () => {
  it('finds distinct routes, not one route repeated over parallel edges', () => {
    const graph = new InterestGraph();
    const [u1, u2, u3, a, t] = [
      graph.addNode('user', 'u1'),
      graph.addNode('user', 'u2'),
      graph.addNode('user', 'u3'),
      graph.addNode('item', 'A'),
      graph.addNode('item', 'T'),
    ];
    graph.addEdge(u1, a, EdgeTypeCode.like, 1, 0.8);
    for (const user of [u2, u3]) {
      for (const type of ['view', 'click', 'like', 'purchase'] as const) {
        graph.addEdge(user, a, EdgeTypeCode[type], 2, 0.5);
        graph.addEdge(user, t, EdgeTypeCode[type], 3, 0.5);
      }
    }
    const paths = explorerOf(graph).paths({ kind: 'user', id: 'u1' }, { kind: 'item', id: 'T' }, { maxLength: 4, limit: 5 });
    const routes = new Set(paths.map((p) => p.nodes.map((n) => n.key).join(' > ')));
    assert.deepEqual([...routes].sort(), ['user:u1 > item:A > user:u2 > item:T', 'user:u1 > item:A > user:u3 > item:T']);
    assert.equal(paths.length, routes.size, 'each route once');
  });

  it('pages a neighbourhood after the last edge sent, so new edges do not repeat or skip any', () => {
    const graph = new InterestGraph();
    const item = graph.addNode('item', 'i');
    for (let u = 0; u < 5; u++) graph.addEdge(graph.addNode('user', `u${u}`), item, EdgeTypeCode.view, 100 + u, 0.1);
    const explorer = explorerOf(graph);
    const first = explorer.neighbourhood('item', 'i', { limit: 2 });
    assert.deepEqual(
      first.nodes.map((n) => n.id),
      ['u4', 'u3'],
    );
    graph.addEdge(graph.addNode('user', 'late'), item, EdgeTypeCode.view, 200, 0.1);
    const second = explorer.neighbourhood('item', 'i', { limit: 2, cursor: first.nextCursor! });
    assert.deepEqual(
      second.nodes.map((n) => n.id),
      ['u2', 'u1'],
    );
    const third = explorer.neighbourhood('item', 'i', { limit: 2, cursor: second.nextCursor! });
    assert.deepEqual([third.nodes.map((n) => n.id), third.nextCursor], [['u0'], null]);
  });

  it('returns at most `limit` search results, exact id matches first', () => {
    const graph = new InterestGraph();
    for (const kind of ['user', 'item', 'tag', 'session'] as const) graph.addNode(kind, 'x');
    const explorer = explorerOf(graph);
    assert.equal(explorer.search('x', 1).length, 1);
    assert.equal(explorer.search('x', 10, ['user', 'user']).length, 1);
  });
});
