// Shared by the pages: API calls with the key kept in this browser, small DOM helpers, colours, and a
// sigma renderer set up the same way everywhere. Plain ES modules: no bundler, nothing from the network.

const KEY_STORAGE = 'interest-graph-api-key';

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

/** Wires the key field of the page header: the key is kept in localStorage and sent as a Bearer token. */
export function keyField(onChange) {
  const input = document.getElementById('api-key');
  input.value = apiKey();
  input.addEventListener('change', () => {
    localStorage.setItem(KEY_STORAGE, input.value.trim());
    onChange?.();
  });
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
  }
}

/** GET (or other) a JSON resource of the API; throws ApiError with the problem document's detail. */
export async function api(path, options = {}) {
  const headers = { accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}) };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(path, { method: options.method ?? 'GET', headers, body: options.body ? JSON.stringify(options.body) : undefined });
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? ' (enter an API key with the analyst role above)' : '';
    throw new ApiError(response.status, { detail: `${body?.detail ?? `HTTP ${response.status}`}${hint}` });
  }
  return body;
}

/** Creates an element: el('div', {class: 'x'}, 'text', child, …). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'style' && typeof value === 'object') Object.assign(node.style, value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** Replaces an element's children, leaving out null and undefined (which replaceChildren would print). */
export function fill(parent, ...children) {
  parent.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined));
}

export function showStatus(text, kind = 'info') {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d37295'];
const KIND_COLOURS = { user: '#2f4b7c', session: '#7a8fa6', tag: '#c9a227', item: '#8c8c8c' };

/** Items by community when known, other nodes by kind. */
export function nodeColour(node, byCommunity = true) {
  if (byCommunity && node.kind === 'item' && node.community !== null && node.community !== undefined) return PALETTE[node.community % PALETTE.length];
  return KIND_COLOURS[node.kind] ?? '#999';
}

export function communityColour(id) {
  return PALETTE[id % PALETTE.length];
}

export const EDGE_COLOURS = {
  view: '#c7c7c7', click: '#9ecae1', add_to_cart: '#6baed6', purchase: '#2171b5', rating: '#31a354',
  like: '#74c476', dislike: '#de2d26', dismiss: '#fc9272', has_tag: '#e6c35c',
};

/** A sigma renderer over a graphology graph (the UMD builds loaded by the page: globals Sigma, graphology). */
export function renderGraph(container, graph, settings = {}) {
  return new Sigma(graph, container, {
    renderEdgeLabels: false,
    defaultEdgeType: 'arrow',
    labelRenderedSizeThreshold: 6,
    allowInvalidContainer: true,
    ...settings,
  });
}

export function formatDate(iso) {
  return iso ? iso.slice(0, 10) : '';
}
