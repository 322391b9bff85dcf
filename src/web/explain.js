import { api, fill, communityColour, EDGE_COLOURS, el, formatDate, keyField, nodeColour, showStatus } from './common.js';

// The explanation view: a user's recommendations, each with its explanation paths drawn as a small graph
// (labelled nodes, typed edges, thickness by the path's share of the score), the sentence and the score by
// source; beside them the user's recent interactions and interest communities. The path graphs are SVG:
// a page of them would need more WebGL contexts than a browser keeps alive (sigma is for /explore).
const state = { graphs: [], communities: new Map(), shown: 0, suggested: 0 };
window.explanations = state;

const SOURCES = ['embedding', 'walk', 'tags', 'trending'];

function communityName(id) {
  const c = state.communities.get(id);
  return c ? `#${id} ${c.topTags.slice(0, 2).map((t) => t.tag).join(', ')}` : `#${id}`;
}

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 440;
const ROW = 54;

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The paths of one recommendation as one graph (graphology, kept for inspection), laid out with the subject
 * on the left, the recommended item on the right and each path's middle nodes on a row of its own.
 */
function pathGraph(item) {
  const graph = new graphology.MultiDirectedGraph();
  const paths = item.paths ?? [];
  const rows = Math.max(1, paths.length);
  const middle = ((rows - 1) * ROW) / 2 + 24;
  // The subject starts most paths; it and the recommended item sit on the middle row.
  const starts = paths.map((p) => `${p.nodes[0].kind}:${p.nodes[0].id}`);
  const subject = starts.sort((a, b) => starts.filter((s) => s === b).length - starts.filter((s) => s === a).length)[0];
  const target = `item:${item.itemId}`;
  paths.forEach((path, row) => {
    const keys = path.nodes.map((n) => `${n.kind}:${n.id}`);
    const last = path.nodes.length - 1;
    path.nodes.forEach((n, i) => {
      if (graph.hasNode(keys[i])) return;
      const centred = keys[i] === subject || keys[i] === target;
      graph.addNode(keys[i], {
        label: n.label.length > 26 ? `${n.label.slice(0, 25)}…` : n.label,
        x: 50 + (i / Math.max(1, last)) * (WIDTH - 110),
        y: centred ? middle : 24 + row * ROW,
        size: n.kind === 'item' && n.id === item.itemId ? 8 : 6,
        color: nodeColour(n, false),
      });
    });
    for (const e of path.edges) graph.addEdge(keys[e.from], keys[e.to], { type: e.type, width: 1 + 5 * path.weight, color: EDGE_COLOURS[e.type] ?? '#999' });
  });
  return { graph, height: rows * ROW + 20 };
}

function drawPathGraph(container, { graph, height }) {
  const picture = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, width: '100%', height, role: 'img' });
  graph.forEachEdge((key, a, source, target) => {
    const s = graph.getNodeAttributes(source);
    const t = graph.getNodeAttributes(target);
    picture.append(svg('line', { x1: s.x, y1: s.y, x2: t.x, y2: t.y, stroke: a.color, 'stroke-width': a.width, 'data-edge': key, 'data-type': a.type }));
    picture.append(svg('text', { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 - 4, 'font-size': 9, fill: '#666', 'text-anchor': 'middle' }, a.type));
  });
  graph.forEachNode((key, a) => {
    picture.append(svg('circle', { cx: a.x, cy: a.y, r: a.size, fill: a.color, 'data-node': key }));
    picture.append(svg('text', { x: a.x, y: a.y + a.size + 11, 'font-size': 10, 'text-anchor': 'middle' }, a.label));
  });
  container.append(picture);
}

function sourceBars(item) {
  const total = SOURCES.reduce((s, k) => s + Math.max(0, item.sources[k]), 0) || 1;
  return SOURCES.map((k) =>
    el('div', { class: 'bar' }, el('span', { class: 'name' }, k), el('span', { class: 'fill', style: { width: `${Math.round((160 * Math.max(0, item.sources[k])) / total)}px` } }), item.sources[k].toFixed(3)),
  );
}

function card(item, rank) {
  const container = el('div', { class: 'path-graph', 'data-item': item.itemId });
  const node = el(
    'article',
    { class: 'panel card', 'data-item': item.itemId },
    el('h3', {}, rank === null ? item.title : `${rank}. ${item.title}`),
    el('div', {}, `score ${item.score.toFixed(3)} · `, el('a', { href: `/explore?node=${encodeURIComponent(`item:${item.itemId}`)}` }, 'explore')),
    el('p', { class: 'because' }, item.because ?? ''),
    ...sourceBars(item),
    el('ol', { class: 'paths' }, (item.paths ?? []).map((p) => el('li', {}, `${p.sentence} (${Math.round(p.weight * 100)} %)`))),
    container,
  );
  return { node, container };
}

