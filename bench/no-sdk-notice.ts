// Imported first by every bench script, before the AWS SDK loads (as bin/ddb-lake.js does for the
// CLI): we support Node 20, and the SDK's notice that it will need Node 22 only clutters the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export {};
