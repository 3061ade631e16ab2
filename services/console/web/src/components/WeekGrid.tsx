import type { components } from '../api/schema.ts';

type Availability = components['schemas']['Availability'];

const HOUR = 3_600_000;

/**
 * A week of a display's availability: one column per day, one row per hour, each cell saying
 * how many of the loop's slots are free for that whole hour (a slot is taken if any hold or
 * booking touches the hour). Times are the viewer's local time.
 */
export function WeekGrid({ weekStart, availability }: { weekStart: Date; availability: Availability }) {
  const days = Array.from({ length: 7 }, (_, i) => new Date(weekStart.getFullYear(), weekStart.getMonth(), weekStart.getDate() + i));
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const blocks = availability.blocks.map((b) => ({ slot: b.slot, from: Date.parse(b.from), to: Date.parse(b.to), status: b.status }));
  const now = Date.now();

  const cell = (day: Date, hour: number) => {
    const start = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour).getTime();
    const end = start + HOUR;
    const taken = new Set<number>();
    let held = false;
    for (const b of blocks) {
      if (b.from < end && b.to > start) {
        taken.add(b.slot);
        if (b.status === 'held') held = true;
      }
    }
    return { free: availability.slotCount - taken.size, held, past: end <= now };
  };

  return (
    <div className="week-grid-wrap">
      <table className="week-grid">
        <caption>
          Free slots per hour, week of {weekStart.toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' })} (of {availability.slotCount} per loop)
          {availability.truncated && ' — more bookings than shown; some hours may be fuller'}
        </caption>
        <thead>
          <tr>
            <th scope="col">Hour</th>
            {days.map((d) => (
              <th scope="col" key={d.toISOString()}>
                {d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' })}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {hours.map((h) => (
            <tr key={h}>
              <th scope="row">{String(h).padStart(2, '0')}:00</th>
              {days.map((d) => {
                const c = cell(d, h);
                const level = c.past ? 'past' : c.free === 0 ? 'full' : c.free < availability.slotCount ? 'some' : 'free';
                return (
                  <td key={d.toISOString()} className={`slot slot-${level}`}>
                    {c.past ? <span className="sr-only">past</span> : c.free}
                    {!c.past && c.held && <span className="sr-only"> (some held)</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="legend">
        <span className="slot slot-free">all free</span> <span className="slot slot-some">partly booked</span> <span className="slot slot-full">fully booked</span>{' '}
        <span className="slot slot-past">past</span>
      </p>
    </div>
  );
}

/** Monday 00:00 local of the week containing `date`. */
export function mondayOf(date: Date): Date {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d;
}
