import cliProgress from 'cli-progress';
import type { EpochReport } from '../gnn/training/gat-trainer.ts';

/** A progress bar on stderr for training, one step per epoch, with the loss and validation recall. */
export function epochProgress(epochs: number): { update: (report: EpochReport) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(report) {
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
