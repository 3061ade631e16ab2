import type { Sql, TokenVerifier } from '@marquee/service-kit';
import { createRouter } from '../openapi.ts';
import { mediaFileRoutes } from './media-routes.ts';
import { uploadRoutes } from './upload-routes.ts';

export interface MediaDeps {
  sql: Sql;
  verifier: TokenVerifier;
  publicBaseUrl: string;
  maxUploadBytes: number;
}

/** Resumable uploads (advertisers) and content-addressed media downloads (public). */
export function mediaRoutes(deps: MediaDeps) {
  const app = createRouter();
  app.route('/', uploadRoutes(deps));
  app.route('/', mediaFileRoutes(deps));
  return app;
}
