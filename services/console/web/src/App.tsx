import { useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { session, type User } from './api/session.ts';
import { useCart } from './lib/cart.ts';
import { LiveUpdatesProvider } from './lib/live.ts';
import { homeFor, NAVIGATION } from './nav.ts';
import { LoginScreen, SignupScreen } from './screens/Auth.tsx';
import { BrowseDisplays } from './screens/advertiser/BrowseDisplays.tsx';
import { DisplayDetail } from './screens/advertiser/DisplayDetail.tsx';
import { Creatives } from './screens/advertiser/Creatives.tsx';
import { Book } from './screens/advertiser/Book.tsx';
import { Bookings } from './screens/advertiser/Bookings.tsx';
import { BookingDetail } from './screens/advertiser/BookingDetail.tsx';
import { OperatorDisplays } from './screens/operator/OperatorDisplays.tsx';
import { OperatorDisplay } from './screens/operator/OperatorDisplay.tsx';
import { OperatorBookings } from './screens/operator/OperatorBookings.tsx';
import { ReviewQueue } from './screens/operator/ReviewQueue.tsx';
import { HouseContent } from './screens/operator/HouseContent.tsx';
import { EmergencyOverride } from './screens/operator/Emergency.tsx';
import { AdminDisplays, AdminUsers } from './screens/admin/Admin.tsx';

export function useUser(): User | null {
  return useSyncExternalStore(session.subscribe, () => session.user);
}

export function App() {
  const user = useUser();
  const [restoring, setRestoring] = useState(() => !session.user && session.hasStoredSession());
  useEffect(() => {
    if (restoring) void session.refresh().finally(() => setRestoring(false));
  }, [restoring]);

  if (restoring) {
    return (
      <main className="center">
        <p role="status">Restoring your session…</p>
      </main>
    );
  }
  if (!user) {
    return (
      <Routes>
        <Route path="/signup" element={<SignupScreen />} />
        <Route path="*" element={<LoginScreen />} />
      </Routes>
    );
  }
  const role = user.role;
  const is = (...roles: User['role'][]) => roles.includes(role);
  return (
    // One stream per signed-in user; a different user gets a new one.
    <LiveUpdatesProvider key={user.id}>
      <Shell user={user}>
        <Routes>
          <Route path="/" element={<Navigate to={homeFor(role)} replace />} />
          <Route path="/login" element={<Navigate to={homeFor(role)} replace />} />
          <Route path="/signup" element={<Navigate to={homeFor(role)} replace />} />
          {is('advertiser', 'admin') && (
            <>
              <Route path="/displays" element={<BrowseDisplays />} />
              <Route path="/displays/:id" element={<DisplayDetail />} />
              <Route path="/book" element={<Book />} />
            </>
          )}
          {/* Operators create creatives too: house content and emergency overrides. */}
          <Route path="/creatives" element={<Creatives />} />
          <Route path="/bookings" element={<Bookings />} />
          <Route path="/bookings/:id" element={<BookingDetail />} />
          {is('operator', 'admin') && (
            <>
              <Route path="/operator/displays" element={<OperatorDisplays />} />
              <Route path="/operator/displays/:id" element={<OperatorDisplay />} />
              <Route path="/operator/bookings" element={<OperatorBookings />} />
              <Route path="/operator/review" element={<ReviewQueue />} />
              <Route path="/operator/house-content" element={<HouseContent />} />
              <Route path="/operator/emergency" element={<EmergencyOverride />} />
            </>
          )}
          {is('admin') && (
            <>
              <Route path="/admin/displays" element={<AdminDisplays />} />
              <Route path="/admin/users" element={<AdminUsers />} />
            </>
          )}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Shell>
    </LiveUpdatesProvider>
  );
}

function Shell({ user, children }: { user: User; children: ReactNode }) {
  const cart = useCart();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand" aria-label="Marquee console">
          <span aria-hidden="true">▣</span> Marquee
        </span>
        <nav aria-label="Main">
          <ul>
            {NAVIGATION[user.role].map((entry) => (
              <li key={entry.to}>
                <NavLink to={entry.to}>
                  {entry.label}
                  {entry.to === '/book' && cart.length > 0 && <span className="count"> ({cart.length})</span>}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {user.username} <span className="muted">({user.role})</span>
          </span>
          <button type="button" className="link" onClick={() => void session.logout()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        This address is not part of the console. Use the menu above, or go to the <a href="/">start page</a>.
      </p>
    </section>
  );
}
