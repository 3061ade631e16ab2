import { runService } from '@marquee/service-kit';
import { loadAccountConfig } from './config.ts';
import { startAccount } from './server.ts';

await runService('account', () => loadAccountConfig(), startAccount);
