import { api, communityColour, fill, EDGE_COLOURS, el, keyField, KIND_COLOURS, nodeColour, PALETTE_SIZE, renderGraph, showStatus } from './common.js';

// The analyst's explorer: a node's neighbourhood drawn with graphology + sigma, grown by clicking nodes,
// coloured by community, filtered by edge type and time window (in the renderer, so nothing is refetched),
// paths between two nodes highlighted, and the view exported as GEXF or JSON. Opened without a node, it
// shows the interest communities as a map (each with its most liked items) to start from.
const graph = new graphology.MultiDirectedGraph();
const renderer = renderGraph(document.getElementById('graph'), graph, {
  nodeReducer: (key, attributes) => reduceNode(key, attributes),
  edgeReducer: (key, attributes) => reduceEdge(key, attributes),
});
const state = {
  graph,
  renderer,
  mode: 'graph',
  communities: null,
  expanded: new Set(),
  highlighted: new Set(),
  highlightedEdges: new Set(),
  types: new Set(Object.keys(EDGE_COLOURS)),
};
window.explorer = state;
// For scripted use (and the browser tests): the same paths the clicks take.
Object.assign(state, { expand, findPath, showMap, add: (nodes, edges, centre) => (addNodes(nodes, centre), addEdges(edges), renderer.refresh()) });

function reduceNode(key, attributes) {
  const colour = nodeColour(attributes.view, document.getElementById('by-community').checked);
  if (state.highlighted.size > 0 && !state.highlighted.has(key)) return { ...attributes, color: '#dcdcdc', label: null, zIndex: 0 };
  return { ...attributes, color: colour, highlighted: state.highlighted.has(key), zIndex: 1 };
}

function reduceEdge(key, attributes) {
  const since = document.getElementById('since').valueAsNumber;
  const until = document.getElementById('until').valueAsNumber;
  const ts = Date.parse(attributes.view.ts);
  // The map's community → item lines are not interactions: no type or time filter applies to them.
  if (attributes.view.type === 'member') return attributes;
  const hidden = !state.types.has(attributes.view.type) || (Number.isFinite(since) && ts < since) || (Number.isFinite(until) && ts > until + 86_399_999);
  if (state.highlightedEdges.size > 0) {
    return state.highlightedEdges.has(key)
      ? { ...attributes, hidden: false, color: '#d62728', size: 4, zIndex: 2 }
      : { ...attributes, hidden, color: '#eeeeee' };
  }
  return { ...attributes, hidden };
}

/**
 * Adds nodes on a circle (growing with their number) beside `centre`, pushed outwards from the middle of
 * the drawing so that an expansion does not land on the rings already drawn; nodes already drawn stay.
 */
function addNodes(nodes, centre) {
  const fresh = nodes.filter((n) => !graph.hasNode(n.key));
  const anchor = centre && graph.hasNode(centre) ? graph.getNodeAttributes(centre) : { x: 0, y: 0 };
  const radius = 1 + Math.sqrt(fresh.length) * 0.6;
  const away = Math.hypot(anchor.x, anchor.y);
  const origin = away > 0 ? { x: anchor.x * (1 + radius / away), y: anchor.y * (1 + radius / away) } : anchor;
  const turn = graph.order * 0.618;
  if (!centre && fresh.length === 1) {
    // The first node of a drawing sits in the middle.
    graph.addNode(fresh[0].key, { x: 0, y: 0, size: 3 + Math.min(9, Math.log2(1 + fresh[0].degree)), label: fresh[0].label, view: fresh[0] });
    return;
  }
  fresh.forEach((n, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, fresh.length) + turn;
    graph.addNode(n.key, {
      x: origin.x + radius * Math.cos(angle),
      y: origin.y + radius * Math.sin(angle),
      size: 3 + Math.min(9, Math.log2(1 + n.degree)),
      label: n.label,
      view: n,
    });
  });
}

function addEdges(edges) {
  for (const e of edges) {
    if (graph.hasEdge(e.key) || !graph.hasNode(e.source) || !graph.hasNode(e.target)) continue;
    graph.addEdgeWithKey(e.key, e.source, e.target, {
      color: EDGE_COLOURS[e.type] ?? '#999',
      size: e.type === 'has_tag' ? 1 : 1 + Math.min(3, Math.abs(e.weight) * 2),
      type: 'arrow',
      view: e,
    });
  }
}

