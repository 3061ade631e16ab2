import { runService } from '@marquee/service-kit';
import { loadApiV1Config } from './config.ts';
import { startApiV1 } from './server.ts';

await runService('api-v1', () => loadApiV1Config(), startApiV1);
