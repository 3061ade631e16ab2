export { startConsole, type RunningConsole } from './server.ts';
export { loadConsoleConfig, consoleConfigShape, DEFAULT_STATIC_DIR, type ConsoleConfig } from './config.ts';
export { createConsoleApp, CONTENT_SECURITY_POLICY } from './app.ts';
