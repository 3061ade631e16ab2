/**
 * Heals missed `playlist.changed` messages (the bus delivers at most once): the server's sweep
 * re-reads, in batches, the latest versions of sessions not confirmed for `versionRecheckMs` and
 * pushes to displays found out of step.
 */
import type { DeviceServer } from './device-server.ts';
import type { Session } from './session.ts';

const VERSION_BATCH = 1_000;

export async function recheckVersions(server: DeviceServer, now: number): Promise<void> {
  const due: Session[] = [];
  for (const session of server.openSessions()) {
    if (now - session.push.checkedAt >= server.options.versionRecheckMs) due.push(session);
  }
  const { directory, logger } = server.deps;
  for (let i = 0; i < due.length; i += VERSION_BATCH) {
    const batch = due.slice(i, i + VERSION_BATCH);
    let versions: Record<string, number>;
    try {
      versions = await server.directoryLimit.run(() => directory.getPlaylistVersions(batch.map((s) => s.displayId)));
    } catch (err) {
      logger.warn({ err: String(err) }, 'playlist version re-check failed');
      return;
    }
    for (const session of batch) {
      if (!session.isOpen) continue;
      session.push.checkedAt = now;
      const v = versions[session.displayId];
      if (typeof v === 'number' && v > session.push.latest) {
        session.push.know(v);
        void session.push.pushIfOutOfStep(true);
      }
    }
  }
}
