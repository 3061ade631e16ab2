/**
 * The API's types: those of @marquee/api-client, generated once from the api-v2 app definition
 * (packages/api-client/scripts/generate.ts) at npm install and before every typecheck.
 */
export type { components, operations, paths } from '@marquee/api-client';
