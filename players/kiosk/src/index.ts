export { startPlayer, type PlayerConfig, type RunningPlayer } from './player.ts';
export { MediaCache, MediaError } from './media-cache.ts';
export { FilePlayStore } from './play-journal.ts';
export { PageServer, htmlCsp, sniff, type ShowingEvent } from './page-server.ts';
export { parsePlayerArgs, PLAYER_USAGE, type PlayerArgs } from './cli.ts';
