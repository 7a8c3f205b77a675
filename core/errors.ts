/**
 * An error caused by the user's input or environment. Its message is printed as is (no stack
 * trace) and should say what to fix. Everything else is a bug and is printed with its stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** One line telling the user what to do about it. */
    readonly hint?: string,
    /** Process exit code for the CLI. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** One line (or two, with a hint) for an error shown to a user. */
export function describeError(err: unknown): string {
  if (isUserError(err)) return err.hint ? `${err.message}\n  → ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
