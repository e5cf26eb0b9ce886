/** Progress reporting: a cli-progress bar on a terminal, one line per epoch otherwise (CI logs, notebooks). */
import * as cliProgress from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'log' | 'none';

export interface Progress {
  startEpoch(epoch: number, epochs: number, steps: number): void;
  step(done: number, loss: number): void;
  endEpoch(line: string): void;
  stop(): void;
}

export function makeProgress(mode: ProgressMode, label: string): Progress {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'log') : mode;
  if (resolved === 'none') return { startEpoch() {}, step() {}, endEpoch() {}, stop() {} };
  if (resolved === 'log') {
    return { startEpoch() {}, step() {}, endEpoch: (line) => console.log(`[${label}] ${line}`), stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} epoch {epoch} [{bar}] {value}/{total} steps | loss {loss} | {duration_formatted} (eta {eta_formatted})`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  return {
    startEpoch: (epoch, epochs, steps) => bar.start(steps, 0, { epoch: `${epoch}/${epochs}`, loss: '-' }),
    step: (done, loss) => bar.update(done, { loss: loss.toFixed(4) }),
    endEpoch: (line) => {
      bar.stop();
      console.log(`[${label}] ${line}`);
    },
    stop: () => bar.stop(),
  };
}
