/**
 * AWS Lambda entry point (handler: `index.handler`). The configuration is read and validated on
 * cold start, so a wrong variable fails the function's init with a message naming it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createStreamHandler, loadHandlerConfig } from './handler';

export const handler = createStreamHandler(loadHandlerConfig(process.env), { s3: new S3Client({}) });
