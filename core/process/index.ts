/**
 * The local-process toolkit: what the local stack, the local Spark job runner, the poller and the
 * tools need to run programs on this machine. One module per concern:
 * - run.ts: start a detached program with a log file; run a short or a long command.
 * - liveness.ts: is a process (pid + start token) or a process group still ours and alive.
 * - signals.ts: signal a process group; stop it with SIGTERM, then SIGKILL.
 * - files.ts: atomic (and optionally durable) file replacement.
 * - path.ts: PATH look-up, the JVM spark-submit runs.
 * - wait.ts: polling and wakeable sleeps (plain pauses: `node:timers/promises`).
 */
export * from './files';
export * from './liveness';
export * from './path';
export * from './run';
export * from './signals';
export * from './wait';
