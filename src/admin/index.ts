export { type AdminOptions, createAdminHandler } from './handler.js';
export { escapeHtml } from './pages.js';
