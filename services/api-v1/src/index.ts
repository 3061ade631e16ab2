export { startApiV1, type RunningApiV1 } from './server.ts';
export { loadApiV1Config, apiV1ConfigShape, type ApiV1Config } from './config.ts';
