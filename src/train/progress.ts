/**
 * Training progress: a one-line progress bar on a terminal (step, loss, bits-per-byte, bytes/s, ETA), plain
 * log lines otherwise (pipes, CI logs, tests). Bits per byte of a training step = loss / ln 2 (paper eq. 18,
 * with the mean loss over the batch's byte targets).
 */
export interface StepRecord {
  phase: string;
  step: number;
  loss: number;
  bpb: number;
  gradNorm: number;
  lr: number;
  bytesPerSec: number;
  elapsedSec: number;
}

export interface ProgressOptions {
  /** draw a bar (default: stream.isTTY) */
  tty?: boolean;
  /** plain-line mode: print every n steps (and the last); default 10 */
  every?: number;
  /** silence everything (tests) */
  quiet?: boolean;
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class Progress {
  private readonly tty: boolean;
  private readonly every: number;
  private readonly out: NonNullable<ProgressOptions['stream']>;
  private drawn = false;
  private readonly t0 = performance.now();
  private lastTenth = -1;

  constructor(readonly label: string, readonly total: number, private readonly opts: ProgressOptions = {}) {
    this.out = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean((this.out as { isTTY?: boolean }).isTTY);
    this.every = opts.every ?? 10;
  }

  update(r: StepRecord, startStep: number): void {
    if (this.opts.quiet) return;
    const done = r.step + 1;
    const rate = (done - startStep) / Math.max(r.elapsedSec, 1e-9);
    const eta = (this.total - done) / rate;
    const stats = `loss ${r.loss.toFixed(4)}  bpb ${r.bpb.toFixed(3)}  ${Math.round(r.bytesPerSec)} B/s  ETA ${formatDuration(eta)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * done) / this.total);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.out.write(`\r\x1b[2K${this.label} ${bar} ${done}/${this.total}  ${stats}`);
      this.drawn = true;
    } else if (done % this.every === 0 || done === this.total || done === startStep + 1) {
      this.out.write(`${this.label} step ${done}/${this.total}  ${stats}  lr ${r.lr.toExponential(2)}  |g| ${r.gradNorm.toFixed(3)}\n`);
    }
  }

  /**
   * Progress of work counted in units (e.g. the bytes of a text the entropy model has read): a bar with the rate
   * and ETA since this Progress was made on a terminal, else a line at every tenth of the total.
   */
  advance(done: number, unit = 'B'): void {
    if (this.opts.quiet) return;
    const sec = (performance.now() - this.t0) / 1000;
    const rate = done / Math.max(sec, 1e-9);
    const stats = `${done}/${this.total} ${unit}  ${Math.round(rate)} ${unit}/s  ETA ${formatDuration((this.total - done) / rate)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * done) / this.total);
      this.out.write(`\r\x1b[2K${this.label} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${stats}`);
      this.drawn = true;
    } else {
      const tenth = Math.floor((10 * done) / this.total);
      if (tenth !== this.lastTenth) this.out.write(`${this.label} ${stats}\n`);
      this.lastTenth = tenth;
    }
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  log(line: string): void {
    if (this.opts.quiet) return;
    this.finish();
    this.out.write(line + '\n');
  }
}
