import { runService } from '@marquee/service-kit';
import { loadConsoleConfig } from './config.ts';
import { startConsole } from './server.ts';

await runService('console', () => loadConsoleConfig(), startConsole);