function nodePath(key) {
  const colon = key.indexOf(':');
  return `/v1/graph/nodes/${encodeURIComponent(key.slice(0, colon))}/${encodeURIComponent(key.slice(colon + 1))}/neighbourhood`;
}

async function expand(key) {
  if (key.indexOf(':') <= 0) {
    showStatus(`"${key}" is not a node: use kind:id, e.g. user:42 or item:7`, 'error');
    return;
  }
  const limit = document.getElementById('limit').value;
  showStatus(`loading the neighbourhood of ${key}…`);
  try {
    const page = await api(`${nodePath(key)}?limit=${limit}`);
    if (state.mode === 'map') leaveMap();
    if (!graph.hasNode(page.node.key)) addNodes([page.node], null);
    addNodes(page.nodes, page.node.key);
    addEdges(page.edges);
    state.expanded.add(page.node.key);
    select(page.node.key);
    history.replaceState(null, '', `/explore?node=${encodeURIComponent(page.node.key)}`);
    showStatus(
      `${graph.order} nodes, ${graph.size} edges (${page.node.key}: ${page.edges.length} of ${page.total} edges${page.nextCursor !== null ? '; raise "neighbours per node" for more' : ''})`,
    );
  } catch (error) {
    showStatus(error.message, 'error');
  }
}

