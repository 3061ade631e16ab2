/**
 * A bar chart in plain SVG (no chart library, nothing fetched): bars with their values written
 * on them, and the same numbers as a table for screen readers and for reading exact values.
 */
export interface Bar {
  label: string;
  value: number;
  detail?: string;
}

export function BarChart({ title, bars, unit }: { title: string; bars: Bar[]; unit: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rowHeight = 28;
  const labelWidth = 150;
  const width = 560;
  const height = bars.length * rowHeight + 8;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.value} ${unit}`).join(', ')}`}>
        {bars.map((b, i) => {
          const w = Math.max(2, ((width - labelWidth - 70) * b.value) / max);
          const y = i * rowHeight + 4;
          return (
            <g key={b.label + i}>
              <text x={labelWidth - 8} y={y + 17} textAnchor="end" className="chart-label">
                {b.label}
              </text>
              <rect x={labelWidth} y={y + 3} width={w} height={rowHeight - 8} rx="3" className="chart-bar" />
              <text x={labelWidth + w + 6} y={y + 17} className="chart-value">
                {b.value.toLocaleString()}
              </text>
            </g>
          );
        })}
      </svg>
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col">{unit}</th>
          </tr>
        </thead>
        <tbody>
          {bars.map((b, i) => (
            <tr key={b.label + i}>
              <th scope="row">{b.label}</th>
              <td>{b.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
