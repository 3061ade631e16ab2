import { runService } from '@marquee/service-kit';
import { loadApiV2Config } from './config.ts';
import { startApiV2 } from './server.ts';

await runService('api-v2', () => loadApiV2Config(), startApiV2);
