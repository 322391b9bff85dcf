import cliProgress from 'cli-progress';

import type { EpochReport } from '../gnn/index.ts';

/**
 * A progress bar on stderr for training, one step per epoch, with the loss and validation recall. Drawn
 * on a terminal only (`shown`); piped, the training logs one line an epoch instead.
 */
export function epochProgress(epochs: number): { shown: boolean; update: (report: EpochReport) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  const shown = process.stderr.isTTY === true;
  return {
    shown,
    update(report) {
      if (!shown) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: 'training GNN [{bar}] epoch {value}/{total} | loss {loss} | validation recall@20 {recall} | {seconds}s/epoch', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(epochs, 0, { loss: '-', recall: '-', seconds: '-' });
      }
      bar.update(report.epoch, { loss: report.loss.toFixed(4), recall: report.validationRecall.toFixed(4), seconds: report.seconds.toFixed(1) });
    },
    stop() {
      bar?.stop();
    },
  };
}

/** A progress bar on stderr for loading the interest graph from the store (shown for large graphs only). */
export function loadProgress(): { update: (loaded: number, expected: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(loaded, expected) {
      // A load that ends before the first step (100K interactions) is too short for a bar.
      if (!bar && loaded === expected) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: 'loading interest graph [{bar}] {value}/{total} interactions | {eta}s left', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(expected, 0);
      }
      bar.setTotal(expected);
      bar.update(loaded);
    },
    stop() {
      bar?.stop();
    },
  };
}
