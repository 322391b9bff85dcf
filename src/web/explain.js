import { api, fill, communityColour, el, formatDate, keyField, showStatus } from './common.js';
import { drawPathGraph, pathGraph } from './path-graph.js';

// The explanation view: a user's recommendations, each with its explanation paths drawn as a small graph
// (labelled nodes, typed edges, thickness by the path's share of the score), the sentence and the score by
// source; beside them the user's recent interactions and interest communities. The path graphs are SVG
// (path-graph.js): a page of them would need more WebGL contexts than a browser keeps alive (sigma is for
// /explore).
const state = { graphs: [], drawings: [], single: null, list: null, communities: new Map(), shown: 0, suggested: 0 };
window.explanations = state;

const SOURCES = ['embedding', 'walk', 'tags', 'trending'];

function communityName(id) {
  const c = state.communities.get(id);
  return c
    ? `#${id} ${c.topTags
        .slice(0, 2)
        .map((t) => t.tag)
        .join(', ')}`
    : `#${id}`;
}

function sourceBars(item) {
  const total = SOURCES.reduce((s, k) => s + Math.max(0, item.sources[k]), 0) || 1;
  return SOURCES.map((k) =>
    el(
      'div',
      { class: 'bar' },
      el('span', { class: 'name' }, k),
      el('span', { class: 'fill', style: { width: `${Math.round((160 * Math.max(0, item.sources[k])) / total)}px` } }),
      item.sources[k].toFixed(3),
    ),
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
    el(
      'ol',
      { class: 'paths' },
      (item.paths ?? []).map((p) => el('li', {}, `${p.sentence} (${Math.round(p.weight * 100)} %)`)),
    ),
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
    ...profile.mix
      .slice(0, 6)
      .map((m) =>
        el(
          'div',
          { class: 'bar' },
          el('span', { class: 'fill', style: { width: `${Math.round(m.share * 180)}px`, background: communityColour(m.community) } }),
          `${Math.round(m.share * 100)} % ${communityName(m.community)}`,
        ),
      ),
    el('h3', {}, 'Drift over their history'),
    el(
      'ul',
      { class: 'recent' },
      profile.drift.map((w) =>
        el(
          'li',
          {},
          `${formatDate(w.from)} – ${formatDate(w.to)}: ${w.mix
            .slice(0, 2)
            .map((m) => `${communityName(m.community)} ${Math.round(m.share * 100)} %`)
            .join(', ')}`,
        ),
      ),
    ),
    el('h3', {}, 'Recent interactions'),
    el(
      'ul',
      { class: 'recent', id: 'recent' },
      profile.recent.edges.map((e) => {
        const item = profile.recent.nodes.find((n) => n.key === e.target);
        return el('li', {}, `${formatDate(e.ts)} ${e.type} `, el('a', { href: `/explore?node=${encodeURIComponent(e.target)}` }, item?.label ?? e.target));
      }),
    ),
  );
}

async function show(userId) {
  // A later request replaces an earlier one still in flight: only the newest one's answers are drawn.
  const generation = ++state.shown;
  state.graphs = [];
  state.drawings = [];
  state.list = null;
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
    state.list = { userId, items: recommendations.items };
    recommendations.items.forEach((item, i) => {
      const { node, container } = card(item, i + 1);
      cards.append(node);
      const drawing = pathGraph(item, `user:${userId}`);
      state.graphs.push(drawing.graph);
      state.drawings.push({ container, drawing });
      drawPathGraph(container, drawing);
    });
    showStatus(`${recommendations.items.length} recommendations for ${userId} (model ${recommendations.modelVersion ?? 'none'})`);
  } catch (error) {
    if (generation === state.shown) showStatus(error.message, 'error');
  }
}

const KEPT_OUT = {
  rejected: 'the user disliked or dismissed it',
  consumed: 'the user already has it (lists leave those out)',
  'not-reached': 'no source put it among its candidates (each puts forward only its best items)',
  'ranked-below': 'its score is below the last listed item',
  diversity: 'diversity (it scored high enough, but the list picked less similar items)',
};

/**
 * Where the item stands against the user's list: its rank, the score of the list's last item and what
 * kept it out, from the answer's `standing` (against the default list); from a server without it, against
 * the list this page shows for the same user.
 */
function standingText(answer, userId) {
  const score = answer.item.score.toFixed(3);
  const standing = answer.standing;
  if (standing) {
    const rank = standing.rank === null ? 'Not ranked' : `Rank ${standing.rank}`;
    if (!standing.keptOutBy) return `${rank}: in a default list of ${standing.listCount}.`;
    const last =
      standing.lastListedScore === null
        ? `A default list of ${standing.listCount} is empty`
        : `A default list of ${standing.listCount} ends at score ${standing.lastListedScore.toFixed(3)}`;
    return `${rank}. ${last}; this item scores ${score}. Kept out because ${KEPT_OUT[standing.keptOutBy] ?? standing.keptOutBy}.`;
  }
  const list = state.list?.userId === userId ? state.list.items : null;
  if (!list || list.length === 0) return `Score ${score}.`;
  const at = list.findIndex((i) => i.itemId === answer.item.itemId);
  if (at >= 0) return `Number ${at + 1} in the list below.`;
  return `Not among the ${list.length} shown below, which end at score ${list.at(-1).score.toFixed(3)}; this item scores ${score}.`;
}

/** Any (user, item) pair, recommended or not: its score by source and its paths, as one card. */
async function explainItem(userId, itemId) {
  const single = document.getElementById('single');
  single.replaceChildren();
  try {
    const answer = await api(`/v1/users/${encodeURIComponent(userId)}/explanations/${encodeURIComponent(itemId)}`);
    const { node, container } = card(answer.item, null);
    const status = answer.consumed ? 'already consumed' : answer.rejected ? 'disliked or dismissed' : 'not consumed';
    node.insertBefore(el('p', { class: 'because standing' }, `For ${userId}: ${status}. ${standingText(answer, userId)}`), node.children[1]);
    single.append(node);
    const drawing = pathGraph(answer.item, `${answer.subject.kind}:${answer.subject.id}`);
    state.single = { container, drawing };
    drawPathGraph(container, drawing);
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

// The path graphs are laid out to their card's width: again when it changes.
let resizing = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    for (const { container, drawing } of [...state.drawings, ...(state.single ? [state.single] : [])])
      if (container.isConnected) drawPathGraph(container, drawing);
  }, 150);
});

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
