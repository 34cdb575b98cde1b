import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A static file of the dashboard, served by the gateway (no front-end build step). */
export interface DashboardAsset {
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly contentType: string;
  /** The file's bytes, read once. */
  body(): Buffer;
}

// dist/dashboard/assets.js → gateway/static/
const STATIC_DIR = join(__dirname, '..', '..', 'static');

function asset(
  path: string,
  file: string,
  operationId: string,
  summary: string,
  contentType: string,
): DashboardAsset {
  let bytes: Buffer | undefined;
  return {
    path,
    operationId,
    summary,
    contentType,
    body: () => (bytes ??= readFileSync(join(STATIC_DIR, file))),
  };
}

/** The dashboard: the licence tree of a DSI, its timeline and part lookup, updated by server-sent events. */
export const DASHBOARD_ASSETS: readonly DashboardAsset[] = [
  asset('/dashboard', 'dashboard.html', 'dashboard', 'The dashboard (HTML)', 'text/html; charset=utf-8'),
  asset(
    '/dashboard/app.js',
    'dashboard.js',
    'dashboardScript',
    'The dashboard’s script',
    'text/javascript; charset=utf-8',
  ),
  asset(
    '/dashboard/app.css',
    'dashboard.css',
    'dashboardStyle',
    'The dashboard’s style sheet',
    'text/css; charset=utf-8',
  ),
];
