/**
 * AWS Lambda entry point (handler: `index.handler`). The configuration is read and validated on
 * cold start, so a wrong variable fails the function's init with a message naming it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describeError, isUserError } from '../core/errors';
import { createStreamHandler, loadHandlerConfig, type HandlerConfig } from './handler';

function configFromEnvironment(): HandlerConfig {
  try {
    return loadHandlerConfig(process.env);
  } catch (err) {
    // Lambda shows an init error's message only: put the hint into it.
    if (isUserError(err))
      throw new Error(`stream handler configuration: ${describeError(err).replace('\n  → ', '; ')}`, { cause: err });
    throw err;
  }
}

export const handler = createStreamHandler(configFromEnvironment(), { s3: new S3Client({}) });
