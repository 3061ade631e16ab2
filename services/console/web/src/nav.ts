import type { User } from './api/session.ts';

export interface NavEntry {
  to: string;
  label: string;
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
    { to: '/operator/review', label: 'Review queue' },
    { to: '/creatives', label: 'My creatives' },
    { to: '/operator/house-content', label: 'House content' },
    { to: '/operator/emergency', label: 'Emergency override' },
  ],
  admin: [
    { to: '/admin/displays', label: 'All displays' },
    { to: '/admin/users', label: 'Users' },
    { to: '/bookings', label: 'All bookings' },
  ],
};

export const homeFor = (role: User['role']) => NAVIGATION[role][0]!.to;
