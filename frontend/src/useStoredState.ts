/** A string setting kept in localStorage, so it survives reloads (storage errors are ignored). */
import { useCallback, useState } from "react";

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function useStoredState(key: string, initial: () => string): [string, (v: string) => void] {
  const [value, setValue] = useState<string>(() => {
    const stored = read(key);
    if (stored !== null) return stored;
    const fresh = initial();
    try {
      window.localStorage.setItem(key, fresh);
    } catch {
      // Private mode or a full quota: the value lives for this page only.
    }
    return fresh;
  });
  const update = useCallback(
    (v: string) => {
      setValue(v);
      try {
        window.localStorage.setItem(key, v);
      } catch {
        // As above.
      }
    },
    [key],
  );
  return [value, update];
}
