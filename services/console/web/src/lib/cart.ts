/** Displays picked for the next booking (browse → book); lives as long as the tab. */
import { useSyncExternalStore } from 'react';

export interface CartDisplay {
  id: string;
  name: string;
  currency: string;
  pricePerSlotHour: number;
}

let picked: CartDisplay[] = [];
const listeners = new Set<() => void>();
const set = (next: CartDisplay[]) => {
  picked = next;
  for (const l of listeners) l();
};

export const cart = {
  toggle(d: CartDisplay) {
    set(picked.some((p) => p.id === d.id) ? picked.filter((p) => p.id !== d.id) : [...picked, d]);
  },
  remove(id: string) {
    set(picked.filter((p) => p.id !== id));
  },
  clear() {
    set([]);
  },
};

export function useCart(): CartDisplay[] {
  return useSyncExternalStore(
    (l) => (listeners.add(l), () => listeners.delete(l)),
    () => picked,
  );
}
