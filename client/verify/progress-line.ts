/**
 * One live status line on stderr: rewritten in place on a terminal; when stderr is a file or a pipe,
 * a line at most every `everySeconds` (so logs stay readable).
 */
export class ProgressLine {
  private readonly tty: boolean;
  private shown = false;
  private lastPrintedMs = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everySeconds = 10,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(text: string): void {
    if (this.tty) {
      const width = this.stream.columns ?? 160;
      this.stream.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
      this.shown = true;
    } else if (Date.now() - this.lastPrintedMs >= this.everySeconds * 1000) {
      this.stream.write(`${text}\n`);
      this.lastPrintedMs = Date.now();
    }
  }

  /** A permanent line (above the live one). */
  log(text: string): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[2K');
    this.stream.write(`${text}\n`);
    this.shown = false;
  }

  end(): void {
    if (this.tty && this.shown) this.stream.write('\n');
    this.shown = false;
  }
}
