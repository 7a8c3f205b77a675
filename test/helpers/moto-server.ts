import { testEnvironment } from './stack';

/**
 * The test stack's moto (started once per run by test/run.ts) in the shape the data tests use:
 * its endpoint, and the environment a CLI child process needs to reach the same stack.
 */
export interface MotoForTest {
  endpoint: string;
  region: string;
  stateDir: string;
  /** Environment for a CLI child process: DDB_LAKE_STATE of the test stack. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function stackMoto(): Promise<MotoForTest> {
  const env = testEnvironment();
  return {
    endpoint: env.aws.endpoint,
    region: env.aws.region,
    stateDir: env.stateDir,
    env: {
      ...process.env,
      DDB_LAKE_STATE: env.stateDir,
      DDB_LAKE_ENV: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // The stack belongs to the test run, not to one test file.
    async stop() {},
  };
}
