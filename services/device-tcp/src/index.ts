export { startDeviceTcp, type RunningDeviceTcp } from './server.ts';
export { loadDeviceTcpConfig, deviceTcpConfigShape, type DeviceTcpConfig } from './config.ts';
export { DeviceServer } from './device-server.ts';
export { defaultDeviceServerOptions, type DeviceServerOptions } from './options.ts';
export { HttpDisplayDirectory } from './directory-http.ts';
export * from './directory.ts';
