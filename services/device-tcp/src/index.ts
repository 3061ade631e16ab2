export { startDeviceTcp, type RunningDeviceTcp } from './server.ts';
export { loadDeviceTcpConfig, deviceTcpConfigShape, type DeviceTcpConfig } from './config.ts';
export { DeviceServer, defaultDeviceServerOptions, type DeviceServerOptions } from './device-server.ts';
export { HttpDisplayDirectory } from './directory-http.ts';
export * from './directory.ts';
