import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { DATA_DIRECTORY } from '../../base/data-directory.ts';
import { blendSuggestion } from './engine-weights.ts';
import type { SplitStats } from './evaluation-data.ts';
import type { MetricValues } from './evaluator.ts';
import type { SplitProtocol } from './split.ts';
import { formatSettings } from './tuning.ts';

/**
 * What an evaluation run reports, and its three renderings: a markdown summary for people, the one-line
 * JSON a script reads, and a bar chart of Recall@K and NDCG@K as a self-contained SVG.
 */

export interface ModelRun {
  readonly name: string;
  /** What `settings()` said after fitting. */
  readonly settings: Record<string, unknown>;
  /** Metrics on the test split, by cut-off. */
  readonly byK: Readonly<Record<number, MetricValues>>;
  /** Per cut-off, how many top-K lists the diversity average covers. */
  readonly diversityLists: Readonly<Record<number, number>>;
  /** Tuning on the validation split plus the final fit. */
  readonly fitSeconds: number;
  /** Ranking the test users. */
  readonly evaluateSeconds: number;
}

export interface EvaluationReport {
  readonly dataset: string;
  readonly format: string;
  readonly split: SplitProtocol;
  readonly seed: number;
  /** The headline cut-off. */
  readonly k: number;
  /** Every cut-off measured, ascending. */
  readonly ks: readonly number[];
  readonly testShare: number;
  /** What counts as a positive interaction, in words. */
  readonly positives: string;
  readonly stats: SplitStats;
  readonly models: readonly ModelRun[];
}

/** The last line of the CLI's stdout: metrics at the headline K, by model. */
export interface EvaluationSummary {
  readonly dataset: string;
  readonly k: number;
  readonly split: SplitProtocol;
  readonly seed: number;
  readonly models: Record<string, MetricValues>;
}

export const METRIC_NAMES = ['recall', 'ndcg', 'precision', 'hitRate', 'mrr', 'coverage', 'diversity', 'novelty'] as const;

const METRIC_HEADINGS: Record<(typeof METRIC_NAMES)[number], string> = {
  recall: 'Recall',
  ndcg: 'NDCG',
  precision: 'Precision',
  hitRate: 'HitRate',
  mrr: 'MRR',
  coverage: 'Coverage',
  diversity: 'Diversity',
  novelty: 'Novelty (bits)',
};

/** A run's metrics at cut-off `k`; throws when the run was not evaluated at that cut-off. */
function metricsAt(run: ModelRun, k: number): MetricValues {
  const m = run.byK[k];
  if (m === undefined) {
    throw new Error(`model ${run.name} has no metrics at K=${k} (evaluated at K=${Object.keys(run.byK).join(', ')})`);
  }
  return m;
}

export function summaryOf(report: EvaluationReport): EvaluationSummary {
  const models: Record<string, MetricValues> = {};
  for (const run of report.models) {
    const m = metricsAt(run, report.k);
    // A fixed key order, so the line reads the same from run to run.
    models[run.name] = {
      recall: m.recall,
      ndcg: m.ndcg,
      precision: m.precision,
      hitRate: m.hitRate,
      mrr: m.mrr,
      coverage: m.coverage,
      diversity: m.diversity,
      novelty: m.novelty,
    };
  }
  return { dataset: report.dataset, k: report.k, split: report.split, seed: report.seed, models };
}

export function renderMarkdown(report: EvaluationReport): string {
  const { stats } = report;
  const n = (value: number) => value.toLocaleString('en-US');
  const share = `${Math.round(report.testShare * 100)} %`;
  const protocol =
    report.split === 'temporal'
      ? `temporal split: per user, the last ${share} of positives in time held out`
      : `random split: per user, ${share} of positives held out at random`;
  const lines: string[] = [
    `## Offline evaluation: ${report.dataset}`,
    '',
    `${report.format}; ${protocol}; seed ${report.seed}. Positives: ${report.positives}. Hyperparameters tuned on a ` +
      "validation split carved from the training data the same way; each user's training positives are never ranked.",
    '',
    '| split | count |',
    '|---|---:|',
    `| users | ${n(stats.users)} (${n(stats.evaluatedUsers)} evaluated, ${n(stats.usersLeftOut)} with < 2 positives left out) |`,
    `| items | ${n(stats.items)} |`,
    `| interactions | ${n(stats.interactions)} (${n(stats.positivePairs)} distinct positive user–item pairs) |`,
    `| training interactions | ${n(stats.trainInteractions)}` +
      (report.split === 'temporal' ? ` (${n(stats.removedLater)} non-positive ones after a user's first test positive dropped) |` : ' |'),
    `| training positive pairs | ${n(stats.trainPositives)} |`,
    `| test positive pairs | ${n(stats.testPositives)} |`,
    `| validation | ${n(stats.validationUsers)} users, ${n(stats.validationPositives)} held-out positive pairs |`,
    '',
    `| model | K | ${METRIC_NAMES.map((m) => METRIC_HEADINGS[m]).join(' | ')} |`,
    `|---|---:|${METRIC_NAMES.map(() => '---:').join('|')}|`,
  ];
  for (const run of report.models) {
    for (const k of report.ks) {
      const m = metricsAt(run, k);
      const cells = METRIC_NAMES.map((name) => {
        const value = m[name];
        return value === null ? '–' : value.toFixed(name === 'novelty' ? 2 : 4);
      });
      const label = k === report.k ? `**${k}**` : String(k);
      lines.push(`| ${run.name} | ${label} | ${cells.join(' | ')} |`);
    }
  }
  lines.push('', '| model | settings | fit + tuning (s) | test ranking (s) |', '|---|---|---:|---:|');
  for (const run of report.models) {
    const settings = formatSettings(run.settings).replaceAll('|', '\\|') || '–';
    lines.push(`| ${run.name} | ${settings} | ${run.fitSeconds.toFixed(1)} | ${run.evaluateSeconds.toFixed(1)} |`);
  }
  lines.push(...blendSuggestion(report.models, report.k));
  return `${lines.join('\n')}\n`;
}

