import { runService } from '@marquee/service-kit';
import { loadDeviceTcpConfig } from './config.ts';
import { startDeviceTcp } from './server.ts';

await runService('device-tcp', () => loadDeviceTcpConfig(), startDeviceTcp);
