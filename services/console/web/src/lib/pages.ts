import { useInfiniteQuery, type QueryKey } from '@tanstack/react-query';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A cursor-paginated list (the API's `{ items, nextCursor }`): pages load on `fetchNextPage`, and
 * `items` are all loaded pages' items in order. `fetchPage` gets the cursor (undefined: first page).
 */
export function usePagedList<T>(queryKey: QueryKey, fetchPage: (cursor: string | undefined) => Promise<Page<T>>, opts: { refetchInterval?: number | false } = {}) {
  const query = useInfiniteQuery({
    queryKey,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: opts.refetchInterval,
  });
  return { ...query, items: query.data?.pages.flatMap((p) => p.items) ?? [] };
}

/** The query parameter for a page after the first. */
export const cursorParam = (cursor: string | undefined) => (cursor ? { cursor } : {});
