/**
 * The local-process toolkit: what the local stack, the local Spark job runner, the poller and the
 * tools need to run programs on this machine. One module per concern:
 * - run.ts: start a detached program with a log file; run a short or a long command.
 * - liveness.ts: is a process (pid + start token) or a process group still ours and alive.
 * - signals.ts: signal a process group; stop it with SIGTERM, then SIGKILL.
 * - files.ts: atomic (and optionally durable) file replacement.
 * - path.ts: PATH look-up, the JVM spark-submit runs.
 * - registry.ts: process groups started for a local stack by others (warm engines), stopped by `down`.
 * - wait.ts: polling and wakeable sleeps (plain pauses: `node:timers/promises`).
 */
export * from './files';
export * from './liveness';
export * from './path';
export * from './registry';
export * from './run';
export * from './signals';
export * from './wait';
