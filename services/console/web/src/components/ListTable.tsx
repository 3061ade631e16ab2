import type { ReactNode, TableHTMLAttributes } from 'react';

/**
 * The console's list table: a caption (for screen readers only when `captionHidden`), one
 * column header per name, and the rows given as children.
 */
export function ListTable({
  caption,
  captionHidden = false,
  columns,
  children,
  ...table
}: { caption: ReactNode; captionHidden?: boolean; columns: readonly string[]; children: ReactNode } & TableHTMLAttributes<HTMLTableElement>) {
  return (
    <table className="list" {...table}>
      <caption className={captionHidden ? 'sr-only' : undefined}>{caption}</caption>
      <thead>
        <tr>
          {columns.map((name) => (
            <th scope="col" key={name}>
              {name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
