// A progress bar for a run of known steps: what is running, how far the whole run is, and the
// time so far. On a terminal it redraws one line as the work goes; otherwise (make in CI, a pipe)
// it prints a line per step, so a log still shows where a run stopped.

const WIDTH = 30;

export class Progress {
  private step = 0;
  private label = "";
  private fraction = 0;
  private lastDrawn = 0;
  private readonly started = performance.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly steps: number) {}

  /** Starts the next step. */
  begin(label: string): void {
    this.step++;
    this.label = label;
    this.fraction = 0;
    this.draw();
  }

  /** How far the current step is, from 0 to 1. */
  update(fraction: number): void {
    this.fraction = Math.max(0, Math.min(1, fraction));
    // A terminal is redrawn at most 20 times a second.
    if (this.tty && performance.now() - this.lastDrawn > 50) this.draw();
  }

  /** A line of its own (a result, a warning), above the bar. */
  note(line: string): void {
    if (this.tty) process.stderr.write("\r\x1b[2K");
    process.stderr.write(`${line}\n`);
    if (this.tty) this.draw();
  }

  /** Ends the bar with a final line. */
  done(line: string): void {
    if (this.tty) process.stderr.write("\r\x1b[2K");
    process.stderr.write(`${line}\n`);
  }

  private draw(): void {
    this.lastDrawn = performance.now();
    const whole = Math.min(1, (this.step - 1 + this.fraction) / this.steps);
    const filled = Math.round(whole * WIDTH);
    const bar = `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${String(Math.round(whole * 100)).padStart(3)} %`;
    const line = `analysis ${bar} ${this.step}/${this.steps} ${elapsed(performance.now() - this.started)}  ${this.label}${this.fraction > 0 ? ` ${Math.round(this.fraction * 100)} %` : ""}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
