/** Progress lines of the setup, on stderr so that a command's own stdout (e.g. JSON) stays clean. */
export interface Progress {
  line(text: string): void;
}

export const stderrProgress: Progress = {
  line: (text) => process.stderr.write(`setup: ${text}\n`),
};

export const silentProgress: Progress = { line: () => undefined };

export function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
