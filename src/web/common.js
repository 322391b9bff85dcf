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

// Community colours: ten hues kept apart from each other and from the kind colours below (CIE76 ΔE ≥ 25
// from each kind, ≥ 25 from each other); no gold, which is the tags' colour. Communities past ten repeat them.
const PALETTE = ['#e15759', '#17becf', '#59a14f', '#b07aa1', '#ff9da7', '#1b9e77', '#6b4ca5', '#f28e2b', '#e7298a', '#8c2d04'];
export const KIND_COLOURS = { user: '#2f4b7c', session: '#7a8fa6', tag: '#c9a227', item: '#8c8c8c' };

/** Items by community when known, other nodes by kind. */
export function nodeColour(node, byCommunity = true) {
  if (byCommunity && (node.kind === 'item' || node.kind === 'community') && node.community !== null && node.community !== undefined)
    return communityColour(node.community);
  return KIND_COLOURS[node.kind] ?? '#999';
}

export function communityColour(id) {
  return PALETTE[id % PALETTE.length];
}

export const PALETTE_SIZE = PALETTE.length;

export const EDGE_COLOURS = {
  view: '#c7c7c7',
  click: '#9ecae1',
  add_to_cart: '#6baed6',
  purchase: '#2171b5',
  rating: '#31a354',
  like: '#74c476',
  dislike: '#de2d26',
  dismiss: '#fc9272',
  has_tag: '#e6c35c',
};

/**
 * Node labels that neither overlap one another nor run off the canvas: each goes on the side of its node
 * away from the middle of the view, else the other side, below or above, wherever it fits beside the labels
 * already drawn in this frame; a label that fits nowhere is left out (hovering its node shows it). sigma
 * draws the biggest nodes' labels first, so hubs keep theirs. `boxes` holds what the last frame drew.
 */
export class LabelPlacer {
  boxes = [];
  pass = null;
  width = 0;
  height = 0;

  reset({ width, height }) {
    this.boxes = [];
    this.width = width;
    this.height = height;
  }

  draw(context, data, settings) {
    if (!data.label) return;
    const size = settings.labelSize;
    context.font = `${settings.labelWeight} ${size}px ${settings.labelFont}`;
    const box = this.spot(data, context.measureText(data.label).width, size);
    if (!box) return;
    this.boxes.push(box);
    context.fillStyle = settings.labelColor.color ?? '#000';
    context.fillText(data.label, box.x + 1, box.y + box.h - 1 - size * 0.2);
  }

  /** The first place around the node where the label fits on the canvas without touching `taken`. */
  spot(data, textWidth, size, taken = this.boxes) {
    const w = textWidth + 2;
    const h = size + 2;
    const gap = data.size + 3;
    const right = { key: data.key, x: data.x + gap, y: data.y - h / 2, w, h };
    const left = { key: data.key, x: data.x - gap - w, y: data.y - h / 2, w, h };
    const below = { key: data.key, x: data.x - w / 2, y: data.y + gap, w, h };
    const above = { key: data.key, x: data.x - w / 2, y: data.y - gap - h, w, h };
    const sides = data.x >= this.width / 2 ? [right, left] : [left, right];
    return [...sides, below, above].find((b) => this.inside(b) && !taken.some((o) => overlaps(b, o))) ?? null;
  }

  inside(b) {
    return b.x >= 0 && b.y >= 0 && b.x + b.w <= this.width && b.y + b.h <= this.height;
  }

  /**
   * A hovered or highlighted node: its label in a white box where the frame drew it, else where it fits
   * beside the frame's labels and the other highlighted ones (sigma draws those in one synchronous pass).
   */
  drawHover(context, data, settings) {
    const size = settings.labelSize;
    context.font = `${settings.labelWeight} ${size}px ${settings.labelFont}`;
    const label = typeof data.label === 'string' ? data.label : '';
    if (!this.pass) {
      this.pass = [];
      queueMicrotask(() => (this.pass = null));
    }
    let box = label ? this.boxes.find((b) => b.key === data.key) : undefined;
    if (label && !box) {
      const width = context.measureText(label).width;
      box = this.spot(data, width, size, [...this.boxes, ...this.pass]) ?? this.spot(data, width, size, []) ?? undefined;
      if (box) this.pass.push(box);
    }
    const disc = { x: data.x - data.size - 2, y: data.y - data.size - 2, w: data.size * 2 + 4, h: data.size * 2 + 4 };
    const around = box ? union(disc, box) : disc;
    context.fillStyle = '#fff';
    context.shadowBlur = 8;
    context.shadowColor = '#000';
    context.fillRect(around.x - 1, around.y - 1, around.w + 2, around.h + 2);
    context.shadowBlur = 0;
    if (!box) return;
    context.fillStyle = settings.labelColor.color ?? '#000';
    context.fillText(label, box.x + 1, box.y + box.h - 1 - size * 0.2);
  }
}

function union(a, b) {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** A sigma renderer over a graphology graph (the UMD builds loaded by the page: globals Sigma, graphology). */
export function renderGraph(container, graph, settings = {}) {
  const labels = new LabelPlacer();
  const renderer = new Sigma(graph, container, {
    renderEdgeLabels: false,
    defaultEdgeType: 'arrow',
    labelRenderedSizeThreshold: 6,
    allowInvalidContainer: true,
    defaultDrawNodeLabel: (context, data, s) => labels.draw(context, data, s),
    defaultDrawNodeHover: (context, data, s) => labels.drawHover(context, data, s),
    ...settings,
  });
  renderer.on('beforeRender', () => labels.reset(renderer.getDimensions()));
  renderer.labels = labels;
  return renderer;
}

export function formatDate(iso) {
  return iso ? iso.slice(0, 10) : '';
}