function profilePanel(userId, profile) {
  const panel = document.getElementById('profile');
  fill(
    panel,
    el('h2', {}, `User ${userId}`),
    el('h3', {}, 'Interest communities'),
    ...profile.mix.slice(0, 6).map((m) =>
      el('div', { class: 'bar' }, el('span', { class: 'fill', style: { width: `${Math.round(m.share * 180)}px`, background: communityColour(m.community) } }), `${Math.round(m.share * 100)} % ${communityName(m.community)}`),
    ),
    el('h3', {}, 'Drift over their history'),
    el('ul', { class: 'recent' }, profile.drift.map((w) => el('li', {}, `${formatDate(w.from)} – ${formatDate(w.to)}: ${w.mix.slice(0, 2).map((m) => `${communityName(m.community)} ${Math.round(m.share * 100)} %`).join(', ')}`))),
    el('h3', {}, 'Recent interactions'),
    el('ul', { class: 'recent', id: 'recent' }, profile.recent.edges.map((e) => {
      const item = profile.recent.nodes.find((n) => n.key === e.target);
      return el('li', {}, `${formatDate(e.ts)} ${e.type} `, el('a', { href: `/explore?node=${encodeURIComponent(e.target)}` }, item?.label ?? e.target));
    })),
  );
}

async function show(userId) {
  // A later request replaces an earlier one still in flight: only the newest one's answers are drawn.
  const generation = ++state.shown;
  state.graphs = [];
  const cards = document.getElementById('cards');
  cards.replaceChildren();
  showStatus(`loading ${userId}…`);
  history.replaceState(null, '', `/explain?user=${encodeURIComponent(userId)}`);
  const diversity = document.getElementById('diversity').value;
  try {
    const [recommendations, profile, communities] = await Promise.all([
      api(`/v1/users/${encodeURIComponent(userId)}/recommendations?count=8&diversity=${encodeURIComponent(diversity)}`),
      api(`/v1/users/${encodeURIComponent(userId)}/profile`),
      api('/v1/communities').catch(() => ({ communities: [] })),
    ]);
    if (generation !== state.shown) return;
    state.communities = new Map(communities.communities.map((c) => [c.id, c]));
    profilePanel(userId, profile);
    recommendations.items.forEach((item, i) => {
      const { node, container } = card(item, i + 1);
      cards.append(node);
      const drawing = pathGraph(item);
      state.graphs.push(drawing.graph);
      drawPathGraph(container, drawing);
    });
    showStatus(`${recommendations.items.length} recommendations for ${userId} (model ${recommendations.modelVersion ?? 'none'})`);
  } catch (error) {
    if (generation === state.shown) showStatus(error.message, 'error');
  }
}

/** Any (user, item) pair, recommended or not: its score by source and its paths, as one card. */
async function explainItem(userId, itemId) {
  const single = document.getElementById('single');
  single.replaceChildren();
  try {
    const answer = await api(`/v1/users/${encodeURIComponent(userId)}/explanations/${encodeURIComponent(itemId)}`);
    const { node, container } = card(answer.item, null);
    const state = answer.consumed ? 'already consumed' : answer.rejected ? 'disliked or dismissed' : 'not consumed';
    node.insertBefore(el('p', { class: 'because' }, `For ${userId}: ${state}.`), node.children[1]);
    single.append(node);
    drawPathGraph(container, pathGraph(answer.item));
  } catch (error) {
    showStatus(error.message, 'error');
  }
}

async function suggestItems(text) {
  if (text.length < 1) return;
  try {
    const { nodes } = await api(`/v1/graph/search?kinds=item&limit=10&q=${encodeURIComponent(text)}`);
    document.getElementById('item-options').replaceChildren(...nodes.map((n) => el('option', { value: n.id }, n.label)));
  } catch {
    // Suggestions are a convenience.
  }
}

async function suggest(text) {
  if (text.length < 1) return;
  const generation = ++state.suggested;
  try {
    const { nodes } = await api(`/v1/graph/search?kinds=user&limit=10&q=${encodeURIComponent(text)}`);
    if (generation !== state.suggested) return;
    document.getElementById('user-options').replaceChildren(...nodes.map((n) => el('option', { value: n.id })));
  } catch {
    // Suggestions are a convenience; errors show when the user asks for recommendations.
  }
}

keyField();
const userInput = document.getElementById('user');
userInput.addEventListener('input', () => suggest(userInput.value));
document.getElementById('pick').addEventListener('submit', (event) => {
  event.preventDefault();
  if (userInput.value.trim()) show(userInput.value.trim());
});
const itemInput = document.getElementById('why-item');
itemInput.addEventListener('input', () => suggestItems(itemInput.value));
document.getElementById('why').addEventListener('submit', (event) => {
  event.preventDefault();
  if (userInput.value.trim() && itemInput.value.trim()) explainItem(userInput.value.trim(), itemInput.value.trim());
  else showStatus('Pick a user and an item first.', 'error');
});
const initial = new URLSearchParams(location.search).get('user');
if (initial) {
  userInput.value = initial;
  show(initial);
}
