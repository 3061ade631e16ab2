export { startAccount, ACCOUNT_MIGRATIONS, type RunningAccount } from './server.ts';
export { loadAccountConfig, accountConfigShape, type AccountConfig } from './config.ts';