function select(key) {
  const view = graph.getNodeAttribute(key, 'view');
  const box = document.getElementById('selected');
  if (view.kind === 'community') {
    selectCommunity(view);
    return;
  }
  fill(
    box,
    el('h2', {}, view.label),
    el('p', {}, `${view.kind} ${view.id} · degree ${view.degree}${view.community !== null ? ` · community #${view.community}` : ''}`),
    view.kind === 'user' ? el('p', {}, el('a', { href: `/explain?user=${encodeURIComponent(view.id)}` }, 'why these recommendations')) : null,
  );
  if (!document.getElementById('path-from').value) document.getElementById('path-from').value = key;
  else document.getElementById('path-to').value = key;
}

async function findPath(from, to) {
  const result = document.getElementById('path-result');
  try {
    const { paths } = await api(`/v1/graph/paths?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&maxLength=4&limit=3`);
    if (state.mode === 'map' && paths.length > 0) leaveMap();
    state.highlighted = new Set();
    state.highlightedEdges = new Set();
    for (const path of paths) {
      addNodes(path.nodes, from);
      addEdges(path.edges);
      for (const n of path.nodes) state.highlighted.add(n.key);
      for (const e of path.edges) state.highlightedEdges.add(e.key);
    }
    result.textContent =
      paths.length === 0 ? 'No path of up to 4 edges.' : `${paths.length} path(s) of ${paths[0].edges.length} edge(s): ${pathSummary(paths[0])}`;
    renderer.refresh();
  } catch (error) {
    result.textContent = error.message;
  }
}

/** "A –view→ B ←like– C": each arrow points the way its edge does (a path may walk an edge backwards). */
function pathSummary(path) {
  return path.nodes
    .map((node, i) => {
      if (i === 0) return node.label;
      const edge = path.edges[i - 1];
      return `${edge.source === path.nodes[i - 1].key ? ` –${edge.type}→ ` : ` ←${edge.type}– `}${node.label}`;
    })
    .join('');
}

function download(name, type, text) {
  const link = el('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// Escaped for attributes; characters XML 1.0 forbids (most control characters) are dropped.
const xml = (value) =>
  String(value)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);

/** The view as GEXF 1.3 (Gephi and others), with kind, community, edge type, time and weight. */
function gexf() {
  const nodes = graph.mapNodes(
    (key, a) =>
      `<node id="${xml(key)}" label="${xml(a.label ?? key)}"><attvalues><attvalue for="kind" value="${xml(a.view.kind)}"/><attvalue for="community" value="${a.view.community ?? -1}"/></attvalues><viz:position x="${a.x}" y="${a.y}" z="0"/><viz:size value="${a.size}"/></node>`,
  );
  const edges = graph.mapEdges(
    (key, a, source, target) =>
      `<edge id="${xml(key)}" source="${xml(source)}" target="${xml(target)}" weight="${Math.abs(a.view.weight)}"><attvalues><attvalue for="type" value="${a.view.type}"/><attvalue for="ts" value="${a.view.ts}"/></attvalues></edge>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" version="1.3">
<graph defaultedgetype="directed">
<attributes class="node"><attribute id="kind" title="kind" type="string"/><attribute id="community" title="community" type="integer"/></attributes>
<attributes class="edge"><attribute id="type" title="type" type="string"/><attribute id="ts" title="time" type="string"/></attributes>
<nodes>${nodes.join('\n')}</nodes>
<edges>${edges.join('\n')}</edges>
</graph>
</gexf>
`;
}

async function search(text) {
  const list = document.getElementById('results');
  try {
    const { nodes } = await api(`/v1/graph/search?limit=20&q=${encodeURIComponent(text)}`);
    list.replaceChildren(
      ...nodes.map((n) => {
        const item = el('li', { 'data-key': n.key }, `${n.kind}: ${n.label}${n.label !== n.id ? ` (${n.id})` : ''}`);
        item.addEventListener('click', () => expand(n.key));
        return item;
      }),
    );
    if (nodes.length === 0) list.replaceChildren(el('li', {}, 'nothing found'));
  } catch (error) {
    showStatus(error.message, 'error');
  }
}

function typeFilters() {
  const box = document.getElementById('types');
  for (const type of Object.keys(EDGE_COLOURS)) {
    const input = el('input', { type: 'checkbox', checked: true, value: type });
    input.addEventListener('change', () => {
      if (input.checked) state.types.add(type);
      else state.types.delete(type);
      renderer.refresh();
    });
    box.append(el('label', { style: { color: EDGE_COLOURS[type] } }, input, type));
  }
}

function communityName(c) {
  return `#${c.id} ${c.topTags
    .slice(0, 2)
    .map((t) => t.tag)
    .join(', ')}`.trim();
}

/**
 * What the colours mean: the kinds, and each community's colour for items (the largest first; past the
 * palette's size colours repeat, and the legend says so).
 */
function drawLegend() {
  const swatch = (colour, text, attributes = {}) => el('span', attributes, el('i', { style: { background: colour } }), text);
  const byCommunity = document.getElementById('by-community').checked;
  const communities = [...(state.communities?.communities ?? [])].sort((a, b) => b.size - a.size);
  const shown = communities.slice(0, PALETTE_SIZE);
  fill(
    document.getElementById('legend'),
    ...['user', 'session', 'tag'].map((kind) => swatch(KIND_COLOURS[kind], kind, { 'data-kind': kind, 'data-colour': KIND_COLOURS[kind] })),
    !byCommunity || communities.length === 0
      ? swatch(KIND_COLOURS.item, byCommunity ? 'item (communities not computed yet)' : 'item', { 'data-kind': 'item', 'data-colour': KIND_COLOURS.item })
      : el('span', { class: 'heading' }, 'items by community:'),
    ...(byCommunity
      ? shown.map((c) =>
          swatch(communityColour(c.id), communityName(c), { 'data-community': c.id, 'data-colour': communityColour(c.id), title: `${c.size} items` }),
        )
      : []),
    byCommunity && communities.length > shown.length
      ? el('span', { class: 'heading' }, `and ${communities.length - shown.length} smaller ones (colours repeat)`)
      : null,
  );
}

async function loadCommunities() {
  if (state.communities) return state.communities;
  try {
    state.communities = await api('/v1/communities');
  } catch {
    // None computed yet, or a key without the analyst role: the legend and the map say so.
    state.communities = null;
  }
  drawLegend();
  return state.communities;
}

function hint(...content) {
  const box = document.getElementById('graph-hint');
  fill(box, ...content);
  box.hidden = content.length === 0;
}

/** An example to try, that fills in the search and runs it. */
function example(text) {
  const button = el('button', { type: 'button', class: 'secondary example' }, text);
  button.addEventListener('click', () => {
    document.getElementById('search').value = text;
    search(text);
  });
  return button;
}

/**
 * The opening view: every community as a node sized by its item count, its most liked items around it;
 * clicking an item draws that item's neighbourhood in place of the map.
 */
async function showMap() {
  graph.clear();
  state.mode = 'map';
  state.expanded.clear();
  state.highlighted = new Set();
  state.highlightedEdges = new Set();
  hint('Loading the interest communities…');
  const run = await loadCommunities();
  if (state.mode !== 'map') return;
  const communities = run?.communities ?? [];
  if (communities.length === 0) {
    hint(
      el('strong', {}, 'Nothing drawn yet. '),
      'Search a node under “Find a node” by id or title (a user id, an item id or title, a tag), then click a result to draw its neighbourhood; click nodes to expand them.',
    );
    renderer.refresh();
    return;
  }
  const ring = 6 + communities.length * 1.2;
  communities.forEach((c, i) => {
    const angle = (2 * Math.PI * i) / communities.length;
    const centre = { x: ring * Math.cos(angle), y: ring * Math.sin(angle) };
    const key = `community:${c.id}`;
    graph.addNode(key, {
      ...centre,
      size: 6 + Math.min(14, Math.sqrt(c.size)),
      label: communityName(c),
      forceLabel: true,
      view: { key, kind: 'community', id: String(c.id), label: communityName(c), community: c.id, degree: c.size, summary: c },
    });
    const items = c.topItems.slice(0, 4);
    items.forEach((item, j) => {
      const itemKey = `item:${item.itemId}`;
      if (graph.hasNode(itemKey)) return;
      const turn = angle + ((j - (items.length - 1) / 2) * 0.9) / Math.max(1, items.length - 1 || 1);
      const label = item.title ?? item.itemId;
      graph.addNode(itemKey, {
        x: centre.x + 4 * Math.cos(turn),
        y: centre.y + 4 * Math.sin(turn),
        size: 3 + Math.min(6, Math.log2(1 + item.positives)),
        label,
        view: { key: itemKey, kind: 'item', id: item.itemId, label, community: c.id, degree: item.positives },
      });
      graph.addEdgeWithKey(`member:${c.id}:${item.itemId}`, key, itemKey, {
        color: '#e3e7ec',
        size: 1,
        type: 'line',
        view: { key: `member:${c.id}:${item.itemId}`, source: key, target: itemKey, type: 'member', ts: '', weight: 1 },
      });
    });
  });
  const sample = communities.flatMap((c) => c.topItems).find((i) => i.title)?.title;
  hint(
    el('strong', {}, `${communities.length} interest communities`),
    ', each with its most liked items. Click an item to draw its neighbourhood, or search a node under “Find a node”',
    sample ? el('span', {}, ', for example ', example(sample)) : null,
    '.',
  );
  showStatus(`${communities.length} communities (modularity ${run.modularity.toFixed(3)}, computed ${run.computedAt})`);
  renderer.refresh();
}

/** From the map to a drawing of real graph nodes: the map's nodes go, the hint too. */
function leaveMap() {
  graph.clear();
  state.mode = 'graph';
  hint();
}

function selectCommunity(view) {
  const c = view.summary;
  fill(
    document.getElementById('selected'),
    el('h2', {}, `Community ${communityName(c)}`),
    el('p', {}, `${c.size} items; top tags ${c.topTags.map((t) => `${t.tag} (${t.items})`).join(', ') || 'none'}.`),
    el(
      'ul',
      { class: 'results' },
      c.topItems.map((item) => {
        const entry = el('li', { 'data-key': `item:${item.itemId}` }, `${item.title ?? item.itemId} (${item.positives} liked)`);
        entry.addEventListener('click', () => expand(`item:${item.itemId}`));
        return entry;
      }),
    ),
  );
}

keyField();
typeFilters();
renderer.on('clickNode', ({ node }) => (graph.getNodeAttribute(node, 'view').kind === 'community' ? select(node) : expand(node)));
renderer.on('clickStage', () => {
  state.highlighted = new Set();
  state.highlightedEdges = new Set();
  renderer.refresh();
});
for (const id of ['since', 'until']) document.getElementById(id).addEventListener('change', () => renderer.refresh());
document.getElementById('by-community').addEventListener('change', () => {
  drawLegend();
  renderer.refresh();
});
document.getElementById('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = document.getElementById('search').value.trim();
  if (text) search(text);
});
document.getElementById('path-form').addEventListener('submit', (event) => {
  event.preventDefault();
  findPath(document.getElementById('path-from').value.trim(), document.getElementById('path-to').value.trim());
});
document
  .getElementById('export-json')
  .addEventListener('click', () => download('interest-graph.json', 'application/json', JSON.stringify(graph.export(), null, 1)));
document.getElementById('export-gexf').addEventListener('click', () => download('interest-graph.gexf', 'application/xml', gexf()));
document.getElementById('clear').addEventListener('click', () => {
  document.getElementById('path-from').value = '';
  document.getElementById('path-to').value = '';
  fill(document.getElementById('selected'));
  showStatus('');
  history.replaceState(null, '', '/explore');
  showMap();
});
drawLegend();
const initial = new URLSearchParams(location.search).get('node');
if (initial) {
  expand(initial);
  loadCommunities();
} else showMap();
