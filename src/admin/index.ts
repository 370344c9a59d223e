export { type AdminOptions, createAdminHandler } from './handler.js';
