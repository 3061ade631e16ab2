import type { ReactNode } from 'react';
import { ErrorMessage, Loading } from './ui.tsx';

/** What `PagedList` needs of a `usePagedList` result (its `items` filtered, if need be). */
interface PagedListState {
  items: readonly unknown[];
  error: unknown;
  isPending: boolean;
  isSuccess: boolean;
  hasNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/**
 * A cursor-paged list on a page: why it failed, that it loads, what to do while it is empty, its
 * content once it has items, and a button for the next page when `moreLabel` is given.
 */
export function PagedList({
  list,
  loadingWhat,
  errorTitle,
  empty,
  moreLabel,
  children,
}: {
  list: PagedListState;
  loadingWhat: string;
  errorTitle: string;
  empty: ReactNode;
  moreLabel?: string;
  children: ReactNode;
}) {
  return (
    <>
      <ErrorMessage error={list.error} title={errorTitle} />
      {list.isPending && <Loading what={loadingWhat} />}
      {list.isSuccess && list.items.length === 0 && empty}
      {list.items.length > 0 && children}
      {moreLabel && list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()}>
          {moreLabel}
        </button>
      )}
    </>
  );
}
