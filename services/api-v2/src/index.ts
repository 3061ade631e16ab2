export { startApiV2, API_V2_MIGRATIONS, type RunningApiV2 } from './server.ts';
export { loadApiV2Config, apiV2ConfigShape, type ApiV2Config } from './config.ts';
