/** Types of build-web.mjs (plain JS so the image build and postinstall run it with bare node). */
export function sourceHash(): string;
export function buildConsole(options?: { outDir?: string; force?: boolean; log?: (line: string) => void }): Promise<'built' | 'up to date'>;
