import { EDGE_COLOURS, nodeColour } from './common.js';

// One recommendation's explanation paths drawn as one small SVG graph: the subject on the left, the
// recommended item on the right, and every path on a row of its own, in the order of the numbered list
// beside it. Only the subject and the item are shared between rows: the other nodes of a path are drawn on
// its row (anonymised people all look alike, "someone", and must not merge into one node), and a path that
// does not start at the subject (trending: someone → item) ends at the item's column, never at the
// subject's place. Labels wrap instead of being cut; edge labels go where they touch no other text.

const SVG = 'http://www.w3.org/2000/svg';
const NODE_FONT = 10;
const EDGE_FONT = 9;
const LINE = 12;
const EDGE_LABEL_SPACE = 14;
const ROW_GAP = 8;

const keyOf = (node) => `${node.kind}:${node.id}`;

/**
 * The paths as a graphology graph (kept for inspection) whose nodes carry their column and row; positions
 * come at drawing time, from the width there is.
 */
export function pathGraph(item, subjectKey) {
  const graph = new graphology.MultiDirectedGraph();
  const paths = item.paths ?? [];
  const target = `item:${item.itemId}`;
  const columns = Math.max(3, ...paths.map((p) => p.nodes.length));
  paths.forEach((path, row) => {
    const last = path.nodes.length - 1;
    const fromSubject = keyOf(path.nodes[0]) === subjectKey;
    const keys = path.nodes.map((n, i) => {
      const shared = (i === 0 && fromSubject) || (i === last && keyOf(n) === target);
      const key = shared ? keyOf(n) : `path${row}|${keyOf(n)}`;
      // Right-aligned unless it starts at the subject: the item always ends in the last column.
      const column = i === last ? columns - 1 : fromSubject ? i : columns - 1 - (last - i);
      if (graph.hasNode(key)) graph.updateNodeAttribute(key, 'paths', (rows) => [...rows, row]);
      else
        graph.addNode(key, {
          kind: n.kind,
          id: n.id,
          label: n.label,
          column,
          row: shared ? null : row,
          paths: [row],
          size: key === target ? 8 : 6,
          color: nodeColour(n, false),
        });
      return key;
    });
    for (const e of path.edges)
      graph.addEdge(keys[e.from], keys[e.to], { type: e.type, width: 1 + 5 * path.weight, color: EDGE_COLOURS[e.type] ?? '#999', row });
  });
  return { graph, columns, rows: paths.length };
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const measure = document.createElement('canvas').getContext('2d');

function textWidth(text, size, family) {
  measure.font = `${size}px ${family}`;
  return measure.measureText(text).width;
}

/** Lines of at most `width` pixels, broken between words (inside a word only when it is wider itself). */
export function wrap(text, width, size, family) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const joined = line ? `${line} ${word}` : word;
    if (textWidth(joined, size, family) <= width) {
      line = joined;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    while (textWidth(line, size, family) > width && line.length > 1) {
      let cut = line.length - 1;
      while (cut > 1 && textWidth(line.slice(0, cut), size, family) > width) cut--;
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Lays the graph out to the container's width and draws it; called again when the width changes. */
export function drawPathGraph(container, { graph, columns, rows }) {
  if (graph.order === 0) {
    container.replaceChildren(
      Object.assign(document.createElement('p'), { className: 'no-paths', textContent: 'No path through the graph leads to this item.' }),
    );
    return;
  }
  const family = getComputedStyle(container).fontFamily || 'sans-serif';
  const width = Math.max(280, Math.round(container.clientWidth) || 440);
  const step = width / columns;
  const labelWidth = step - 12;
  graph.updateEachNodeAttributes((key, a) => ({ ...a, lines: wrap(a.label, labelWidth, NODE_FONT, family), x: step * (a.column + 0.5) }));

  // Each row as tall as its tallest label; the shared subject and item sit between the first and last row.
  const rowY = [];
  let top = 0;
  for (let r = 0; r < rows; r++) {
    let lines = 1;
    let size = 6;
    graph.forEachNode((key, a) => {
      if (a.row === r) {
        lines = Math.max(lines, a.lines.length);
        size = Math.max(size, a.size);
      }
    });
    rowY.push(top + EDGE_LABEL_SPACE + size);
    top += EDGE_LABEL_SPACE + 2 * size + lines * LINE + ROW_GAP;
  }
  const middle = rows > 0 ? (rowY[0] + rowY[rows - 1]) / 2 : EDGE_LABEL_SPACE + 8;
  graph.updateEachNodeAttributes((key, a) => ({ ...a, y: a.row === null ? middle : rowY[a.row] }));
  const height = graph.reduceNodes((h, key, a) => Math.max(h, a.y + a.size + 2 + a.lines.length * LINE + 4), top);

  const picture = svg('svg', { viewBox: `0 0 ${width} ${Math.ceil(height)}`, width: '100%', role: 'img', 'aria-label': 'explanation paths' });
  const edgeLayer = svg('g', {});
  const textLayer = svg('g', {});
  picture.append(edgeLayer, textLayer);

  // Node labels first (they never collide: a column is wider than its labels, a row taller); node discs
  // and labels are what edge labels must keep clear of.
  const taken = [];
  graph.forEachNode((key, a) => {
    taken.push({ x: a.x - a.size - 1, y: a.y - a.size - 1, w: 2 * a.size + 2, h: 2 * a.size + 2 });
    const text = svg('text', { x: a.x, y: a.y + a.size + 2 + NODE_FONT, 'font-size': NODE_FONT, 'text-anchor': 'middle', 'data-label-of': key });
    a.lines.forEach((line, i) => text.append(svg('tspan', { x: a.x, dy: i === 0 ? 0 : LINE }, line)));
    textLayer.append(text);
    const widest = Math.max(...a.lines.map((line) => textWidth(line, NODE_FONT, family)));
    taken.push({ x: a.x - widest / 2 - 1, y: a.y + a.size + 2, w: widest + 2, h: a.lines.length * LINE + 2 });
  });

  graph.forEachEdge((key, a, source, target) => {
    const s = graph.getNodeAttributes(source);
    const t = graph.getNodeAttributes(target);
    const line = svg('line', { x1: s.x, y1: s.y, x2: t.x, y2: t.y, stroke: a.color, 'stroke-width': a.width, 'data-edge': key, 'data-type': a.type });
    line.append(svg('title', {}, `${a.type}: ${s.label} → ${t.label}`));
    edgeLayer.append(line, arrowHead(s, t, a));
    const label = edgeLabelSpot(s, t, textWidth(a.type, EDGE_FONT, family), taken, width, height);
    if (!label) return;
    taken.push(label);
    textLayer.append(
      svg(
        'text',
        { x: label.x + label.w / 2, y: label.y + label.h - 2, 'font-size': EDGE_FONT, fill: '#666', 'text-anchor': 'middle', 'data-label-of': key },
        a.type,
      ),
    );
  });

  graph.forEachNode((key, a) => {
    const circle = svg('circle', {
      cx: a.x,
      cy: a.y,
      r: a.size,
      fill: a.color,
      'data-node': key,
      'data-kind': a.kind,
      'data-id': a.id,
      'data-paths': a.paths.join(' '),
    });
    circle.append(svg('title', {}, `${a.kind} ${a.id}`));
    edgeLayer.append(circle);
  });
  container.replaceChildren(picture);
}

/** A small triangle where the edge meets its target's disc, pointing the edge's way. */
function arrowHead(s, t, a) {
  const length = Math.hypot(t.x - s.x, t.y - s.y) || 1;
  const ux = (t.x - s.x) / length;
  const uy = (t.y - s.y) / length;
  const tipX = t.x - ux * (t.size + 1);
  const tipY = t.y - uy * (t.size + 1);
  const back = 6 + a.width;
  const half = 3 + a.width / 2;
  const points = [
    [tipX, tipY],
    [tipX - ux * back - uy * half, tipY - uy * back + ux * half],
    [tipX - ux * back + uy * half, tipY - uy * back - ux * half],
  ];
  return svg('polygon', { points: points.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' '), fill: a.color });
}

/** The first place along the edge, above or below it, where its label touches no other text or node. */
function edgeLabelSpot(s, t, textWidth, taken, width, height) {
  const w = textWidth + 2;
  const h = EDGE_FONT + 2;
  for (const along of [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78]) {
    const x = s.x + (t.x - s.x) * along;
    const y = s.y + (t.y - s.y) * along;
    for (const box of [
      { x: x - w / 2, y: y - h - 2, w, h },
      { x: x - w / 2, y: y + 2, w, h },
    ]) {
      if (box.x < 0 || box.y < 0 || box.x + box.w > width || box.y + box.h > height) continue;
      if (!taken.some((o) => overlaps(box, o))) return box;
    }
  }
  return null;
}
