/* Loading data for a page: one request per mount (and per reload()), never a retry loop. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

export type Loaded<T> =
  { kind: 'loading' } | { kind: 'ok'; data: T } | { kind: 'error'; error: ApiError };

export function useLoad<T>(fetcher: () => Promise<T>): [Loaded<T>, () => void, (data: T) => void] {
  const [state, setState] = useState<Loaded<T>>({ kind: 'loading' });
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    fetcherRef.current().then(
      (data) => {
        if (mine === generation.current) setState({ kind: 'ok', data });
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        const error =
          e instanceof ApiError
            ? e
            : new ApiError(0, 'client_error', 'Something went wrong in this page.', null);
        setState({ kind: 'error', error });
      },
    );
  }, []);

  const set = useCallback((data: T) => {
    generation.current++;
    setState({ kind: 'ok', data });
  }, []);

  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);

  return [state, reload, set];
}
