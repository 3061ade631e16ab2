/** Types of schedule.js (kept in JavaScript so the kiosk page runs the same file). */
export interface SchedulableMedia {
  type: string;
  mediaSha256: string;
  durationMs: number;
}
export interface SchedulableEntry extends SchedulableMedia {
  slot: number;
  bookingId: string;
  creativeId: string;
  validFrom: string;
  validUntil: string;
}
export interface SchedulablePlaylist<E extends SchedulableEntry = SchedulableEntry, H extends SchedulableMedia = SchedulableMedia> {
  validFrom: string;
  validUntil: string;
  loop: { lengthMs: number; slotCount: number; slotMs: number; anchorAt?: string };
  entries: E[];
  house: H | null;
  emergency: H | null;
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
  kind: 'booked' | 'house' | 'emergency' | 'idle';
  key: string;
  media: P['entries'][number] | NonNullable<P['house']> | null;
  entry: P['entries'][number] | null;
  slot: number;
  slotStartMs: number;
  untilMs: number;
}
export function compileSchedule<P extends SchedulablePlaylist>(playlist: P): Schedule<P>;
export function slotAt(s: Schedule, t: number): { occurrence: number; slot: number; startMs: number; endMs: number };
export function showingAt<P extends SchedulablePlaylist>(s: Schedule<P>, t: number): Showing<P>;
