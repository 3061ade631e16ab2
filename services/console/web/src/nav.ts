import type { User } from './api/session.ts';

export interface NavEntry {
  to: string;
  label: string;
  /**
   * Set for screens whose API has not landed yet: the entry is reserved here (route, place in the
   * menu) and hidden until the follow-up builds the screen and removes this field.
   */
  awaiting?: string;
}

export const NAVIGATION: Record<User['role'], NavEntry[]> = {
  advertiser: [
    { to: '/displays', label: 'Find displays' },
    { to: '/creatives', label: 'Creatives' },
    { to: '/book', label: 'Book' },
    { to: '/bookings', label: 'Bookings & reports' },
  ],
  operator: [
    { to: '/operator/displays', label: 'My displays' },
    { to: '/operator/bookings', label: 'Bookings & revenue' },
    { to: '/operator/review', label: 'Review queue', awaiting: 'approval API (approve/reject creatives per display)' },
    { to: '/operator/house-content', label: 'House content', awaiting: 'house content API' },
    { to: '/operator/emergency', label: 'Emergency override', awaiting: 'emergency override API' },
  ],
  admin: [
    { to: '/admin/displays', label: 'All displays' },
    { to: '/admin/users', label: 'Users' },
    { to: '/bookings', label: 'All bookings' },
  ],
};

export const homeFor = (role: User['role']) => NAVIGATION[role][0]!.to;