const CHART = {
  barWidth: 28,
  barGap: 4,
  groupGap: 36,
  left: 64,
  right: 24,
  top: 56,
  bottom: 56,
  plotHeight: 260,
  colours: ['#4e79a7', '#f28e2b'],
} as const;

/** A grouped bar chart of Recall@K and NDCG@K per model, hand-written SVG with no external references. */
export function renderSvgChart(report: EvaluationReport): string {
  const k = report.k;
  const series = [
    { label: `Recall@${k}`, value: (run: ModelRun) => metricsAt(run, k).recall },
    { label: `NDCG@${k}`, value: (run: ModelRun) => metricsAt(run, k).ndcg },
  ];
  const { barWidth, barGap, groupGap, left, right, top, bottom, plotHeight, colours } = CHART;
  const groupWidth = series.length * barWidth + (series.length - 1) * barGap;
  const models = report.models;
  const plotWidth = Math.max(240, models.length * (groupWidth + groupGap) + groupGap);
  const width = left + plotWidth + right;
  const height = top + plotHeight + bottom;
  const largest = Math.max(0, ...models.flatMap((run) => series.map((s) => s.value(run))));
  const axis = niceAxis(largest);
  const y = (value: number) => top + plotHeight - (value / axis.max) * plotHeight;
  const digits = axis.step < 0.01 ? 3 : 2;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="Helvetica, Arial, sans-serif" font-size="12">',
    `<title>${escapeXml(`Recall@${k} and NDCG@${k} by model: ${report.dataset}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escapeXml(`Recall@${k} and NDCG@${k}: ${report.dataset}`)}</text>`,
    `<text x="${left}" y="40" fill="#555555">${escapeXml(`${report.split} split, seed ${report.seed}, ${report.stats.evaluatedUsers} test users`)}</text>`,
  ];
  for (let tick = 0; tick <= axis.ticks; tick++) {
    const value = tick * axis.step;
    const ty = round(y(value));
    parts.push(
      `<line x1="${left}" y1="${ty}" x2="${left + plotWidth}" y2="${ty}" stroke="${tick === 0 ? '#333333' : '#dddddd'}"/>`,
      `<text x="${left - 6}" y="${round(ty + 4)}" text-anchor="end" fill="#333333">${value.toFixed(digits)}</text>`,
    );
  }
  models.forEach((run, m) => {
    const groupX = left + groupGap + m * (groupWidth + groupGap);
    series.forEach((s, n) => {
      const value = s.value(run);
      const x = groupX + n * (barWidth + barGap);
      const barTop = y(value);
      parts.push(
        `<rect x="${round(x)}" y="${round(barTop)}" width="${barWidth}" height="${round(top + plotHeight - barTop)}" ` +
          `fill="${colours[n % colours.length]}"><title>${escapeXml(`${run.name} ${s.label} ${value.toFixed(4)}`)}</title></rect>`,
        `<text x="${round(x + barWidth / 2)}" y="${round(barTop - 4)}" text-anchor="middle" font-size="10">${value.toFixed(3)}</text>`,
      );
    });
    parts.push(`<text x="${round(groupX + groupWidth / 2)}" y="${top + plotHeight + 18}" text-anchor="middle">${escapeXml(run.name)}</text>`);
  });
  const legendY = top + plotHeight + 40;
  series.forEach((s, n) => {
    const x = left + n * 110;
    parts.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${colours[n % colours.length]}"/>`,
      `<text x="${x + 18}" y="${legendY}">${escapeXml(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** An axis from 0 with 1, 2 or 5 × 10^n steps, at most about 6 ticks, covering `largest`. */
export function niceAxis(largest: number): { max: number; step: number; ticks: number } {
  if (!(largest > 0)) return { max: 1, step: 0.2, ticks: 5 };
  const rough = largest / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= rough)!;
  const ticks = Math.max(1, Math.ceil(largest / step - 1e-9));
  return { max: ticks * step, step, ticks };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Where `npm run evaluate` leaves its one-line summary; the model info endpoint reads it from the data directory. */
export const SUMMARY_FILE = DATA_DIRECTORY.evaluationSummary;

/**
 * The summary of the last evaluation saved in `dir` (by `npm run evaluate -- --out <dir>`), re-read only
 * when the file changes; null when there is none or it cannot be read.
 */
export function lastEvaluationIn(dir: string): () => (EvaluationSummary & { evaluatedAt: string }) | null {
  const file = path.join(dir, SUMMARY_FILE);
  let cached: { mtimeMs: number; summary: (EvaluationSummary & { evaluatedAt: string }) | null } | null = null;
  return () => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return null;
    }
    if (cached?.mtimeMs !== mtimeMs) {
      let summary = null;
      try {
        summary = JSON.parse(readFileSync(file, 'utf8')) as EvaluationSummary & { evaluatedAt: string };
      } catch {
        // A half-written or hand-edited file: report no evaluation rather than fail model info.
      }
      cached = { mtimeMs, summary };
    }
    return cached.summary;
  };
}
