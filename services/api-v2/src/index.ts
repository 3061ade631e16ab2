export { startApiV2, API_V2_MIGRATIONS, type RunningApiV2 } from './server.ts';
export { loadApiV2Config, apiV2ConfigShape, type ApiV2Config } from './config.ts';
export { createApiV2App, type ApiV2Deps } from './app.ts';
