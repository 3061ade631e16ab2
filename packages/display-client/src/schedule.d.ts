/** Types of schedule.js (kept in JavaScript so the kiosk page runs the same file). */
export interface SchedulableEntry {
  slot: number;
  kind: 'booking' | 'house' | 'emergency';
  bookingId: string | null;
  creativeId: string | null;
  type: string;
  mediaSha256: string;
  durationMs: number;
  validFrom: string;
  validUntil: string;
}
export interface SchedulablePlaylist<E extends SchedulableEntry = SchedulableEntry> {
  validFrom: string;
  validUntil: string;
  loop: { lengthMs: number; slotCount: number; slotMs: number; anchorAt: string };
  entries: E[];
}
export interface ScheduledEntry<E extends SchedulableEntry = SchedulableEntry> {
  entry: E;
  fromMs: number;
  untilMs: number;
}
export interface Schedule<P extends SchedulablePlaylist = SchedulablePlaylist> {
  playlist: P;
  anchorMs: number;
  lengthMs: number;
  slotMs: number;
  slotCount: number;
  validFromMs: number;
  validUntilMs: number;
  bySlot: ScheduledEntry<P['entries'][number]>[][];
}
export interface Showing<P extends SchedulablePlaylist = SchedulablePlaylist> {
  /** The entry's kind, or `idle` when no entry covers the instant (the display's own filler). */
  kind: 'booking' | 'house' | 'emergency' | 'idle';
  key: string;
  entry: P['entries'][number] | null;
  slot: number;
  slotStartMs: number;
  untilMs: number;
}
export function compileSchedule<P extends SchedulablePlaylist>(playlist: P): Schedule<P>;
export function slotAt(s: Schedule, t: number): { occurrence: number; slot: number; startMs: number; endMs: number };
export function showingAt<P extends SchedulablePlaylist>(s: Schedule<P>, t: number): Showing<P>;
