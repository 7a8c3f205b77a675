/**
 * Import boundaries (README "Layout"): each top-level folder is one runtime boundary.
 * `npm run lint` runs this; a violation names the rule below.
 */
const PRODUCT = '^(core|workflows|activities|worker|lambda|client|stack|tools|deploy)/';
const PURE_CORE = '^core/(watermark|landing|planner|errors|s3-uri)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    {
      name: 'core-is-the-bottom',
      severity: 'error',
      comment: 'core/ holds shared contracts: it imports nothing of ours outside core/',
      from: { path: '^core/' },
      to: { path: PRODUCT, pathNot: '^core/' },
    },
    {
      name: 'workflows-are-deterministic',
      severity: 'error',
      comment: 'workflow code imports only workflows/ and the pure core modules at run time (types from anywhere)',
      from: { path: '^workflows/' },
      to: { path: PRODUCT, pathNot: ['^workflows/', PURE_CORE], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'lambda-stands-alone',
      severity: 'error',
      comment: 'the stream Lambda is deployed with only lambda/ and core/',
      from: { path: '^lambda/' },
      to: { path: PRODUCT, pathNot: ['^lambda/', '^core/'] },
    },
    {
      name: 'activities-below-the-worker',
      severity: 'error',
      comment: 'activities are used by the worker; they do not reach up into the CLI, the stack or the tools',
      from: { path: '^activities/' },
      to: { path: '^(client|stack|tools|worker|deploy)/' },
    },
    {
      name: 'worker-runs-activities-and-workflows',
      severity: 'error',
      from: { path: '^worker/' },
      to: { path: '^(client|stack|tools|deploy)/' },
    },
    {
      name: 'stack-is-local-machinery',
      severity: 'error',
      comment: 'the local stack (supervisor, set-up, poller, moto) runs the lambda handler but knows nothing of the CLI or the pipeline',
      from: { path: '^stack/' },
      to: { path: '^(client|tools|worker|workflows|activities|deploy)/' },
    },
    {
      name: 'only-the-cli-reaches-the-tools',
      severity: 'error',
      comment: 'demo/generate/chaos/freshness tools are registered by the CLI commands, never imported by the product',
      from: { path: PRODUCT, pathNot: ['^tools/', '^client/commands/', '^client/cli\\.ts$'] },
      to: { path: '^tools/' },
    },
    {
      name: 'tools-use-the-client-not-the-cli',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: ['^client/commands/', '^client/cli\\.ts$'] },
    },
    {
      name: 'declared-packages-only',
      severity: 'error',
      comment: 'every npm package imported is declared in package.json',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'product-runs-without-dev-dependencies',
      severity: 'error',
      comment: 'code that runs in the product (not tests, benches or the CDK app) uses only "dependencies"',
      from: { path: PRODUCT, pathNot: '^deploy/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'product-never-imports-tests',
      severity: 'error',
      from: { path: PRODUCT },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|deploy/cdk\\.out)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
