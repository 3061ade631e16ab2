import type { HandshakeAnswer, HandshakeHello, Sql } from '@marquee/service-kit';
import { credentialVerdict, hashDeviceSecret, type CredentialRow } from '../displays/credentials.ts';
import { buildPlaylists } from '../playlists/build.ts';
import { takePendingCommands, toDeviceCommand, type CommandRow } from './commands-sql.ts';
import { isUuid } from '../ids.ts';

/**
 * Everything a display's hello needs, for many hellos at once (a reconnect storm is thousands in a
 * second): credentials checked, pending commands taken and the playlists of displays showing another version
 * (older, or newer after a restored database or a reused credential) built, in a
 * few set-based queries instead of several round trips per display. Answers are in hello order.
 * Secrets are hashed for every hello, real id or not, so timing does not say which ids exist, and
 * are checked before the status so an id alone reveals nothing about a display's state.
 */
export async function handshakeDisplays(sql: Sql, hellos: readonly HandshakeHello[], publicBaseUrl: string): Promise<HandshakeAnswer[]> {
  const presented = hellos.map((h) => hashDeviceSecret(h.secret));
  const ids = [...new Set(hellos.map((h) => h.displayId).filter(isUuid))];
  const rows = ids.length
    ? await sql<CredentialRow[]>`select id, status, playlist_version, credential_hash from displays where id = any(${ids}::uuid[])`
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));

  const answers: HandshakeAnswer[] = hellos.map((hello, i) => {
    const verdict = credentialVerdict(isUuid(hello.displayId) ? byId.get(hello.displayId.toLowerCase()) : undefined, presented[i]!);
    return verdict.ok ? { ...verdict, commands: [] } : verdict;
  });

  const accepted = answers.flatMap((a, i) => (a.ok ? [{ answer: a, hello: hellos[i]! }] : []));
  if (accepted.length === 0) return answers;
  const acceptedIds = [...new Set(accepted.map((a) => a.answer.display.id))];
  const outOfStep = [...new Set(accepted.filter((a) => a.answer.display.playlistVersion !== a.hello.playlistVersion).map((a) => a.answer.display.id))];
  const [commands, playlists] = await Promise.all([
    takePendingCommands(sql, acceptedIds),
    buildPlaylists(sql, outOfStep, publicBaseUrl),
  ]);
  const commandsOf = new Map<string, CommandRow[]>();
  for (const c of commands) (commandsOf.get(c.display_id) ?? commandsOf.set(c.display_id, []).get(c.display_id)!).push(c);
  for (const { answer, hello } of accepted) {
    answer.commands = (commandsOf.get(answer.display.id) ?? []).map(toDeviceCommand);
    const playlist = playlists.get(answer.display.id);
    // The snapshot of the build may be newer than the version read above: report the newer one.
    if (playlist && playlist.version !== hello.playlistVersion) {
      answer.playlist = playlist;
      answer.display.playlistVersion = Math.max(answer.display.playlistVersion, playlist.version);
    }
  }
  return answers;
}
